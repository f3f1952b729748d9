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
        case.is_public = action == "unpublish"  # 撤销曝光 needs a published case, 曝光 one that is not
        want = expected(action, status, role, inside)
        try:
            transition_check(issue=case, action=action, user=user)
            got = True
        except Conflict as exc:
            got = False
            assert exc.status == 409 and exc.field == "action" and exc.message
            why = exc.message
        assert got == want, (action, status, role, inside, why if not got else "")
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


# The policy written out by hand (DOMAIN.md: 核实/立案, 交办 and 督办 by supervisors, 整改 by the
# responsible unit, 复查验收 by supervisors or the cell's officer, 曝光 by district and city),
# so that a wrong edit of the table fails here instead of changing both sides of the check.
CITY, DISTRICT, TOWNSHIP = "city_supervisor", "district_supervisor", "township_supervisor"
OFFICER, UNIT, PLANNER, ANALYST = "grid_officer", "responsible_unit", "zoning_planner", "imagery_analyst"
CONTACT = "enterprise_contact"  # an enterprise's 环保联络员 rectifies cases dispatched to its enterprise
SUPERVISORS = {CITY, DISTRICT, TOWNSHIP}
POLICY = {
    # action:               (from statuses,                                          who may)
    "verify": ({"reported"}, SUPERVISORS),
    "reject": ({"reported"}, SUPERVISORS),
    "mark_duplicate": ({"reported", "verified"}, SUPERVISORS),
    "dispatch": ({"verified"}, SUPERVISORS),
    "start_rectification": ({"dispatched"}, {UNIT, CONTACT}),
    "submit_rectification": ({"dispatched", "rectifying"}, {UNIT, CONTACT}),
    "accept": ({"submitted"}, SUPERVISORS | {OFFICER}),
    "fail": ({"submitted"}, SUPERVISORS | {OFFICER}),
    "set_deadline": ({"dispatched", "rectifying", "submitted"}, SUPERVISORS),
    "publish": ({"verified", "dispatched", "rectifying", "submitted", "accepted"}, {CITY, DISTRICT}),
    "unpublish": ({"verified", "dispatched", "rectifying", "submitted", "accepted"}, {CITY, DISTRICT}),
    "reopen": ({"accepted", "rejected", "duplicate"}, SUPERVISORS),
}
TARGET = {
    "verify": "verified",
    "reject": "rejected",
    "mark_duplicate": "duplicate",
    "dispatch": "dispatched",
    "start_rectification": "rectifying",
    "submit_rectification": "submitted",
    "accept": "accepted",
    "fail": "rectifying",
    "set_deadline": None,
    "publish": None,
    "unpublish": None,
    "reopen": "verified",
}


def test_the_table_says_what_the_policy_says():
    assert sorted(USER_ACTIONS) == sorted(POLICY)
    for action, (sources, roles) in POLICY.items():
        t = TRANSITIONS[action]
        assert set(t.sources) == sources, action
        assert set(t.roles) == roles, action
        assert t.to == TARGET[action], action
    # Nobody without a patrol duty takes any step of the loop; the unit only rectifies.
    for role in (PLANNER, ANALYST):
        assert not [a for a in USER_ACTIONS if role in TRANSITIONS[a].roles]
    assert [a for a in USER_ACTIONS if UNIT in TRANSITIONS[a].roles] == ["start_rectification", "submit_rectification"]
    # The officer's accept/fail needs their own cell (or their own report); the unit's steps its own unit.
    assert TRANSITIONS["accept"].roles[OFFICER] == TRANSITIONS["fail"].roles[OFFICER] == "grid"
    assert TRANSITIONS["start_rectification"].roles[UNIT] == "unit"
    assert [a for a in USER_ACTIONS if CONTACT in TRANSITIONS[a].roles] == [
        "start_rectification",
        "submit_rectification",
    ]
    assert TRANSITIONS["submit_rectification"].roles[CONTACT] == "unit"


# Single cells, the answer written down: role, case status, action, answer.
LITERAL_CELLS = """
    township_supervisor  reported    verify               allowed
    grid_officer         reported    verify               refused
    responsible_unit     verified    dispatch             refused
    district_supervisor  verified    dispatch             allowed
    responsible_unit     dispatched  start_rectification  allowed
    district_supervisor  dispatched  start_rectification  refused
    grid_officer         submitted   accept               allowed
    responsible_unit     submitted   accept               refused
    township_supervisor  accepted    publish              refused
    city_supervisor      accepted    publish              allowed
    zoning_planner       reported    verify               refused
    imagery_analyst      submitted   accept               refused
    city_supervisor      dispatched  verify               refused
    enterprise_contact   dispatched  start_rectification  allowed
    enterprise_contact   submitted   accept               refused
    enterprise_contact   reported    verify               refused
"""


@pytest.mark.parametrize("role,status,action,answer", [line.split() for line in LITERAL_CELLS.strip().splitlines()])
def test_literal_cases_of_the_policy(case, unit, officer_cell, role, status, action, answer):
    """Single cells with the answer written down, on a real case in the actor's jurisdiction."""
    area = AdminArea.objects.get(level="city") if role == CITY else case.township
    user = person(role, area=area, unit=unit, cell=officer_cell, name="literal")
    case.status = status
    case.is_public = False
    try:
        transition_check(issue=case, action=action, user=user)
        got = True
    except Conflict:
        got = False
    assert got is (answer == "allowed")
