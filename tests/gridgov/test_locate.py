"""Locating a point: the one grid cell, township and district that cover it."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from django.db import connection
from pyproj import Transformer
from shapely.geometry import shape
from shapely.ops import nearest_points

from gridgov import coords
from gridgov.models import AdminArea

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).resolve().parents[2] / "gridgov" / "data" / "cnmaps" / "hangzhou_gcj02.geojson"
TO_GK = Transformer.from_crs(4326, 4549, always_xy=True)
FROM_GK = Transformer.from_crs(4549, 4326, always_xy=True)


def to_gk(geom):
    return shapely.transform(geom, lambda xy: np.column_stack(TO_GK.transform(xy[:, 0], xy[:, 1])))


def locate(api, lat, lon, **extra):
    return api.get("/api/locate/", {"lat": lat, "lon": lon, **extra})


def test_locate_west_lake_point(api):
    # 西湖 (West Lake) lies in 西湖区.
    r = locate(api, 30.2455, 120.1410)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["district"] == {"code": "330106", "name": "西湖区"}
    assert body["township"]["code"].startswith("330106") and len(body["township"]["code"]) == 9
    assert body["grid_cell"]["code"].startswith(body["township"]["code"])
    duties = sorted(o["duty"] for o in body["officers"])
    assert duties.count("leader") == 1 and duties.count("officer") >= 2
    assert all("phone" not in o for o in body["officers"]), "the public sees names, not phone numbers"


def test_point_on_a_shared_edge_resolves_to_the_same_cell_every_time(api):
    with connection.cursor() as cur:
        # A vertex the two neighbours share lies exactly on both (an interpolated point would not).
        cur.execute(
            """SELECT a.code, b.code, ST_Y(d.geom), ST_X(d.geom)
                 FROM gridgov_gridcell a
                 JOIN gridgov_gridcell b ON a.township_id = b.township_id AND a.code < b.code AND ST_Touches(a.geom, b.geom)
                 CROSS JOIN LATERAL ST_DumpPoints(a.geom) d
                WHERE ST_Covers(b.geom, d.geom)
                LIMIT 1"""
        )
        low, high, lat, lon = cur.fetchone()
        cur.execute(
            "SELECT count(*) FROM gridgov_gridcell WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
            [lon, lat],
        )
        assert cur.fetchone()[0] >= 2, "the test point must lie on both cells"
    answers = {locate(api, lat, lon).json()["grid_cell"]["code"] for _ in range(5)}
    assert answers == {low}


def _district_wgs84(code):
    return shapely.from_wkb(bytes(AdminArea.objects.get(code=code).geom.wkb))


def test_point_200m_inside_a_district_near_its_border_resolves_to_it(api):
    # 西湖区's boundary with 上城区 runs through the city: take the point of 西湖区 that is
    # exactly 200 m inside its border, nearest the 上城区 boundary (measured in Gauss-Kruger 4549).
    xihu = to_gk(_district_wgs84("330106"))
    shangcheng = to_gk(_district_wgs84("330102"))
    inner = xihu.buffer(-200)
    target = nearest_points(inner.boundary, shangcheng)[0]
    assert xihu.boundary.distance(target) == pytest.approx(200, abs=1)
    assert shangcheng.distance(target) < 400
    lon, lat = FROM_GK.transform(target.x, target.y)
    r = locate(api, lat, lon)
    assert r.status_code == 200, r.content
    assert r.json()["district"]["code"] == "330106"
    # The same place given in GCJ-02 (as an AMap user would) resolves identically.
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    assert locate(api, glat, glon, crs="gcj02").json()["district"]["code"] == "330106"


def test_boundaries_were_converted_from_gcj02():
    # The stored (WGS84) outline of 西湖区 sits 300-700 m from the published GCJ-02 outline.
    raw = next(f for f in json.loads(FIXTURE.read_text())["features"] if f["properties"]["code"] == "330106")
    gcj = shape(raw["geometry"]).centroid
    wgs = _district_wgs84("330106").centroid
    dx = (gcj.x - wgs.x) * 111_320 * math.cos(math.radians(wgs.y))
    dy = (gcj.y - wgs.y) * 110_574
    assert 300 < math.hypot(dx, dy) < 700


@pytest.mark.parametrize("crs", ["gcj02", "bd09", "cgcs2000"])
def test_every_crs_resolves_the_same_place(api, crs):
    lon, lat = 120.1410, 30.2455
    x, y = coords.from_wgs84(lon, lat, crs)
    assert locate(api, y, x, crs=crs).json()["grid_cell"] == locate(api, lat, lon).json()["grid_cell"]


@pytest.mark.parametrize(
    "params,field",
    [
        ({"lon": "120.14"}, "lat"),
        ({"lat": "30.24"}, "lon"),
        ({"lat": "abc", "lon": "120.14"}, "lat"),
        ({"lat": "30.24", "lon": ""}, "lon"),
        ({"lat": "NaN", "lon": "120.14"}, "lat"),
        ({"lat": "30.24", "lon": "inf"}, "lon"),
        ({"lat": "120.14", "lon": "30.24"}, "lat"),  # swapped
        ({"lat": "30.24", "lon": "190"}, "lon"),
        ({"lat": "30.24", "lon": "120.14", "crs": "epsg:3857"}, "crs"),
        ({"lat": "39.9", "lon": "116.4"}, "lat"),  # Beijing: outside Hangzhou
        ({"lat": "0", "lon": "0"}, "lat"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(api, params, field):
    r = api.get("/api/locate/", params)
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["field"] == field
    # The message names the parameter by its label as people read it, not by its API name.
    assert {"lat": "纬度", "lon": "经度", "crs": "坐标系"}[field] in body["message"]


def test_locate_shows_phones_only_to_staff_in_scope(user_api):
    r = user_api("district_supervisor").get("/api/locate/", {"lat": 30.2455, "lon": 120.1410})
    assert all("phone" in o for o in r.json()["officers"])
    # 上城区 is outside 西湖区's supervisor's scope.
    r = user_api("district_supervisor").get("/api/locate/", {"lat": 30.2460, "lon": 120.1710})
    assert r.json()["district"]["code"] == "330102"
    assert all("phone" not in o for o in r.json()["officers"])
