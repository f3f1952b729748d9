"""Site analysis and import/export through HTTP."""

from __future__ import annotations

import io
import json
import zipfile

import geopandas as gpd
import pyogrio
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from shapely.geometry import LineString, box

from zoning import services
from zoning.models import ControlUnit, ZoningVersion

from .conftest import X0, Y0, square

ANALYZE = "/api/zoning/analyze/"
IMPORT = "/api/zoning/import/"


@pytest.fixture
def site_units(make_unit, planner):
    make_unit("ZH33010619001", name="优先单元")
    make_unit("ZH33010639001", x=X0 + 0.01, name="一般单元")
    services.zone_create(
        code="HX330106001",
        name="红线",
        layer="red_line",
        geom=square(X0, Y0 + 0.005, 0.005),
        reason="测试",
        actor=planner,
    )


def site(x, y, size):
    return {"geometry": json.loads(square(x, y, size).json), "crs": "wgs84"}


def test_analysis_verdicts(site_units, api):
    r = api.post(ANALYZE, site(X0 + 0.0125, Y0 + 0.002, 0.002), format="json").json()
    assert r["verdict"] == "判定通过" and not r["red_line_conflict"]
    assert [(o["code"], o["share_pct"]) for o in r["overlaps"]] == [("ZH33010639001", 100.0)]
    assert r["overlaps"][0]["access_list"][0]["text"] == "禁止新建化工项目"
    # Straddles the priority and general units: half each.
    r = api.post(ANALYZE, site(X0 + 0.009, Y0 + 0.001, 0.002), format="json").json()
    assert r["verdict"] == "受限准入"
    assert sorted(o["share_pct"] for o in r["overlaps"]) == pytest.approx([50, 50], abs=0.5)
    assert sum(o["area_m2"] for o in r["overlaps"]) == pytest.approx(r["site_area_m2"], rel=1e-3)
    r = api.post(ANALYZE, site(X0 + 0.001, Y0 + 0.006, 0.002), format="json").json()
    assert r["verdict"] == "判定不通过" and r["red_line_conflict"]
    point = {"geometry": {"type": "Point", "coordinates": [X0 + 0.015, Y0 + 0.005]}}
    assert api.post(ANALYZE, point, format="json").json()["verdict"] == "待补充信息"
    r = api.post(ANALYZE, site(119.0, 31.5, 0.01), format="json").json()
    assert r["verdict"] == "待补充信息" and r["overlaps"] == []


def test_analysis_bad_input(site_units, api):
    flat = {"geometry": {"type": "Polygon", "coordinates": [[[X0, Y0], [X0 + 0.01, Y0], [X0 + 0.02, Y0], [X0, Y0]]]}}
    r = api.post(ANALYZE, flat, format="json")
    assert r.status_code == 400 and r.json()["field"] == "geometry"
    assert api.post(ANALYZE, {"geometry": {"type": "Polygon"}}, format="json").status_code == 400
    assert api.post(ANALYZE, {**site(X0, Y0, 0.001), "crs": "xyz"}, format="json").json()["field"] == "crs"


def test_analysis_gcj02_input(site_units, api):
    from gridgov import coords

    gx, gy = coords.wgs84_to_gcj02(X0 + 0.015, Y0 + 0.005)
    r = api.post(
        ANALYZE, {"geometry": {"type": "Point", "coordinates": [gx, gy]}, "crs": "gcj02"}, format="json"
    ).json()
    assert [o["code"] for o in r["overlaps"]] == ["ZH33010639001"]


def gdf(rows, crs="EPSG:4490"):
    return gpd.GeoDataFrame(rows, geometry=[r.pop("geometry") for r in rows], crs=crs)


def rows(n=2, x=X0, y=Y0):
    return [
        {
            "HJZHGKDYBM": f"ZH33010639{i + 1:03d}",
            "HJZHGKDYMC": f"导入单元{i}",
            "ZHGKDYFL": "一般管控单元",
            "KJBJYS": "条目一\n条目二",
            "PWWPFGK": "排放达标",
            "HJFXFK": "",
            "ZYKFXLYQ": "",
            "geometry": box(x + 0.01 * i, y, x + 0.01 * (i + 1), y + 0.01),
        }
        for i in range(n)
    ]


def upload(frame, tmp_path, driver="GPKG", name="units.gpkg"):
    path = tmp_path / name
    pyogrio.write_dataframe(frame, path, driver=driver)
    return SimpleUploadedFile(name, path.read_bytes())


def shp_zip(frame, tmp_path, drop_prj=False):
    pyogrio.write_dataframe(frame, tmp_path / "u.shp", driver="ESRI Shapefile", encoding="UTF-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for p in tmp_path.glob("u.*"):
            if not (drop_prj and p.suffix == ".prj"):
                z.write(p, p.name)
    return SimpleUploadedFile("u.zip", buf.getvalue())


def test_import_gpkg_dry_run_then_commit(clean_zoning, user_api, tmp_path):
    planner = user_api("planner")
    f = upload(gdf(rows()), tmp_path)
    r = planner.post(IMPORT, {"file": f, "reason": "年度更新", "dry_run": "true"}, format="multipart").json()
    assert (r["dry_run"], r["created"], r["errors"], r["source_crs"]) == (True, 2, [], "EPSG:4490")
    assert not ControlUnit.objects.exists()
    f = upload(gdf(rows()), tmp_path, name="u2.gpkg")
    r = planner.post(IMPORT, {"file": f, "reason": "年度更新", "dry_run": "false"}, format="multipart")
    assert r.status_code == 200 and r.json()["committed"]
    unit = ControlUnit.objects.get(code="ZH33010639001")
    assert unit.district.code == "330106" and len(unit.access_list) == 3
    assert ZoningVersion.objects.get(code=unit.code).action == "import"
    assert user_api("city_supervisor").post(IMPORT, {"file": f, "reason": "x"}, format="multipart").status_code == 403


def test_import_errors_all_or_nothing(clean_zoning, user_api, tmp_path):
    data = rows(3)
    data[1]["geometry"] = box(X0 + 0.005, Y0, X0 + 0.015, Y0 + 0.01)  # overlaps feature 1
    data[2]["HJZHGKDYBM"] = "ZH9999"
    f = upload(gdf(data), tmp_path)
    r = user_api("planner").post(IMPORT, {"file": f, "reason": "x", "dry_run": "false"}, format="multipart")
    assert r.status_code == 400
    errs = r.json()["errors"]
    assert {e["feature"] for e in errs} == {2, 3}
    assert any(e["field"] == "HJZHGKDYBM" and e["code"] == "ZH9999" for e in errs)
    assert not ControlUnit.objects.exists()


def test_a_dry_run_reports_each_refused_feature_once_with_its_reasons(clean_zoning, user_api, tmp_path):
    data = rows(3)
    data[1]["geometry"] = box(X0 + 0.005, Y0, X0 + 0.015, Y0 + 0.01)  # overlaps feature 1
    data[2]["HJZHGKDYBM"] = "ZH9999"
    r = user_api("planner").post(IMPORT, {"file": upload(gdf(data), tmp_path), "dry_run": "true"}, format="multipart")
    assert r.status_code == 200
    body = r.json()
    assert (body["committed"], body["refused_count"]) == (False, 2)
    assert [(e["feature"], e["code"]) for e in body["refused"]] == [(2, data[1]["HJZHGKDYBM"]), (3, "ZH9999")]
    assert "重叠" in body["refused"][0]["reasons"][0] and "格式错误" in body["refused"][1]["reasons"][0]
    assert not ControlUnit.objects.exists()


def test_import_shapefile_in_gauss_kruger(clean_zoning, user_api, tmp_path):
    frame = gdf(rows(1), crs="EPSG:4490").to_crs("EPSG:4549")
    r = user_api("planner").post(IMPORT, {"file": shp_zip(frame, tmp_path), "reason": "交付"}, format="multipart")
    assert r.status_code == 200, r.json()
    assert r.json()["source_crs"] == "EPSG:4549"
    g = ControlUnit.objects.get().geom
    assert g.extent == pytest.approx((X0, Y0, X0 + 0.01, Y0 + 0.01), abs=1e-6)


@pytest.mark.parametrize("case", ["no_prj", "corrupt", "slip", "line", "nocrs"])
def test_import_bad_files(clean_zoning, user_api, tmp_path, case):
    if case == "no_prj":
        f = shp_zip(gdf(rows(1)), tmp_path, drop_prj=True)
    elif case == "corrupt":
        f = SimpleUploadedFile("x.zip", b"PK\x03\x04garbage")
    elif case == "slip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("../../evil.geojson", "{}")
        f = SimpleUploadedFile("x.zip", buf.getvalue())
    elif case == "line":
        data = rows(1)
        data[0]["geometry"] = LineString([(X0, Y0), (X0 + 0.01, Y0)])
        f = upload(gdf(data), tmp_path)
    else:
        pyogrio.write_dataframe(gdf(rows(1)), tmp_path / "u.shp", driver="ESRI Shapefile", encoding="UTF-8")
        (tmp_path / "u.prj").write_text("GARBAGE")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for p in tmp_path.glob("u.*"):
                z.write(p, p.name)
        f = SimpleUploadedFile("u.zip", buf.getvalue())
    r = user_api("planner").post(IMPORT, {"file": f, "reason": "x"}, format="multipart")
    assert r.status_code == 400, r.json()
    body = r.json()
    assert (
        body["field"]
        in {"no_prj": ["file"], "corrupt": ["file"], "slip": ["file"], "line": ["geometry"], "nocrs": ["crs", "file"]}[
            case
        ]
    )
    if case == "line":
        assert "第 1 个要素" in body["message"] and "ZH33010639001" in body["message"]
    assert not ControlUnit.objects.exists()


def test_import_oversize(clean_zoning, user_api, settings):
    settings.ZONING_MAX_UPLOAD_BYTES = 100
    f = SimpleUploadedFile("x.geojson", b" " * 200)
    assert user_api("planner").post(IMPORT, {"file": f, "reason": "x"}, format="multipart").status_code == 413


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "geojson"])
def test_export_round_trip(make_unit, api, tmp_path, fmt):
    make_unit("ZH33010639001")
    r = api.get("/api/zoning/export/", {"format": fmt, "crs": "4490"})
    assert r.status_code == 200
    path = tmp_path / ("out.zip" if fmt == "shp" else f"out.{fmt}")
    path.write_bytes(r.content)
    frame = pyogrio.read_dataframe(f"/vsizip/{path}" if fmt == "shp" else path)
    assert list(frame["HJZHGKDYBM"]) == ["ZH33010639001"]
    assert frame.crs.to_epsg() == 4490
    assert api.get("/api/zoning/export/", {"format": "kml"}).json()["field"] == "format"


def test_report_html_and_pdf(site_units, client):
    geometry = json.dumps(json.loads(square(X0 + 0.009, Y0 + 0.001, 0.002).json))
    r = client.post("/zoning/analyze/report/", {"geometry": geometry, "crs": "wgs84", "format": "html"})
    assert r.status_code == 200 and "受限准入" in r.content.decode() and "data:image/png;base64," in r.content.decode()
    r = client.post("/zoning/analyze/report/", {"geometry": geometry, "crs": "wgs84", "format": "pdf"})
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    r = client.post("/zoning/analyze/report/", {"geometry": "{", "crs": "wgs84"})
    assert r.status_code == 400


def test_rules_are_readable(api):
    rules = api.get("/api/zoning/analyze/rules/").json()["rules"]
    assert rules[0]["verdict"] == "判定不通过" and rules[0]["when"] == {"layer": "red_line"}


def test_management_commands_round_trip(make_unit, tmp_path, capsys):
    from django.core.management import call_command

    make_unit("ZH33010639001")
    out = tmp_path / "units.gpkg"
    call_command("zoning_export", str(out), "--format", "gpkg", "--crs", "4326")
    ControlUnit.objects.all().delete()
    call_command("zoning_import", str(out), "--reason", "批量导入", "--user", "planner", "--dry-run")
    assert not ControlUnit.objects.exists()
    call_command("zoning_import", str(out), "--reason", "批量导入", "--user", "planner")
    assert ControlUnit.objects.get(code="ZH33010639001").access_list[0]["text"] == "禁止新建化工项目"
