"""Plans through the API: the contract shapes, commit–reveal, avoidance, and every bad input
(each a clear 4xx naming the problem, with nothing changed)."""

import hashlib

import pytest

from credit.models import CreditStanding
from gridgov.models import GridAssignment, User
from inspections.draw import canonical
from inspections.models import DeclaredConflict, Inspection, Plan, PlanEvent
from inspections.selectors import eligible_inspectors, plan_roster

from .conftest import plan_body


@pytest.fixture
def sup(user_api):
    return user_api("district_supervisor")


def create(sup, township, people=None, **kw):
    if people:
        kw["inspectors"] = [u.username for u in people]
    r = sup.post("/api/inspections/plans/", plan_body(township.code, **kw), format="json")
    assert r.status_code == 201, r.content
    return r.json()["id"]


def test_create_commit_draw_contract(sup, township, firms, roster):
    key = firms(8, "key")
    simple = firms(4, "simplified")
    CreditStanding.objects.create(credit_code=simple[0].credit_code, score=4, level="yellow", level_since="2026-06-01")
    pk = create(sup, township, roster(4))
    r = sup.post(f"/api/inspections/plans/{pk}/commit/")
    assert r.status_code == 200, r.content
    plan = Plan.objects.get(pk=pk)
    assert r.json()["seed_sha256"] == hashlib.sha256(plan.seed.encode("utf-8")).hexdigest()
    assert r.json()["inputs_sha256"] == hashlib.sha256(canonical(plan.inputs)).hexdigest()
    pools = plan.inputs["pools"]
    assert pools[0]["sources"] == [simple[0].credit_code]  # the special pool: yellow
    assert pools[1]["sources"] == sorted(e.credit_code for e in key)
    assert pools[2]["sources"] == sorted(e.credit_code for e in simple[1:])
    r = sup.post(f"/api/inspections/plans/{pk}/draw/")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["seed"] == plan.seed and body["algorithm"] == "gridgov-draw-1"
    # 100 % of 1 special + ceil(25 % of 8) = 2 key + ceil(5 % of 3) = 1 other
    assert len(body["inspections"]) == 4
    assert body["inspections"][0]["credit_code"] == simple[0].credit_code
    for item in body["inspections"]:
        assert set(item) == {"credit_code", "inspectors", "code"}
        assert len(item["inspectors"]) == 2 and all(isinstance(u, str) for u in item["inspectors"])
    assert Inspection.objects.filter(plan_id=pk).count() == 4
    assert list(PlanEvent.objects.filter(plan_id=pk).values_list("action", flat=True)) == ["create", "commit", "draw"]


def test_bad_plans_are_refused_with_the_field(sup, township):
    bad = [
        ({"pools": [{"ratio": 1.5}]}, "pools.0.ratio"),
        ({"pools": [{"ratio": -0.1}]}, "pools.0.ratio"),
        ({"pools": [{"management_class": "huge", "ratio": 0.5}]}, "pools.0.management_class"),
        ({"pools": [{"credit_levels": ["purple"], "ratio": 0.5}]}, "pools.0.credit_levels.0"),
        ({"pools": []}, "pools"),
        ({"scope": ["330100"]}, "scope"),
        ({"scope": ["999999"]}, "scope"),
        ({"period_end": "2020-06-01"}, "period_end"),
        ({"inspectors": ["nobody"]}, "inspectors"),
        ({"per_inspection": 0}, "per_inspection"),
    ]
    before = Plan.objects.count()
    for change, field in bad:
        r = sup.post("/api/inspections/plans/", plan_body(township.code, **change), format="json")
        assert r.status_code == 400, (change, r.content)
        assert r.json()["field"] == field, (change, r.json())
    assert Plan.objects.count() == before
    r = sup.post("/api/inspections/plans/", plan_body(township.code, pools=[{"ratio": 1.5}]), format="json")
    assert "抽取比例" in r.json()["message"]


def test_state_machine_refusals(sup, township, firms, roster):
    firms(3)
    pk = create(sup, township, roster(3))
    r = sup.post(f"/api/inspections/plans/{pk}/draw/")
    assert (r.status_code, r.json()["code"]) == (409, "not_committed")
    assert sup.patch(f"/api/inspections/plans/{pk}/", {"name": "改名"}, format="json").status_code == 200
    assert sup.post(f"/api/inspections/plans/{pk}/commit/").status_code == 200
    digest = Plan.objects.get(pk=pk).seed_sha256
    r = sup.post(f"/api/inspections/plans/{pk}/commit/")
    assert (r.status_code, r.json()["code"]) == (409, "already_committed")
    r = sup.patch(f"/api/inspections/plans/{pk}/", {"pools": [{"ratio": 1}]}, format="json")
    assert (r.status_code, r.json()["code"]) == (409, "plan_frozen")
    plan = Plan.objects.get(pk=pk)
    assert plan.seed_sha256 == digest and plan.name == "改名" and plan.pools.count() == 3
    assert sup.post(f"/api/inspections/plans/{pk}/draw/").status_code == 200
    r = sup.post(f"/api/inspections/plans/{pk}/draw/")
    assert (r.status_code, r.json()["code"]) == (409, "already_drawn")


@pytest.mark.parametrize("named,per_inspection", [(1, 2), (2, 3)])
def test_commit_with_fewer_inspectors_than_a_team_is_refused(sup, township, firms, roster, named, per_inspection):
    """A roster smaller than one team (per_inspection) cannot be drawn: 409 at the commit, and
    the plan stays an editable draft with no commitment."""
    firms(2)
    pk = create(sup, township, roster(3)[:named], per_inspection=per_inspection)
    r = sup.post(f"/api/inspections/plans/{pk}/commit/")
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (409, "too_few_inspectors", "inspectors")
    assert f"只有 {named} 人" in r.json()["message"] and f"需 {per_inspection} 人" in r.json()["message"]
    plan = Plan.objects.get(pk=pk)
    assert plan.status == "draft" and not plan.seed_sha256 and not plan.inputs_sha256 and not plan.seed
    assert list(PlanEvent.objects.filter(plan_id=pk).values_list("action", flat=True)) == ["create"]
    assert sup.patch(f"/api/inspections/plans/{pk}/", {"name": "改名"}, format="json").status_code == 200


def test_only_city_and_district_supervisors_plan(user_api, township):
    for who in ("officer", "township_supervisor", "responsible_unit"):
        r = user_api(who).post("/api/inspections/plans/", plan_body(township.code), format="json")
        assert r.status_code == 403, who
    assert user_api("officer").get("/api/inspections/plans/").json() == []


def test_avoidance_own_cells_previous_plan_and_declared_conflicts(sup, township, firms, roster, cells):
    e = firms(1)[0]
    people = roster(4)  # officer, inspector1..3
    own = people[1]
    GridAssignment.objects.create(cell=e.grid_cell, user=own, duty="officer")
    DeclaredConflict.objects.create(user=people[2], credit_code=e.credit_code, reason="亲属在该企业任职（合成）")
    pk = create(sup, township, people, pools=[{"ratio": 1}])
    sup.post(f"/api/inspections/plans/{pk}/commit/")
    inputs = Plan.objects.get(pk=pk).inputs
    keys = {i["name"]: i["key"] for i in inputs["inspectors"]}
    assert sorted(inputs["avoid"]) == sorted(
        [[keys[own.display_name], e.credit_code], [keys[people[2].display_name], e.credit_code]]
    )
    team = sup.post(f"/api/inspections/plans/{pk}/draw/").json()["inspections"][0]["inspectors"]
    assert sorted(team) == sorted([people[0].username, people[3].username])
    # the next plan of the same township: those two inspected it last time, so nobody is left
    pk2 = create(sup, township, people, pools=[{"ratio": 1}])
    sup.post(f"/api/inspections/plans/{pk2}/commit/")
    r = sup.post(f"/api/inspections/plans/{pk2}/draw/")
    assert r.status_code == 409 and r.json()["code"] == "inspector_pool_too_small"
    assert r.json()["field"] == "inspectors" and r.json()["pool"] == 0 and r.json()["credit_code"] == e.credit_code
    assert "第 1 个抽查池" in r.json()["message"] and e.credit_code in r.json()["message"]
    assert not Inspection.objects.filter(plan_id=pk2).exists()
    assert Plan.objects.get(pk=pk2).status == "committed"


def test_plans_outside_jurisdiction_answer_as_missing(user_api, township, firms, roster):
    pk = create(user_api("district_supervisor"), township)
    from gridgov.models import AdminArea, Role, User

    other = User.objects.create(username="other_district", role=Role.DISTRICT_SUPERVISOR)
    other.scope.set(AdminArea.objects.filter(code="330105"))
    from rest_framework.test import APIClient

    c = APIClient()
    c.force_authenticate(other)
    for method, path in (("get", f"/api/inspections/plans/{pk}/"), ("post", f"/api/inspections/plans/{pk}/commit/")):
        r = getattr(c, method)(path)
        assert r.status_code == 404, path
    assert user_api("city_supervisor").get(f"/api/inspections/plans/{pk}/").status_code == 200


def test_plan_roster_is_the_named_or_eligible_users_by_username_with_display_names(sup, township, roster):
    """plan_roster builds names from rows; User.display_name is the reference."""
    people = roster(4)
    people[2].last_name = "（合成）"  # first and last name
    people[3].first_name = ""  # no name: the username
    for u in people[2:]:
        u.save()
    areas = [township]
    named = Plan.objects.get(pk=create(sup, township, people[1:3]))
    default = Plan.objects.get(pk=create(sup, township))

    def expected(users):
        return [(u.pk, u.username, u.display_name) for u in sorted(users, key=lambda u: u.username)]

    assert plan_roster(plan=named, areas=areas) == expected(User.objects.filter(pk__in=[p.pk for p in people[1:3]]))
    assert plan_roster(plan=default, areas=areas) == expected(eligible_inspectors(areas=areas))
    names = {username: name for _pk, username, name in plan_roster(plan=default, areas=areas)}
    assert names["inspector2"] == "执法员2（合成） （合成）" and names["inspector3"] == "inspector3"


def test_pools_without_a_catch_all_leave_other_sources_out(sup, township, firms, roster):
    key = firms(3, "key")
    firms(2, "simplified")
    yellow = firms(1, "simplified")[0]
    CreditStanding.objects.create(credit_code=yellow.credit_code, score=4, level="yellow", level_since="2026-06-01")
    pools = [{"credit_levels": ["yellow"], "ratio": 1}, {"management_class": "key", "ratio": 1}]
    pk = create(sup, township, roster(3), pools=pools)
    assert sup.post(f"/api/inspections/plans/{pk}/commit/").status_code == 200
    inputs = Plan.objects.get(pk=pk).inputs
    assert [p["sources"] for p in inputs["pools"]] == [[yellow.credit_code], sorted(e.credit_code for e in key)]
