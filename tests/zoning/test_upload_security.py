"""Issue 12, the zoning parts: site files need an account, expensive work is capped and rate-limited,
the report is drawn in a limited child, and oversize bodies are refused before they are read."""

from __future__ import annotations

import io
import json
import zipfile

import geopandas as gpd
import pyogrio
import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from shapely.geometry import Polygon, box

from reliability import corpus
from zoning.models import ControlUnit

from .conftest import X0, Y0, square

ANALYZE = "/api/zoning/analyze/"
IMPORT = "/api/zoning/import/"
REPORT = "/zoning/analyze/report/"
LIMIT_MIDDLEWARE = "gridgov.limits.RequestBodyLimitMiddleware"


def gpkg(tmp_path, geometry=None, name="site.gpkg") -> SimpleUploadedFile:
    frame = gpd.GeoDataFrame(
        {"HJZHGKDYBM": ["ZH33010639001"], "HJZHGKDYMC": ["上传单元"]},
        geometry=[geometry or box(X0 + 0.002, Y0 + 0.002, X0 + 0.004, Y0 + 0.004)],
        crs="EPSG:4490",
    )
    pyogrio.write_dataframe(frame, tmp_path / name, driver="GPKG")
    return SimpleUploadedFile(name, (tmp_path / name).read_bytes())


def many_vertices(n: int) -> Polygon:
    """A 0.004° square whose south side carries n vertices."""
    xs = [X0 + 0.004 * i / n for i in range(n + 1)]
    return Polygon([(x, Y0) for x in xs] + [(X0 + 0.004, Y0 + 0.004), (X0, Y0 + 0.004)])


def test_site_files_need_an_account_drawn_sites_do_not(make_unit, api, user_api, tmp_path):
    make_unit("ZH33010639001")
    r = api.post(ANALYZE, {"file": gpkg(tmp_path)}, format="multipart")
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (403, "login_required", "file")
    r = user_api("officer").post(ANALYZE, {"file": gpkg(tmp_path, name="again.gpkg")}, format="multipart")
    assert r.status_code == 200 and [o["code"] for o in r.json()["overlaps"]] == ["ZH33010639001"]
    drawn = {"geometry": json.loads(square(X0 + 0.002, Y0 + 0.002, 0.002).json)}
    assert api.post(ANALYZE, drawn, format="json").status_code == 200


def test_vertices_are_capped_before_the_spatial_queries(make_unit, api, user_api, tmp_path, settings):
    """A 200,000-vertex site took 4 s of PostGIS time; the cap (20,000 by default) refuses it first."""
    make_unit("ZH33010639001")
    drawn = {"geometry": json.loads(json.dumps(many_vertices(25_000).__geo_interface__))}
    r = api.post(ANALYZE, drawn, format="json")
    assert (r.status_code, r.json()["field"], r.json()["code"]) == (400, "geometry", "too_many_vertices")
    assert "20000" in r.json()["message"]
    r = user_api("officer").post(ANALYZE, {"file": gpkg(tmp_path, many_vertices(25_000))}, format="multipart")
    assert (r.status_code, r.json()["code"]) == (400, "too_many_vertices")
    settings.ZONING_MAX_UNIT_VERTICES = 50
    unit = {"geometry": json.loads(json.dumps(many_vertices(60).__geo_interface__)), "reason": "x", "base_version": 1}
    r = user_api("planner").patch("/api/zoning/units/ZH33010639001/", unit, format="json")
    assert (r.status_code, r.json()["code"]) == (400, "too_many_vertices")


def test_an_import_is_capped_in_vertices_and_unpacked_size(clean_zoning, user_api, tmp_path, settings):
    planner = user_api("planner")
    settings.ZONING_MAX_IMPORT_VERTICES = 100
    r = planner.post(IMPORT, {"file": gpkg(tmp_path, many_vertices(200)), "dry_run": "true"}, format="multipart")
    assert (r.status_code, r.json()["code"]) == (400, "too_many_vertices")
    settings.ZONING_MAX_EXTRACTED_BYTES = 10_000
    big = io.BytesIO()
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("units.geojson", b" " * 20_000)
    upload = SimpleUploadedFile("units.zip", big.getvalue())
    r = planner.post(IMPORT, {"file": upload, "dry_run": "true"}, format="multipart")
    assert (r.status_code, r.json()["code"]) == (413, "zip_too_large")
    assert not ControlUnit.objects.exists()


def rates(settings, **scopes):
    """Low rates, counted from zero (servers of other tests commit their counts to the same cache)."""
    cache.clear()  # inside the test's transaction: rolled back with it
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**scopes}}


def test_imports_and_site_files_are_rate_limited(clean_zoning, user_api, tmp_path, settings):
    rates(settings, zoning_import="2/hour", zoning_site_upload="1/hour")
    planner = user_api("planner")
    for i in range(2):
        r = planner.post(IMPORT, {"file": gpkg(tmp_path, name=f"{i}.gpkg"), "dry_run": "true"}, format="multipart")
        assert r.status_code == 200
    r = planner.post(IMPORT, {"file": gpkg(tmp_path, name="3.gpkg"), "dry_run": "true"}, format="multipart")
    assert (r.status_code, r.json()["error"]) == (429, "throttled")
    assert planner.post(ANALYZE, {"file": gpkg(tmp_path, name="s1.gpkg")}, format="multipart").status_code == 200
    assert planner.post(ANALYZE, {"file": gpkg(tmp_path, name="s2.gpkg")}, format="multipart").status_code == 429
    drawn = {"geometry": json.loads(square(X0, Y0, 0.002).json)}
    assert planner.post(ANALYZE, drawn, format="json").status_code == 200  # drawn sites are not limited


def test_report_pdfs_are_rate_limited(make_unit, settings):
    make_unit("ZH33010639001")
    rates(settings, zoning_report_pdf="1/hour")
    form = {"geometry": json.dumps(json.loads(square(X0 + 0.002, Y0 + 0.002, 0.002).json)), "format": "pdf"}
    client = Client()
    r = client.post(REPORT, form)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    r = client.post(REPORT, form)
    assert r.status_code == 429 and int(r["Retry-After"]) > 0
    assert 'data-code="throttled"' in r.content.decode() and "生成 PDF 报告过于频繁" in r.content.decode()
    assert client.post(REPORT, {**form, "format": "html"}).status_code == 200


def test_the_report_is_drawn_in_a_child_with_a_timeout(make_unit, settings):
    make_unit("ZH33010639001")
    settings.ZONING_REPORT_TIMEOUT_S = 0.001
    form = {"geometry": json.dumps(json.loads(square(X0 + 0.002, Y0 + 0.002, 0.002).json)), "format": "html"}
    r = Client().post(REPORT, form)
    assert r.status_code == 503 and 'data-code="report_timeout"' in r.content.decode()


def test_the_import_command_reads_through_the_child_too(clean_zoning, tmp_path):
    path = tmp_path / "units.geojson"
    path.write_bytes(
        dict((n, d) for n, _f, _c, d in corpus.vector_files(listener="http://127.0.0.1:9", secret="/etc/hostname"))[
            "vrt_csv_as_geojson"
        ]
    )
    with pytest.raises(CommandError, match="GeoJSON"):
        call_command("zoning_import", str(path), "--reason", "恶意文件", "--dry-run")
    assert not ControlUnit.objects.exists()


@pytest.fixture
def limited(settings):
    settings.MIDDLEWARE = [settings.MIDDLEWARE[0], LIMIT_MIDDLEWARE, *settings.MIDDLEWARE[1:]]
    settings.GRIDGOV_MAX_REQUEST_BYTES = 1000
    return Client()


def test_a_declared_oversize_body_is_refused_unread(db, limited):
    """The test client's payload holds 10 bytes and fails any attempt to read more: nothing is read."""
    r = limited.generic(
        "POST", IMPORT, b"x" * 10, content_type="multipart/form-data; boundary=x", CONTENT_LENGTH="999999999"
    )
    assert (r.status_code, r.json()["code"]) == (413, "request_too_large")


def test_a_chunked_body_is_read_only_up_to_the_limit(db, limited):
    """As gunicorn passes it: no length, a de-chunked stream that ends (wsgi.input_terminated)."""
    body = json.dumps({"geometry": json.loads(square(X0, Y0, 0.002).json)}).encode()
    assert len(body) < 1000

    def chunked(data: bytes, terminated: bool = True) -> dict:
        return {
            "HTTP_TRANSFER_ENCODING": "chunked",
            "CONTENT_TYPE": "application/json",
            "wsgi.input": io.BytesIO(data),
            "wsgi.input_terminated": terminated,
        }

    r = limited.generic("POST", ANALYZE, **chunked(body))
    assert r.status_code == 200, r.content  # under the limit: handed on with its length
    assert len(body * 10) > 1000
    r = limited.generic("POST", ANALYZE, **chunked(body * 10))
    assert (r.status_code, r.json()["code"]) == (413, "request_too_large")
    r = limited.generic("POST", ANALYZE, **chunked(body, terminated=False))
    assert r.status_code == 411
