"""Edits with their neighbours and the city's coverage: carving a new unit, gap warnings, previews.

Reference areas come from pyproj's geodesic polygon area on WGS84 (Karney's algorithm), which
is independent of PostGIS's geography area; the two agree to well under 0.1 %.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon
from pyproj import Geod

from zoning import edits, services
from zoning.geometry import find_overlaps
from zoning.models import ControlUnit, ZoningVersion

from .conftest import X0, Y0, square

UNITS = "/api/zoning/units/"
GEOD = Geod(ellps="WGS84")


def geodesic_m2(x0: float, y0: float, x1: float, y1: float) -> float:
    area, _ = GEOD.polygon_area_perimeter([x0, x1, x1, x0], [y0, y0, y1, y1])
    return abs(area)


def gj(geom) -> dict:
    return json.loads(geom.json)


@pytest.fixture
def two_units(make_unit):
    """A (general) and B (key) side by side, 0.01° squares sharing the edge x = X0 + 0.01."""
    a = make_unit("ZH33010639001", name="单元甲")
    b = make_unit("ZH33010629001", x=X0 + 0.01, name="单元乙")
    return a, b


def new_unit_body(geometry, **more) -> dict:
    return {
        "code": "ZH33010619001",
        "name": "新设保护单元（测试）",
        "category": "priority",
        "geometry": geometry,
        "access_list": [],
        "reason": "新设饮用水源保护单元",
        **more,
    }


# The new unit straddles the shared edge: 0.004° of it in A, 0.004° in B, a band 0.004° high.
STRADDLE = (X0 + 0.006, Y0 + 0.003, X0 + 0.014, Y0 + 0.007)
HALF = geodesic_m2(X0 + 0.006, Y0 + 0.003, X0 + 0.01, Y0 + 0.007)


def test_without_carving_a_new_unit_on_top_of_others_is_refused(two_units, user_api):
    r = user_api("planner").post(UNITS, new_unit_body(gj(square(X0 + 0.006, Y0 + 0.003, 0.004))), format="json")
    assert r.status_code == 400 and r.json()["code"] == "overlap"


def test_preview_lists_the_units_carved_and_writes_nothing(two_units, user_api):
    geometry = gj(MultiPolygon(Polygon.from_bbox(STRADDLE), srid=4326))
    versions_before = ZoningVersion.objects.count()
    r = user_api("planner").post(UNITS, new_unit_body(geometry, carve=True, dry_run=True), format="json")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["dry_run"] is True and body["properties"]["code"] == "ZH33010619001"
    assert [(c["code"], c["base_version"], c["version"], c["deleted"]) for c in body["carved"]] == [
        ("ZH33010629001", 1, 2, False),
        ("ZH33010639001", 1, 2, False),
    ]
    for c in body["carved"]:
        assert c["area_taken_m2"] == pytest.approx(HALF, rel=1e-3)
        assert c["area_taken"]["ha"] == f"{HALF / 10_000:,.2f}"
    assert body["coverage_gap"] == {
        "opened": False,
        "area_m2": 0.0,
        "area": {"m2": "0.0", "ha": "0.00", "mu": "0.00", "text": "0.0 m²（0.00 公顷，0.00 亩）"},
        "geometry": None,
        "message": "",
    }
    assert ZoningVersion.objects.count() == versions_before
    assert not ControlUnit.objects.filter(code="ZH33010619001").exists()
    assert set(ControlUnit.objects.values_list("version", flat=True)) == {1}


def test_a_preview_needs_no_reason_the_save_does(two_units, user_api):
    """The editor previews before the planner writes the reason (the reason dialog shows the preview)."""
    a, _b = two_units
    planner = user_api("planner")
    versions_before = ZoningVersion.objects.count()
    r = planner.delete(f"{UNITS}{a.code}/", {"base_version": 1, "dry_run": True}, format="json")
    assert r.status_code == 200 and r.json()["dry_run"] is True, r.json()
    assert r.json()["coverage_gap"]["opened"] is True
    r = planner.delete(f"{UNITS}{a.code}/", {"base_version": 1}, format="json")
    assert r.status_code == 400 and (r.json()["field"], r.json()["code"]) == ("reason", "reason_required")
    assert ZoningVersion.objects.count() == versions_before
    assert ControlUnit.objects.get(code=a.code).version == 1


def test_save_carves_the_new_unit_out_of_its_neighbours_in_one_go(two_units, user_api):
    a, b = two_units
    area_before = a.geom.transform(4549, clone=True).area + b.geom.transform(4549, clone=True).area
    geometry = gj(MultiPolygon(Polygon.from_bbox(STRADDLE), srid=4326))
    body = new_unit_body(geometry, carve=True, base_versions={a.code: 1, b.code: 1})
    r = user_api("planner").post(UNITS, body, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["properties"]["version"] == 1 and r.json()["dry_run"] is False
    new = ControlUnit.objects.get(code="ZH33010619001")
    for unit in ControlUnit.objects.filter(code__in=[a.code, b.code]):
        assert unit.version == 2
        assert unit.geom.intersection(new.geom).area < 1e-12  # no overlap left
        v = ZoningVersion.objects.get(code=unit.code, version=2)
        assert (v.action, v.reason) == ("update", "新设饮用水源保护单元")
    assert ZoningVersion.objects.get(code=new.code, version=1).reason == "新设饮用水源保护单元"
    assert find_overlaps(new.geom, layer="control_unit", exclude_code=new.code) == []
    area_after = sum(u.geom.transform(4549, clone=True).area for u in ControlUnit.objects.all())
    assert area_after == pytest.approx(area_before, rel=1e-9)  # the tiling is kept: nothing lost, nothing doubled


def test_a_unit_taken_whole_is_deleted(make_unit, user_api):
    small = make_unit("ZH33010639002", x=X0 + 0.003, y=Y0 + 0.003, size=0.002)
    r = user_api("planner").post(
        UNITS,
        new_unit_body(gj(square(X0, Y0, 0.01)), carve=True, base_versions={small.code: 1}),
        format="json",
    )
    assert r.status_code == 201, r.json()
    assert r.json()["carved"][0]["deleted"] is True
    assert not ControlUnit.objects.filter(code=small.code).exists()
    assert ZoningVersion.objects.get(code=small.code, version=2).action == "delete"


def test_save_needs_the_versions_the_preview_showed(two_units, user_api, planner):
    a, b = two_units
    geometry = gj(MultiPolygon(Polygon.from_bbox(STRADDLE), srid=4326))
    planner_api = user_api("planner")
    # B was not in the preview (its version is missing): nothing is written.
    r = planner_api.post(UNITS, new_unit_body(geometry, carve=True, base_versions={a.code: 1}), format="json")
    assert r.status_code == 409 and r.json()["code"] == "carve_changed" and r.json()["units"] == [b.code]
    # B changed since the preview: the stale edit names who changed it.
    services.unit_update(code=b.code, base_version=1, name="单元乙（改名）", reason="更名", actor=planner)
    r = planner_api.post(
        UNITS, new_unit_body(geometry, carve=True, base_versions={a.code: 1, b.code: 1}), format="json"
    )
    assert r.status_code == 409 and r.json()["code"] == "stale_edit"
    assert ControlUnit.objects.get(code=a.code).version == 1
    assert not ControlUnit.objects.filter(code="ZH33010619001").exists()


def test_growing_a_unit_into_its_neighbour_carves_the_neighbour(two_units, planner):
    a, b = two_units
    grown = square(X0, Y0, 0.01).union(MultiPolygon(Polygon.from_bbox((X0 + 0.01, Y0, X0 + 0.013, Y0 + 0.01))))
    grown = MultiPolygon(grown, srid=4326) if grown.geom_type == "Polygon" else grown
    outcome = edits.unit_update_edit(
        code=a.code, base_version=1, geom=grown, reason="边界调整", actor=planner, carve=True, base_versions={b.code: 1}
    )
    assert [(c.code, c.version) for c in outcome.carved] == [(b.code, 2)]
    assert outcome.carved[0].area_taken_m2 == pytest.approx(geodesic_m2(X0 + 0.01, Y0, X0 + 0.013, Y0 + 0.01), rel=1e-3)
    assert not outcome.gap.opened
    assert ControlUnit.objects.get(code=b.code).geom.extent[0] == pytest.approx(X0 + 0.013)


def test_cutting_a_hole_opens_a_gap_of_the_hole_s_area(two_units, user_api):
    a, _b = two_units
    hole = (X0 + 0.004, Y0 + 0.004, X0 + 0.006, Y0 + 0.006)
    holed = Polygon(Polygon.from_bbox(a.geom.extent).exterior_ring, Polygon.from_bbox(hole).exterior_ring)
    geometry = gj(MultiPolygon(holed, srid=4326))
    planner = user_api("planner")
    r = planner.patch(
        UNITS + a.code + "/",
        {"geometry": geometry, "base_version": 1, "reason": "挖洞", "dry_run": True},
        format="json",
    )
    assert r.status_code == 200
    gap = r.json()["coverage_gap"]
    expected = geodesic_m2(*hole)  # 0.002° × 0.002° at 30.245° N ≈ 4.27 公顷
    assert gap["opened"] and gap["area_m2"] == pytest.approx(expected, rel=1e-3)
    assert gap["area"]["ha"] == "4.27" and "4.27 公顷" in gap["message"]
    assert gap["geometry"]["type"] == "MultiPolygon"
    assert ControlUnit.objects.get(code=a.code).version == 1  # the preview wrote nothing
    r = planner.patch(UNITS + a.code + "/", {"geometry": geometry, "base_version": 1, "reason": "挖洞"}, format="json")
    assert r.status_code == 200 and r.json()["coverage_gap"]["area_m2"] == pytest.approx(expected, rel=1e-3)
    saved = ControlUnit.objects.get(code=a.code)
    assert saved.version == 2 and saved.geom[0].num_interior_rings == 1
    history = planner.get(UNITS + a.code + "/history/").json()
    assert history[1]["changes"]["geometry_changed"] is True
    assert history[1]["changes"]["area_removed_m2"] == pytest.approx(expected, rel=1e-3)


def test_a_shrunk_boundary_opens_a_gap_a_shared_one_does_not(two_units, user_api):
    a, b = two_units
    planner = user_api("planner")
    pulled_back = gj(square(X0, Y0, 0.008))  # A gives up a strip on its east and north
    r = planner.patch(
        UNITS + a.code + "/",
        {"geometry": pulled_back, "base_version": 1, "reason": "缩小", "dry_run": True},
        format="json",
    )
    expected = geodesic_m2(X0, Y0, X0 + 0.01, Y0 + 0.01) - geodesic_m2(X0, Y0, X0 + 0.008, Y0 + 0.008)
    assert r.json()["coverage_gap"]["area_m2"] == pytest.approx(expected, rel=1e-3)
    # Deleting B with A beside it: B's whole square is the gap.
    r = planner.delete(UNITS + b.code + "/", {"base_version": 1, "reason": "撤销", "dry_run": True}, format="json")
    assert r.status_code == 200 and r.json()["deleted"] and r.json()["dry_run"]
    assert r.json()["coverage_gap"]["area_m2"] == pytest.approx(geodesic_m2(*b.geom.extent), rel=1e-3)
    assert ControlUnit.objects.filter(code=b.code).exists()
    # A name change touches no shape: no gap, no query for one.
    r = planner.patch(UNITS + a.code + "/", {"name": "单元甲二", "base_version": 1, "reason": "更名"}, format="json")
    assert r.json()["coverage_gap"]["opened"] is False
