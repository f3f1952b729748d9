"""The zoning API through HTTP, checking the database state behind each answer."""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from zoning.models import ControlUnit, ZoningVersion

from .conftest import X0, Y0, square

UNITS = "/api/zoning/units/"


def body(code="ZH33010639001", x=X0, y=Y0, size=0.01, **extra):
    return {
        "code": code,
        "name": "留下一般管控单元",
        "category": "general",
        "geometry": json.loads(square(x, y, size).json),
        "access_list": [{"dimension": "pollution", "text": "新建项目须达到排放标准"}],
        "reason": "年度动态更新",
        **extra,
    }


def test_list_is_geojson_with_contract_properties(make_unit, api):
    make_unit("ZH33010619001")
    fc = api.get(UNITS).json()
    assert fc["type"] == "FeatureCollection"
    props = fc["features"][0]["properties"]
    assert {"code", "name", "category", "district_code", "version", "access_list"} <= set(props)
    assert props["district_code"] == "330106" and props["category"] == "priority" and props["version"] == 1
    assert props["access_list"][0]["dimension_label"] == "空间布局约束"
    assert api.get(UNITS, {"category": "key"}).json()["features"] == []
    assert (
        len(api.get(UNITS, {"district": "330106", "bbox": f"{X0},{Y0},{X0 + 0.001},{Y0 + 0.001}"}).json()["features"])
        == 1
    )
    assert api.get(UNITS, {"bbox": "1,2,3"}).status_code == 400
    assert api.get(UNITS, {"as_of": "2026-13-01"}).json()["field"] == "as_of"


def test_planner_creates_supervisor_cannot(clean_zoning, user_api):
    r = user_api("city_supervisor").post(UNITS, body(), format="json")
    assert r.status_code == 403 and not ControlUnit.objects.exists()
    r = user_api("planner").post(UNITS, body(), format="json")
    assert r.status_code == 201, r.json()
    v = ZoningVersion.objects.get(code="ZH33010639001")
    assert (v.version, v.action, v.reason, v.author.username) == (1, "create", "年度动态更新", "planner")
    # duplicate code
    r = user_api("planner").post(UNITS, body(x=X0 + 0.05), format="json")
    assert r.status_code == 409 and r.json()["field"] == "code"


def test_reason_and_code_are_validated(clean_zoning, user_api):
    planner = user_api("planner")
    assert planner.post(UNITS, body(reason=""), format="json").json()["field"] == "reason"
    assert planner.post(UNITS, body(code="ZH3301063001"), format="json").json()["field"] == "code"
    r = planner.post(UNITS, body(code="ZH33010629001"), format="json")  # digit 2 = key, body says general
    assert r.status_code == 400 and r.json()["field"] == "category"
    bad = body(access_list=[{"dimension": "nonsense", "text": "x"}])
    assert planner.post(UNITS, bad, format="json").json()["field"] == "access_list"


def test_self_intersection_is_located_and_repaired(clean_zoning, user_api):
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[X0, Y0], [X0 + 0.01, Y0 + 0.01], [X0 + 0.01, Y0], [X0, Y0 + 0.01], [X0, Y0]]],
    }
    r = user_api("planner").post(UNITS, {**body(), "geometry": bowtie}, format="json")
    assert r.status_code == 400
    err = r.json()
    assert err["error"] == "invalid_geometry" and err["field"] == "geometry"
    assert "Self-intersection" in err["reason"]
    assert err["location"]["coordinates"] == pytest.approx([X0 + 0.005, Y0 + 0.005])
    assert err["repaired"]["type"] == "MultiPolygon"
    assert not ControlUnit.objects.exists()


def test_overlap_is_refused_with_area_and_geometry(make_unit, user_api):
    make_unit("ZH33010639001")
    r = user_api("planner").post(UNITS, body("ZH33010639002", x=X0 + 0.005), format="json")
    assert r.status_code == 400
    overlap = r.json()["overlaps"][0]
    assert overlap["code"] == "ZH33010639001"
    # Half of a 0.01° square at 30.24°N: 0.005° × 0.01° ≈ 481 m × 1109 m ≈ 534,000 m².
    assert overlap["area_m2"] == pytest.approx(534_000, rel=0.02)
    assert overlap["geometry"]["type"] == "Polygon"
    # Sharing an edge is fine.
    assert user_api("planner").post(UNITS, body("ZH33010639002", x=X0 + 0.01), format="json").status_code == 201


def test_outside_city_refused(clean_zoning, user_api):
    r = user_api("planner").post(UNITS, body(x=121.5, y=31.2), format="json")
    assert r.status_code == 400 and "市域" in r.json()["message"]


def test_stale_edit_gets_409_naming_who_and_when(make_unit, user_api):
    make_unit("ZH33010639001")
    planner = user_api("planner")
    url = UNITS + "ZH33010639001/"
    r = planner.patch(url, {"name": "新名称", "base_version": 1, "reason": "更名"}, format="json")
    assert r.status_code == 200 and r.json()["properties"]["version"] == 2
    r = planner.patch(url, {"name": "另一个名称", "base_version": 1, "reason": "更名"}, format="json")
    assert r.status_code == 409
    assert "分区管控规划员（演示）" in r.json()["message"] and r.json()["current_version"] == 2
    assert ControlUnit.objects.get(code="ZH33010639001").name == "新名称"


def test_history_diff_and_revert(make_unit, user_api, api):
    make_unit("ZH33010639001")
    planner = user_api("planner")
    url = UNITS + "ZH33010639001/"
    moved = json.loads(square(X0 + 0.005, Y0).json)
    assert (
        planner.patch(url, {"geometry": moved, "base_version": 1, "reason": "东移"}, format="json").status_code == 200
    )
    assert api.get(url + "history/").status_code == 404  # anonymous
    hist = planner.get(url + "history/").json()
    assert [h["version"] for h in hist] == [1, 2]
    assert hist[1]["changes"]["area_added_m2"] == pytest.approx(534_000, rel=0.02)
    assert hist[1]["changes"]["area_removed_m2"] == pytest.approx(534_000, rel=0.02)
    r = planner.post(url + "revert/", {"to_version": 1, "base_version": 2, "reason": "误操作"}, format="json")
    assert r.status_code == 200 and r.json()["properties"]["version"] == 3
    hist = planner.get(url + "history/").json()
    assert hist[2]["action"] == "revert" and hist[2]["changes"]["area_removed_m2"] == pytest.approx(534_000, rel=0.02)
    # delete, then revert brings it back
    r = planner.delete(url, {"base_version": 3, "reason": "撤销单元"}, format="json")
    assert r.status_code == 200 and not ControlUnit.objects.filter(code="ZH33010639001").exists()
    r = planner.post(url + "revert/", {"to_version": 3, "base_version": 4, "reason": "恢复"}, format="json")
    assert r.status_code == 200 and r.json()["properties"]["version"] == 5


def test_versions_are_immutable_in_the_database(make_unit):
    make_unit("ZH33010639001")
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic(), connection.cursor() as c:
        c.execute("UPDATE zoning_zoningversion SET reason = 'x'")
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic(), connection.cursor() as c:
        c.execute("DELETE FROM zoning_zoningversion")


def test_as_of_list(make_unit, api):
    make_unit("ZH33010639001")
    assert api.get(UNITS, {"as_of": "2020-01-01", "district": "330106"}).json()["features"] == []
    codes = [f["properties"]["code"] for f in api.get(UNITS, {"as_of": "2099-01-01"}).json()["features"]]
    assert "ZH33010639001" in codes


def test_history_times_are_local_time(clean_zoning, planner, user_api):
    """A version made at 2026-03-01 01:30 UTC reads 09:30 in Hangzhou (UTC+8, no summer time)."""
    import datetime as dt

    from zoning import services

    at = dt.datetime(2026, 3, 1, 1, 30, tzinfo=dt.UTC)
    services.unit_create(
        code="ZH33010639001",
        name="测试单元",
        category="general",
        geom=square(X0, Y0),
        reason="测试",
        actor=planner,
        at=at,
    )
    entry = user_api("planner").get(UNITS + "ZH33010639001/history/").json()[0]
    assert entry["created_at"] == "2026-03-01T09:30:00+08:00"
    assert entry["valid_from"] == "2026-03-01T09:30:00+08:00"
