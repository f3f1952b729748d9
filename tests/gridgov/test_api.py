"""The grid core's HTTP contracts: health, areas, tokens, schema, tiles."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_postgis(api):
    r = api.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["database"]
    with connection.cursor() as cur:
        cur.execute("SELECT postgis_lib_version()")
        assert body["postgis"] == cur.fetchone()[0]


def test_districts_are_a_feature_collection_of_13(api):
    r = api.get("/api/areas/", {"level": "district"})
    assert r.status_code == 200
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 13
    names = {f["properties"]["name"] for f in fc["features"]}
    assert {"西湖区", "淳安县", "建德市", "临平区", "钱塘区"} <= names
    f = fc["features"][0]
    assert {"code", "name", "level"} <= set(f["properties"]) and f["properties"]["level"] == "district"
    assert f["geometry"]["type"] == "MultiPolygon"


def test_townships_filter_by_parent(api):
    every = api.get("/api/areas/", {"level": "township"}).json()["features"]
    xihu = api.get("/api/areas/", {"level": "township", "parent": "330106"}).json()["features"]
    assert len(every) > len(xihu) > 3
    assert all(f["properties"]["code"].startswith("330106") for f in xihu)
    assert all(f["properties"]["synthetic"] for f in xihu)


def test_unknown_level_is_a_400_naming_it(api):
    r = api.get("/api/areas/", {"level": "province"})
    assert r.status_code == 400 and r.json()["field"] == "level"


def test_token_login_then_token_authentication(api):
    r = api.post("/api/auth/token/", {"username": "district_supervisor", "password": "gridgov-demo"})
    assert r.status_code == 200
    token = r.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    cell = api.get("/api/locate/", {"lat": 30.2455, "lon": 120.1410}).json()["grid_cell"]["code"]
    assert api.get(f"/api/grid-cells/{cell}/").status_code == 200


def test_token_with_wrong_password_is_refused(api):
    r = api.post("/api/auth/token/", {"username": "district_supervisor", "password": "nope"})
    assert r.status_code == 400
    assert "token" not in r.json()


def test_openapi_schema_and_docs(api):
    r = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert r.status_code == 200
    schema = r.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/locate/" in schema["paths"] and "/api/areas/" in schema["paths"]
    assert api.get("/api/docs/").status_code == 200


def _tile_of(lon, lat, z):
    import math

    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def test_grid_cell_tiles(api):
    x, y = _tile_of(120.1410, 30.2455, 13)
    r = api.get(f"/tiles/grid-cells/13/{x}/{y}.pbf")
    assert r.status_code == 200 and r["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert len(r.content) > 500
    # Below the layer's minimum zoom the tile is empty, not 100,000 cells.
    x, y = _tile_of(120.1410, 30.2455, 8)
    assert api.get(f"/tiles/grid-cells/8/{x}/{y}.pbf").content == b""
    assert len(api.get(f"/tiles/admin-areas/8/{x}/{y}.pbf").content) > 100


def test_tile_bad_coordinates(api):
    assert api.get("/tiles/grid-cells/3/9/1.pbf").status_code == 400
    assert api.get("/tiles/no-such-layer/3/1/1.pbf").status_code == 404


def test_admin_edits_grid_cells_on_a_map(db, client):
    from gridgov.models import GridCell, User

    admin = User.objects.create_superuser("admin-test", password="a-long-admin-password")
    client.force_login(admin)
    cell = GridCell.objects.first()
    r = client.get(f"/admin/gridgov/gridcell/{cell.pk}/change/")
    assert r.status_code == 200
    assert b"leaflet" in r.content.lower()


def test_chinese_by_default_english_through_the_language_switch(client, db):
    # An English browser still gets Chinese: the bureau's screens read the same for everyone.
    r = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "杭州市网格一张图" in r.content.decode()
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert r.status_code == 302
    r = client.get("/")
    assert b"Hangzhou grid map" in r.content
    assert client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"}).status_code == 302
    assert "杭州市网格一张图" in client.get("/").content.decode()


def test_areas_in_cgcs2000(api):
    wgs = api.get("/api/areas/", {"level": "district"}).json()
    cgcs = api.get("/api/areas/", {"level": "district", "crs": "4490"}).json()
    assert cgcs["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::4490"
    # CGCS2000 and WGS84 agree to centimetres: the coordinates match to 1e-6 degrees.
    a = wgs["features"][0]["geometry"]["coordinates"][0][0][0]
    b = cgcs["features"][0]["geometry"]["coordinates"][0][0][0]
    assert a == pytest.approx(b, abs=1e-6)
    assert api.get("/api/areas/", {"crs": "3857"}).json()["field"] == "crs"
