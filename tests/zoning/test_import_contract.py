"""The import's contract at the service level, and the analysis over repeated (prepared) calls.

The import is set-based (vectorised checks, a COPY-filled staging table, INSERT … SELECT), so
these tests pin what it must still do feature by feature: all or nothing, one immutable version
per unit with the import's reason, numbering that continues after a delete, overlaps with the
units it leaves in place, and per-feature errors in a dry run.
"""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import pytest
from django.contrib.gis.geos import Point
from shapely.geometry import Polygon, box

from gridgov import coords
from gridgov.errors import InvalidInput
from zoning import services
from zoning.analysis import site_analyze
from zoning.imports import units_import_path
from zoning.models import ControlUnit, ZoningVersion

from .conftest import X0, Y0, square

CODES = ["ZH33010639001", "ZH33010639002"]


def rows(n=2, x=X0, y=Y0):
    return [
        {
            "HJZHGKDYBM": f"ZH33010639{i + 1:03d}",
            "HJZHGKDYMC": f"导入单元{i}",
            "ZHGKDYFL": "一般管控单元",
            "KJBJYS": "条目一\n条目二",
            "PWWPFGK": "排放达标",
            "geometry": box(x + 0.01 * i, y, x + 0.01 * (i + 1), y + 0.01),
        }
        for i in range(n)
    ]


def write(tmp_path, data, name="units.gpkg", crs="EPSG:4490"):
    frame = gpd.GeoDataFrame(data, geometry=[r.pop("geometry") for r in data], crs=crs)
    path = tmp_path / name
    pyogrio.write_dataframe(frame, path, driver="GPKG")
    return path


def test_reimport_updates_units_with_one_new_version_each(clean_zoning, planner, tmp_path):
    first = units_import_path(path=write(tmp_path, rows()), reason="首次导入", dry_run=False, actor=planner)
    assert (first.created, first.updated, first.errors) == (CODES, [], [])
    data = rows()
    data[0]["HJZHGKDYMC"] = "改名单元"
    data[0]["geometry"] = box(X0, Y0, X0 + 0.01, Y0 + 0.005)
    path = write(tmp_path, data, name="again.gpkg")
    # The file replaces the stored units it names, so it does not overlap them.
    dry = units_import_path(path=path, reason="年度调整", dry_run=True, actor=planner)
    assert (dry.created, dry.updated, dry.errors) == ([], CODES, [])
    assert ControlUnit.objects.get(code=CODES[0]).name == "导入单元0"  # a dry run writes nothing
    units_import_path(path=path, reason="年度调整", dry_run=False, actor=planner)
    unit = ControlUnit.objects.get(code=CODES[0])
    assert (unit.name, unit.version, unit.district.code) == ("改名单元", 2, "330106")
    assert unit.geom.extent == pytest.approx((X0, Y0, X0 + 0.01, Y0 + 0.005), abs=1e-9)
    assert unit.access_list == [
        {"dimension": "spatial", "text": "条目一"},
        {"dimension": "spatial", "text": "条目二"},
        {"dimension": "pollution", "text": "排放达标"},
    ]
    v1, v2 = ZoningVersion.objects.filter(code=CODES[0]).order_by("version")
    assert [(v.version, v.action, v.reason) for v in (v1, v2)] == [(1, "import", "首次导入"), (2, "import", "年度调整")]
    assert v1.valid_to == v2.valid_from and v2.valid_to is None
    assert v2.attributes == {
        "name": "改名单元",
        "category": "general",
        "district_code": "330106",
        "access_list": unit.access_list,
        "synthetic": False,
    }
    assert v2.author_id == planner.pk and v2.geom.equals(unit.geom)
    assert ZoningVersion.objects.filter(code__in=CODES).count() == 4


def test_import_continues_the_numbering_of_a_deleted_unit(make_unit, planner, tmp_path):
    make_unit(CODES[0])
    services.unit_delete(code=CODES[0], base_version=1, reason="撤销", actor=planner)
    result = units_import_path(path=write(tmp_path, rows(1)), reason="恢复", dry_run=False, actor=planner)
    assert result.created == [CODES[0]]
    assert ControlUnit.objects.get(code=CODES[0]).version == 3
    history = ZoningVersion.objects.filter(code=CODES[0]).order_by("version").values_list("version", "action")
    assert list(history) == [(1, "create"), (2, "delete"), (3, "import")]


def test_import_refuses_overlap_with_a_unit_it_leaves_in_place(make_unit, planner, tmp_path):
    make_unit("ZH33010639008", x=X0 + 0.01)  # shares the east edge of feature 1: touching is fine
    make_unit("ZH33010639009", x=X0 + 0.005, size=0.004)  # lies inside feature 1
    path = write(tmp_path, rows(1))
    dry = units_import_path(path=path, reason="x", dry_run=True, actor=planner)
    assert [(e["feature"], e["field"], e["overlap_with"]) for e in dry.errors] == [(1, "geometry", "ZH33010639009")]
    # Reference: the geodesic area of the stored square (gridgov.coords, as PostGIS geography).
    expected = coords.area_m2(box(X0 + 0.005, Y0, X0 + 0.009, Y0 + 0.004))
    assert dry.errors[0]["area_m2"] == pytest.approx(expected, rel=1e-3)
    with pytest.raises(InvalidInput) as exc:
        units_import_path(path=path, reason="x", dry_run=False, actor=planner)
    assert exc.value.extra["error_count"] == 1 and "ZH33010639009" in exc.value.message
    assert not ControlUnit.objects.filter(code=CODES[0]).exists()
    assert not ZoningVersion.objects.filter(code=CODES[0]).exists()


def test_dry_run_reports_each_feature_error(clean_zoning, planner, tmp_path):
    data = rows(6)
    x, y = X0 + 0.01, Y0
    data[1]["geometry"] = Polygon([(x, y), (x + 0.01, y + 0.01), (x + 0.01, y), (x, y + 0.01), (x, y)])  # bow-tie
    data[2]["geometry"] = box(116.39, 39.90, 116.40, 39.91)  # Beijing, outside the city
    data[3]["HJZHGKDYBM"] = "ZH330106,3004"  # a comma must not leak into the code lookups
    data[4]["HJZHGKDYBM"] = data[0]["HJZHGKDYBM"]
    data[5]["HJZHGKDYMC"] = ""
    result = units_import_path(path=write(tmp_path, data), reason="x", dry_run=True, actor=planner)
    by_feature = {e["feature"]: e for e in result.errors}
    assert sorted(by_feature) == [2, 3, 4, 5, 6] and len(result.errors) == 5
    assert "Self-intersection" in by_feature[2]["reason"] and by_feature[2]["repaired"]["type"] == "MultiPolygon"
    # All of it lies outside; reference: its geodesic area (gridgov.coords).
    outside = coords.area_m2(box(116.39, 39.90, 116.40, 39.91))
    assert by_feature[3]["outside_area_m2"] == pytest.approx(outside, rel=1e-3)
    assert by_feature[4]["field"] == "HJZHGKDYBM" and "格式错误" in by_feature[4]["message"]
    assert by_feature[5]["field"] == "HJZHGKDYBM" and "与第 1 个要素重复" in by_feature[5]["message"]
    assert by_feature[6]["field"] == "HJZHGKDYMC"
    assert [e["feature"] for e in result.errors] == [2, 3, 4, 5, 6]
    # (The editor's browser tests may have committed imports of demo codes: look at this file's codes.)
    codes = [row["HJZHGKDYBM"] for row in data]
    assert not ControlUnit.objects.exists() and not ZoningVersion.objects.filter(code__in=codes).exists()


def test_import_overlap_inside_the_file_names_both_features(clean_zoning, planner, tmp_path):
    data = rows(3)
    data[2]["geometry"] = box(X0 + 0.015, Y0 + 0.005, X0 + 0.025, Y0 + 0.015)  # half over feature 2
    result = units_import_path(path=write(tmp_path, data), reason="x", dry_run=True, actor=planner)
    assert [(e["feature"], e["overlap_with"]) for e in result.errors] == [(3, "ZH33010639002")]
    expected = coords.area_m2(box(X0 + 0.015, Y0 + 0.005, X0 + 0.02, Y0 + 0.01))
    assert result.errors[0]["area_m2"] == pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize("crs", ["EPSG:4490", "EPSG:4326"])
def test_import_stores_3d_polygons_flat(clean_zoning, planner, tmp_path, crs):
    data = rows(1)
    ring = [(X0, Y0, 12.0), (X0 + 0.01, Y0, 12.0), (X0 + 0.01, Y0 + 0.01, 12.0), (X0, Y0 + 0.01, 12.0)]
    data[0]["geometry"] = Polygon(ring)
    path = write(tmp_path, data, crs=crs)
    result = units_import_path(path=path, reason="三维交付", dry_run=False, actor=planner)
    assert result.created == [CODES[0]]
    geom = ControlUnit.objects.get().geom
    assert not geom.hasz and geom.geom_type == "MultiPolygon"
    assert geom.extent == pytest.approx((X0, Y0, X0 + 0.01, Y0 + 0.01), abs=1e-9)


def test_analysis_answers_alike_once_prepared(make_unit, planner):
    """The analysis query is prepared server-side after a few calls; answers must not change."""
    make_unit("ZH33010619001", name="优先单元")
    make_unit("ZH33010639001", x=X0 + 0.01, name="一般单元")
    sites = [square(X0 + 0.009, Y0 + 0.001, 0.002), Point(X0 + 0.015, Y0 + 0.005, srid=4326), square(119.0, 31.5)]
    first = [site_analyze(s) for s in sites]
    assert [r["verdict"] for r in first] == ["受限准入", "待补充信息", "待补充信息"]
    for _ in range(4):
        assert [site_analyze(s) for s in sites] == first
    # It reads inside the caller's transaction: a delete shows at once.
    services.unit_delete(code="ZH33010619001", base_version=1, reason="撤销", actor=planner)
    assert [o["code"] for o in site_analyze(sites[0])["overlaps"]] == ["ZH33010639001"]
