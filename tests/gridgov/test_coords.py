"""Tests for gridgov.coords: GCJ-02 / BD-09 / CGCS2000 conversions and geodesic areas.

Reference numbers come from published sources, named next to each. No database needed.
"""

import math

import numpy as np
import pytest
import shapely
from pyproj import Geod

from gridgov import coords
from gridgov.coords import (
    CRS,
    UnknownCRSError,
    area_m2,
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    transform_geometry,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")
DEG_TOL = 1e-6


def distance_m(lon1, lat1, lon2, lat2):
    """Return the geodesic distance in metres between two sets of WGS84 points."""
    _, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(dist)


def hangzhou_grid():
    """Return a 0.01-degree grid over Hangzhou (lon 118.3-120.8, lat 29.2-30.6)."""
    lon, lat = np.meshgrid(np.linspace(118.3, 120.8, 251), np.linspace(29.2, 30.6, 141))
    return lon.ravel(), lat.ravel()


# --- Published reference pairs ----------------------------------------------------

# (source, input lon/lat, expected lon/lat)
WGS84_TO_GCJ02 = [
    # wandergis/coordtransform, test/app.js ("//result" comment): wgs84togcj02(116.404, 39.915).
    ("wandergis Beijing", (116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    # hujiulong/gcoord, test/unit/crs/WGS84.spec.ts: WGS84 -> GCJ02 of [123, 45].
    ("gcoord [123, 45]", (123.0, 45.0), (123.00607541, 45.00197815)),
    # Glatzel/pyxis, python/tests/test_crypto.py: wgs84 -> gcj02, Pinghu (Zhejiang).
    ("pyxis Pinghu", (121.0917077, 30.6107779), (121.09626935575027, 30.608604331756705)),
]

GCJ02_TO_BD09 = [
    # wandergis/coordtransform, test/app.js: gcj02tobd09(116.404, 39.915).
    ("wandergis Beijing", (116.404, 39.915), (116.41036949371029, 39.92133699351021)),
    # hujiulong/gcoord, test/fixtures/china-cities.json, entry 杭州市 拱墅区 (coordinates
    # recorded from the map services themselves): GCJ02 -> BD09.
    ("gcoord Hangzhou", (120.1550722, 30.274088), (120.1616149, 30.2799982)),
    # Alibaba Cloud 地址标准化 TransferCoord API example (杭州市 余杭区),
    # https://help.aliyun.com/document_detail/214134.html: GCJ02 -> BD09, 6 decimals.
    ("Aliyun Yuhang", (120.026268, 30.279164), (120.032768, 30.285238)),
    # Glatzel/pyxis, python/tests/test_crypto.py: gcj02 -> bd09.
    ("pyxis Pinghu", (121.09626935575027, 30.608604331756705), (121.10271732371203, 30.61484572185035)),
]

WGS84_TO_BD09 = [
    # hujiulong/gcoord, README.md example: transform([116.403988, 39.914266], WGS84, BD09).
    # (The often-quoted BD09 pair belongs to this input, not to 116.404, 39.915.)
    ("gcoord README", (116.403988, 39.914266), (116.41661560068297, 39.92196580126834)),
    # Glatzel/pyxis, python/tests/test_crypto.py: wgs84 -> bd09.
    ("pyxis Pinghu", (121.0917077, 30.6107779), (121.10271732371203, 30.61484572185035)),
]


@pytest.mark.parametrize(("source", "given", "expected"), WGS84_TO_GCJ02, ids=[r[0] for r in WGS84_TO_GCJ02])
def test_wgs84_to_gcj02_matches_published(source, given, expected):
    assert wgs84_to_gcj02(*given) == pytest.approx(expected, abs=DEG_TOL)


@pytest.mark.parametrize(("source", "given", "expected"), GCJ02_TO_BD09, ids=[r[0] for r in GCJ02_TO_BD09])
def test_gcj02_to_bd09_matches_published(source, given, expected):
    assert gcj02_to_bd09(*given) == pytest.approx(expected, abs=DEG_TOL)


@pytest.mark.parametrize(("source", "given", "expected"), WGS84_TO_BD09, ids=[r[0] for r in WGS84_TO_BD09])
def test_wgs84_to_bd09_matches_published(source, given, expected):
    assert wgs84_to_bd09(*given) == pytest.approx(expected, abs=DEG_TOL)


def test_bd09_to_gcj02_stays_close_to_the_published_decoder():
    # wandergis/coordtransform, test/app.js: bd09togcj02(116.404, 39.915). That closed-form
    # decoder is approximate; ours refines it, so it may differ, but only by centimetres.
    expected = (116.39762729119315, 39.90865673957631)
    result = bd09_to_gcj02(116.404, 39.915)
    assert result == pytest.approx(expected, abs=DEG_TOL)
    # ...and the refinement is an exact inverse of the forward formula.
    assert gcj02_to_bd09(*result) == pytest.approx((116.404, 39.915), abs=1e-9)


def test_hangzhou_wgs84_to_gcj02_agrees_with_amap_within_a_metre():
    # hujiulong/gcoord, test/fixtures/china-cities.json, 杭州市 拱墅区: WGS84 and the GCJ02
    # that the map service itself returned. The published formula differs from the real
    # encoder by a systematic ~0.7 m (5e-6 degrees), so compare at 1e-5 and in metres.
    wgs = (120.1503589, 30.2764043)
    amap_gcj = (120.1550722, 30.274088)
    gcj = wgs84_to_gcj02(*wgs)
    assert gcj == pytest.approx(amap_gcj, abs=1e-5)
    assert distance_m(*gcj, *amap_gcj) < 1.0
    # The offset itself is the expected few hundred metres, so this is not a no-op match.
    assert distance_m(*wgs, *amap_gcj) > 400.0


def test_published_hangzhou_wgs84_is_the_naive_inverse_and_ours_is_exact():
    # Alibaba Cloud TransferCoord example (杭州市 余杭区),
    # https://help.aliyun.com/document_detail/214134.html: GCJ02 120.026268,30.279164
    # -> WGS84 120.021519,30.281543 (6 decimals).
    gcj = (120.026268, 30.279164)
    published_wgs = (120.021519, 30.281543)

    # The published value is the one-step inverse 2*gcj - forward(gcj); reproducing it to
    # the published 6 decimals checks our forward formula in Hangzhou to 1e-6.
    fwd = wgs84_to_gcj02(*gcj)
    naive = (2 * gcj[0] - fwd[0], 2 * gcj[1] - fwd[1])
    assert naive == pytest.approx(published_wgs, abs=DEG_TOL)

    # Shifting the published value forward again misses the input by more than half a metre;
    # shifting ours lands on it.
    assert distance_m(*wgs84_to_gcj02(*published_wgs), *gcj) > 0.5
    ours = gcj02_to_wgs84(*gcj)
    assert distance_m(*wgs84_to_gcj02(*ours), *gcj) < 0.001
    assert distance_m(*ours, *published_wgs) > 0.5


# --- Round trips over Hangzhou ----------------------------------------------------


@pytest.mark.parametrize(
    "forward,inverse", [(wgs84_to_gcj02, gcj02_to_wgs84), (wgs84_to_bd09, bd09_to_wgs84)], ids=["gcj02", "bd09"]
)
def test_round_trip_from_wgs84_is_sub_metre_over_hangzhou(forward, inverse):
    lon, lat = hangzhou_grid()
    back_lon, back_lat = inverse(*forward(lon, lat))
    assert distance_m(lon, lat, back_lon, back_lat).max() < 0.5
    # The target the module is written for: well under a metre, below 1e-7 degrees.
    assert np.abs(back_lon - lon).max() < 1e-7
    assert np.abs(back_lat - lat).max() < 1e-7


def test_naive_one_step_inverse_is_worse_than_half_a_metre_in_hangzhou():
    # Without iteration the inverse is off by metres; this is why gcj02_to_wgs84 iterates.
    lon, lat = hangzhou_grid()
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    fwd_lon, fwd_lat = wgs84_to_gcj02(gcj_lon, gcj_lat)
    naive_lon, naive_lat = 2 * gcj_lon - fwd_lon, 2 * gcj_lat - fwd_lat
    assert distance_m(lon, lat, naive_lon, naive_lat).max() > 0.5


# --- Behaviour --------------------------------------------------------------------

ALL_FUNCTIONS = [
    wgs84_to_gcj02,
    gcj02_to_wgs84,
    gcj02_to_bd09,
    bd09_to_gcj02,
    wgs84_to_bd09,
    bd09_to_wgs84,
]

OUTSIDE_CHINA = [
    (2.3522, 48.8566),  # Paris
    (-74.006, 40.7128),  # New York
    (139.6917, 35.6895),  # Tokyo: east of the box
    (151.2093, -33.8688),  # Sydney
    (100.5018, -0.5),  # south of the box
]


@pytest.mark.parametrize("func", ALL_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("point", OUTSIDE_CHINA)
def test_points_outside_china_pass_through_unchanged(func, point):
    assert func(*point) == point


@pytest.mark.parametrize("func", ALL_FUNCTIONS, ids=lambda f: f.__name__)
def test_inside_china_is_shifted_by_hundreds_of_metres(func):
    # Guards the pass-through test: the same functions do move a Hangzhou point.
    lon, lat = 120.15, 30.27
    assert 100.0 < distance_m(lon, lat, *func(lon, lat)) < 1500.0


def _conversions():
    yield from ((f.__name__, f) for f in ALL_FUNCTIONS)
    for crs in CRS:
        yield (f"to_wgs84[{crs}]", lambda lon, lat, crs=crs: to_wgs84(lon, lat, crs))
        yield (
            f"from_wgs84[{crs}]",
            lambda lon, lat, crs=crs: from_wgs84(lon, lat, crs),
        )


CONVERSIONS = list(_conversions())


@pytest.mark.parametrize(("name", "func"), CONVERSIONS, ids=[c[0] for c in CONVERSIONS])
def test_array_input_equals_scalar_loop(name, func):
    lon = np.array([120.15, 119.0, 120.79, 116.404, 2.35, np.nan, 118.3])
    lat = np.array([30.27, 29.5, 30.6, 39.915, 48.85, 30.0, 29.2])
    lon_before, lat_before = lon.copy(), lat.copy()

    out_lon, out_lat = func(lon, lat)

    assert isinstance(out_lon, np.ndarray) and out_lon.shape == lon.shape
    expected = [func(float(x), float(y)) for x, y in zip(lon, lat, strict=True)]
    assert all(isinstance(v, float) for pair in expected for v in pair)
    # Array and scalar calls may stop iterating at different steps; both are converged.
    np.testing.assert_allclose(out_lon, [e[0] for e in expected], rtol=0, atol=1e-9)
    np.testing.assert_allclose(out_lat, [e[1] for e in expected], rtol=0, atol=1e-9)
    # The caller's arrays are not modified in place.
    np.testing.assert_array_equal(lon, lon_before)
    np.testing.assert_array_equal(lat, lat_before)


def test_array_shape_is_kept_and_scalars_broadcast():
    lon = np.array([[120.1, 120.2], [120.3, 120.4]])
    out_lon, out_lat = wgs84_to_gcj02(lon, 30.0)
    assert out_lon.shape == (2, 2) and out_lat.shape == (2, 2)
    assert out_lon[1, 0] == pytest.approx(wgs84_to_gcj02(120.3, 30.0)[0], abs=1e-12)


def test_inverse_is_bounded_for_nan_input():
    lon, lat = gcj02_to_wgs84(np.array([np.nan, 120.15]), np.array([30.0, np.nan]))
    assert np.isnan(lon[0]) and np.isnan(lat[1])


@pytest.mark.parametrize(
    "call",
    [
        lambda: to_wgs84(120.0, 30.0, "epsg:4326"),
        lambda: from_wgs84(120.0, 30.0, "baidu"),
        lambda: transform_geometry(shapely.Point(120.0, 30.0), "wgs84", "gcj-02"),
        lambda: transform_geometry(shapely.Point(120.0, 30.0), "mercator", "mercator"),
    ],
)
def test_unknown_crs_raises_and_lists_accepted_names(call):
    with pytest.raises(UnknownCRSError) as info:
        call()
    assert isinstance(info.value, ValueError)
    for name in ("wgs84", "gcj02", "bd09", "cgcs2000"):
        assert name in str(info.value)


def test_to_and_from_wgs84_dispatch_on_crs_name():
    lon, lat = 120.15, 30.27
    assert to_wgs84(lon, lat, "gcj02") == gcj02_to_wgs84(lon, lat)
    assert to_wgs84(lon, lat, "BD09") == bd09_to_wgs84(lon, lat)
    assert from_wgs84(lon, lat, CRS.GCJ02) == wgs84_to_gcj02(lon, lat)
    assert from_wgs84(lon, lat, " bd09 ") == wgs84_to_bd09(lon, lat)
    assert to_wgs84(lon, lat, "wgs84") == (lon, lat)
    assert from_wgs84(lon, lat, "wgs84") == (lon, lat)


def test_cgcs2000_is_a_near_identity_through_pyproj():
    # CGCS2000 and WGS84 differ by centimetres; it must not be treated like GCJ-02.
    lon, lat = np.array([120.15, 118.3]), np.array([30.27, 29.2])
    for result in (to_wgs84(lon, lat, "cgcs2000"), from_wgs84(lon, lat, "cgcs2000")):
        assert distance_m(lon, lat, *result).max() < 0.1
    assert coords._cgcs2000_transformer() is coords._cgcs2000_transformer()


# --- Geometries -------------------------------------------------------------------


def hangzhou_polygon():
    """Return a WGS84 polygon with a hole around West Lake."""
    shell = [(120.10, 30.20), (120.20, 30.20), (120.20, 30.30), (120.10, 30.30)]
    hole = [(120.13, 30.23), (120.13, 30.26), (120.16, 30.26), (120.16, 30.23)]
    return shapely.Polygon(shell, [hole])


def test_transform_geometry_moves_every_vertex_like_the_point_functions():
    polygon = hangzhou_polygon()
    shifted = transform_geometry(polygon, "wgs84", "gcj02")

    assert shifted.geom_type == "Polygon"
    assert len(shifted.interiors) == 1
    src = shapely.get_coordinates(polygon)
    out = shapely.get_coordinates(shifted)
    expected = np.column_stack(wgs84_to_gcj02(src[:, 0], src[:, 1]))
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)
    assert distance_m(src[:, 0], src[:, 1], out[:, 0], out[:, 1]).min() > 100.0


def test_transform_geometry_round_trips_and_converts_gcj02_bd09_directly():
    polygon = hangzhou_polygon()
    bd = transform_geometry(polygon, "wgs84", "bd09")
    assert shapely.equals_exact(transform_geometry(bd, "bd09", "wgs84"), polygon, tolerance=1e-7)

    gcj = transform_geometry(polygon, CRS.WGS84, CRS.GCJ02)
    direct = shapely.get_coordinates(transform_geometry(gcj, "gcj02", "bd09"))
    src = shapely.get_coordinates(gcj)
    np.testing.assert_allclose(direct, np.column_stack(gcj02_to_bd09(src[:, 0], src[:, 1])), rtol=0, atol=1e-12)


def test_transform_geometry_keeps_z_and_same_crs_is_a_no_op():
    line = shapely.LineString([(120.1, 30.2, 5.0), (120.2, 30.3, 7.5)])
    shifted = transform_geometry(line, "wgs84", "gcj02")
    assert shifted.has_z
    np.testing.assert_array_equal(shapely.get_coordinates(shifted, include_z=True)[:, 2], [5.0, 7.5])
    assert transform_geometry(line, "gcj02", "GCJ02").equals(line)


def authalic_box_area_m2(lon_span_deg, lat_south, lat_north):
    """Return the area of a lon/lat quadrangle on WGS84 from the closed-form authalic formula.

    A = a^2 * dlon * (q(lat_north) - q(lat_south)) / 2 with Snyder's
    q(phi) = (1 - e^2) * (sin(phi) / (1 - e^2 sin^2(phi)) - ln((1 - e sin(phi)) / (1 + e sin(phi))) / (2e))
    (Snyder, Map Projections - A Working Manual, eq. 3-12). This bounds the box by
    parallels, while Geod joins corners by geodesics; for a 0.01-degree box the two
    differ by under 0.001 m^2.
    """
    a = 6378137.0
    f = 1 / 298.257223563
    e2 = f * (2 - f)
    e = math.sqrt(e2)

    def q(lat_deg):
        s = math.sin(math.radians(lat_deg))
        return (1 - e2) * (s / (1 - e2 * s * s) - math.log((1 - e * s) / (1 + e * s)) / (2 * e))

    return a * a * math.radians(lon_span_deg) * (q(lat_north) - q(lat_south)) / 2


def test_area_m2_of_small_box_matches_closed_form():
    box = shapely.box(120.0, 30.0, 120.01, 30.01)
    expected = authalic_box_area_m2(0.01, 30.0, 30.01)  # ~1,069,521 m^2
    assert area_m2(box) == pytest.approx(expected, rel=1e-8)
    # Clockwise input gives the same positive area.
    assert area_m2(box.reverse()) == pytest.approx(expected, rel=1e-8)


def test_area_m2_subtracts_holes_whatever_their_direction_and_sums_parts():
    outer = shapely.box(120.0, 30.0, 120.02, 30.02)
    inner = shapely.box(120.005, 30.005, 120.015, 30.015)
    # Both rings counter-clockwise: a plain Geod call would add the hole instead.
    same_direction = shapely.Polygon(outer.exterior.coords, [inner.exterior.coords])
    expected = area_m2(outer) - area_m2(inner)
    assert area_m2(same_direction) == pytest.approx(expected, rel=1e-9)

    far = shapely.box(121.0, 30.0, 121.01, 30.01).reverse()  # clockwise part
    multi = shapely.MultiPolygon([same_direction, far])
    assert area_m2(multi) == pytest.approx(expected + area_m2(far), rel=1e-9)


def test_area_m2_of_points_lines_and_empty_is_zero():
    assert area_m2(shapely.LineString([(120.0, 30.0), (120.1, 30.0), (120.1, 30.1)])) == 0.0
    assert area_m2(shapely.Point(120.0, 30.0)) == 0.0
    assert area_m2(shapely.Polygon()) == 0.0
