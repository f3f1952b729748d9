"""The transition table, tested exhaustively: every action × state × role × jurisdiction."""

from __future__ import annotations

import itertools

import pytest

from gridgov.errors import Conflict
from gridgov.models import AdminArea, GridAssignment, Role, User
from patrol.actions.transitions import allowed_actions, transition_check
from patrol.models import Status
from patrol.transitions import TRANSITIONS, USER_ACTIONS


@pytest.fixture
def case(report, unit):
    issue = report()
    issue.responsible_unit = unit
    return issue


def person(role: str, *, area: AdminArea | None, unit=None, cell=None, name: str = "") -> User:
    u = User.objects.create(username=f"t_{role}_{name}", role=role, organization=unit)
    if area is not None:
        u.scope.set([area])
    if cell is not None:
        GridAssignment.objects.create(cell=cell, user=u)
    return u


def expected(action: str, status: str, role: str, inside: bool) -> bool:
    t = TRANSITIONS[action]
    return status in t.sources and role in t.roles and inside


def test_every_action_state_role_and_jurisdiction(case, unit, officer_cell):
    from gridgov.models import Organization

    other_district = AdminArea.objects.filter(level="district").exclude(pk=case.district_id).first()
    other_unit = Organization.objects.exclude(pk=unit.pk).first()
    other_cell = officer_cell.township.grid_cells.exclude(pk=officer_cell.pk).first()
    home_area = {Role.CITY_SUPERVISOR: AdminArea.objects.get(level="city"), Role.DISTRICT_SUPERVISOR: case.district}
    actors = []
    for role in Role.values:
        area_in = home_area.get(role, case.township)
        actors.append((role, True, person(role, area=area_in, unit=unit, cell=officer_cell, name="in")))
        area_out = None if role == Role.CITY_SUPERVISOR else other_district
        actors.append((role, False, person(role, area=area_out, unit=other_unit, cell=other_cell, name="out")))
    checked = 0
    for action, status, (role, inside, user) in itertools.product(USER_ACTIONS, Status.values, actors):
        case.status = status
        case.is_public = False
        want = expected(action, status, role, inside)
        try:
            transition_check(issue=case, action=action, user=user)
            got = True
        except Conflict as exc:
            got = False
            assert exc.status == 409 and exc.field == "action" and exc.message
        assert got == want, (action, status, role, inside)
        checked += 1
    assert checked == len(USER_ACTIONS) * len(Status.values) * len(Role.values) * 2


def test_conflict_message_says_why(case, users):
    case.status = Status.ACCEPTED
    with pytest.raises(Conflict, match="验收通过"):
        transition_check(issue=case, action="dispatch", user=users["township_supervisor"])
    case.status = Status.REPORTED
    with pytest.raises(Conflict, match="网格员"):
        transition_check(issue=case, action="verify", user=users["officer"])


def test_allowed_actions_lists_only_legal_ones(case, users):
    case.status = Status.REPORTED
    assert set(allowed_actions(issue=case, user=users["township_supervisor"])) == {"verify", "reject", "mark_duplicate"}
    assert allowed_actions(issue=case, user=users["officer"]) == []


def test_escalation_is_not_a_user_action():
    assert "escalate" not in USER_ACTIONS and TRANSITIONS["escalate"].roles == {}
