"""Convert coordinates between WGS84, CGCS2000 and China's offset systems.

GCJ-02 is the obfuscated system of AMap and Tencent maps; BD-09 (Baidu) adds a second
offset on top of GCJ-02. The forward formulas are the widely published ones (GCJ-02 on
the Krasovsky ellipsoid, BD-09 with ``x_pi = pi * 3000 / 180``). Neither has a
closed-form inverse, so the inverses iterate the forward formula until the residual is
below ``INVERSE_TOLERANCE_DEG``, which takes three to five steps.

Expect sub-metre agreement with AMap, not better: coordinates produced by AMap itself
differ from this published formula by a systematic ~0.7 m (checked against gcoord's
fixture of real map-service coordinates). The BD-09 step agrees with Baidu to the 7
decimals such fixtures carry.

Every function takes scalars or array-likes (broadcast against each other) and returns
Python floats for scalar input, float64 arrays otherwise. Points outside the rough
China bounding box are returned unchanged; the box is a rectangle, so it also covers
Korea, western Japan, Mongolia and much of South-East Asia, which are shifted too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import StrEnum
from functools import lru_cache
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Geod, Transformer
from shapely.geometry.base import BaseGeometry

__all__ = [
    "CRS",
    "INVERSE_MAX_ITERATIONS",
    "INVERSE_TOLERANCE_DEG",
    "UnknownCRSError",
    "area_m2",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "to_wgs84",
    "transform_geometry",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]
# Scalars in, floats out; arrays in, arrays out.
LonLat: TypeAlias = tuple[float, float] | tuple[FloatArray, FloatArray]


class CRS(StrEnum):
    """Name the coordinate systems that GridGov accepts at its edges."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"
    CGCS2000 = "cgcs2000"


class UnknownCRSError(ValueError):
    """Report a coordinate-system name that is not one of ``CRS``."""

    def __init__(self, crs: object) -> None:
        accepted = ", ".join(member.value for member in CRS)
        super().__init__(f"unknown crs {crs!r}; accepted: {accepted}")
        self.crs = crs


# Krasovsky 1940 ellipsoid, as used by the published GCJ-02 algorithm.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0

# The rough China bounding box used by the published implementations
# (wandergis/coordtransform, gcoord).
_CHINA_LON_MIN, _CHINA_LON_MAX = 72.004, 137.8347
_CHINA_LAT_MIN, _CHINA_LAT_MAX = 0.8293, 55.8271

INVERSE_TOLERANCE_DEG = 1e-10
"""Stop iterating once every point's forward residual is below this (~0.01 mm)."""
INVERSE_MAX_ITERATIONS = 30
"""Return the best estimate after this many steps (China needs at most five)."""

_GEOD = Geod(ellps="WGS84")


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    """Shift WGS84 lon/lat to GCJ-02 (AMap, Tencent)."""
    return _inside_china(_gcj02_encode, lon, lat)


def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    """Recover WGS84 lon/lat from GCJ-02 by iterating the forward shift.

    The one-step inverse found in most libraries (``2 * gcj - forward(gcj)``) is off by
    up to a few metres; this converges to ``INVERSE_TOLERANCE_DEG``.
    """

    def decode(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        return _invert(_gcj02_encode, x, y, start=(x, y))

    return _inside_china(decode, lon, lat)


def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    """Shift GCJ-02 lon/lat to BD-09 (Baidu)."""
    return _inside_china(_bd09_encode, lon, lat)


def bd09_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    """Recover GCJ-02 lon/lat from BD-09.

    Start from the published closed-form decoder, which is itself approximate (up to
    ~0.15 m in Hangzhou), and refine it by iterating the forward formula.
    """

    def decode(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        return _invert(_bd09_encode, x, y, start=_bd09_decode_approx(x, y))

    return _inside_china(decode, lon, lat)


def wgs84_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    """Shift WGS84 lon/lat to BD-09 (through GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    """Recover WGS84 lon/lat from BD-09 (through GCJ-02)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike, crs: str) -> LonLat:
    """Convert lon/lat given in ``crs`` to WGS84.

    Raise ``UnknownCRSError`` if ``crs`` is not one of ``CRS`` (case-insensitive).
    """
    return _convert(lon, lat, _parse_crs(crs), CRS.WGS84)


def from_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike, crs: str) -> LonLat:
    """Convert WGS84 lon/lat to ``crs``.

    Raise ``UnknownCRSError`` if ``crs`` is not one of ``CRS`` (case-insensitive).
    """
    return _convert(lon, lat, CRS.WGS84, _parse_crs(crs))


def transform_geometry(geom: BaseGeometry, crs_from: str, crs_to: str) -> BaseGeometry:
    """Convert every vertex of a shapely geometry from ``crs_from`` to ``crs_to``.

    All vertices go through one vectorised call, so large polygons convert quickly.
    Z values, if any, are kept as they are.
    """
    source, target = _parse_crs(crs_from), _parse_crs(crs_to)
    if source is target:
        return geom

    def convert(coords: FloatArray) -> FloatArray:
        out = coords.copy()
        out[:, 0], out[:, 1] = _convert(coords[:, 0], coords[:, 1], source, target)
        return out

    # include_z=None keeps each geometry's own dimensionality (2D stays 2D, Z is kept).
    return shapely.transform(geom, convert, include_z=None)


def area_m2(geom_wgs84: BaseGeometry) -> float:
    """Return the geodesic area in square metres of a WGS84 lon/lat geometry.

    Ring direction does not matter. Only polygonal parts count; points and lines have
    no area, as in PostGIS.
    """
    polygons = [
        part
        for part in shapely.get_parts(geom_wgs84)
        if part.geom_type in ("Polygon", "MultiPolygon") and not part.is_empty
    ]
    if not polygons:
        return 0.0
    # Geod signs each ring by its direction and adds holes with their own sign, so a
    # hole drawn in the same direction as its shell would be added, not subtracted.
    oriented = shapely.orient_polygons(shapely.MultiPolygon(shapely.get_parts(polygons)))
    area, _perimeter = _GEOD.geometry_area_perimeter(oriented)
    return abs(float(area))


def _parse_crs(crs: object) -> CRS:
    try:
        return CRS(str(crs).strip().lower())
    except ValueError:
        raise UnknownCRSError(crs) from None


def _convert(lon: npt.ArrayLike, lat: npt.ArrayLike, source: CRS, target: CRS) -> LonLat:
    direct = _DIRECT.get((source, target))
    if direct is not None:
        return direct(lon, lat)
    # Everything else goes through WGS84.
    wgs_lon, wgs_lat = _TO_WGS84[source](lon, lat)
    return _FROM_WGS84[target](wgs_lon, wgs_lat)


def _identity(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    x, y, scalar = _as_arrays(lon, lat)
    return _result(x.copy(), y.copy(), scalar)


@lru_cache(maxsize=1)
def _cgcs2000_transformer() -> Transformer:
    # pyproj Transformers are thread-safe since 3.1, so one cached instance serves all.
    return Transformer.from_crs("EPSG:4490", "EPSG:4326", always_xy=True)


def _cgcs2000_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    x, y, scalar = _as_arrays(lon, lat)
    tx, ty = _cgcs2000_transformer().transform(x, y)
    return _result(np.asarray(tx, dtype=np.float64), np.asarray(ty, dtype=np.float64), scalar)


def _wgs84_to_cgcs2000(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    x, y, scalar = _as_arrays(lon, lat)
    tx, ty = _cgcs2000_transformer().transform(x, y, direction="INVERSE")
    return _result(np.asarray(tx, dtype=np.float64), np.asarray(ty, dtype=np.float64), scalar)


_Converter: TypeAlias = Callable[[npt.ArrayLike, npt.ArrayLike], LonLat]

_TO_WGS84: dict[CRS, _Converter] = {
    CRS.WGS84: _identity,
    CRS.GCJ02: gcj02_to_wgs84,
    CRS.BD09: bd09_to_wgs84,
    CRS.CGCS2000: _cgcs2000_to_wgs84,
}
_FROM_WGS84: dict[CRS, _Converter] = {
    CRS.WGS84: _identity,
    CRS.GCJ02: wgs84_to_gcj02,
    CRS.BD09: wgs84_to_bd09,
    CRS.CGCS2000: _wgs84_to_cgcs2000,
}
# GCJ-02 and BD-09 convert into each other without the detour (and the extra
# inversion) through WGS84.
_DIRECT: dict[tuple[CRS, CRS], _Converter] = {
    (CRS.GCJ02, CRS.BD09): gcj02_to_bd09,
    (CRS.BD09, CRS.GCJ02): bd09_to_gcj02,
}


def _as_arrays(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray, bool]:
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    scalar = x.ndim == 0 and y.ndim == 0
    x, y = np.broadcast_arrays(x, y)
    return x, y, scalar


def _result(x: FloatArray, y: FloatArray, scalar: bool) -> LonLat:
    if scalar:
        return float(x), float(y)
    return x, y


def _in_china(x: FloatArray, y: FloatArray) -> npt.NDArray[np.bool_]:
    return (x >= _CHINA_LON_MIN) & (x <= _CHINA_LON_MAX) & (y >= _CHINA_LAT_MIN) & (y <= _CHINA_LAT_MAX)


def _inside_china(
    convert: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
) -> LonLat:
    """Apply ``convert`` to the points inside China and pass the others through.

    Only the inside points are computed: the formulas divide by cos(lat) and would warn
    (or fail to converge) at the poles, and NaN input stays NaN.
    """
    x, y, scalar = _as_arrays(lon, lat)
    inside = _in_china(x, y)
    out_x, out_y = x.copy(), y.copy()
    if inside.any():
        out_x[inside], out_y[inside] = convert(x[inside], y[inside])
    return _result(out_x, out_y, scalar)


def _gcj02_encode(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    d_lon, d_lat = _gcj02_offset(lon, lat)
    return lon + d_lon, lat + d_lat


def _gcj02_offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    x = lon - 105.0
    y = lat - 35.0
    pi = math.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    d_lat = d_lat + common
    d_lat = d_lat + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    d_lat = d_lat + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    d_lon = d_lon + common
    d_lon = d_lon + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    d_lon = d_lon + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0

    rad_lat = lat / 180.0 * pi
    magic = 1.0 - _KRASOVSKY_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * pi)
    d_lon = (d_lon * 180.0) / (_KRASOVSKY_A / sqrt_magic * np.cos(rad_lat) * pi)
    return d_lon, d_lat


def _bd09_encode(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd09_decode_approx(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _invert(
    forward: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    target_x: FloatArray,
    target_y: FloatArray,
    start: tuple[FloatArray, FloatArray],
) -> tuple[FloatArray, FloatArray]:
    """Find (x, y) with forward(x, y) == target by fixed-point iteration.

    The offsets change slowly with position, so subtracting the forward residual
    shrinks the error by a factor of a few hundred per step.
    """
    x, y = start
    for _ in range(INVERSE_MAX_ITERATIONS):
        fx, fy = forward(x, y)
        rx = fx - target_x
        ry = fy - target_y
        x = x - rx
        y = y - ry
        if not (np.any(np.abs(rx) > INVERSE_TOLERANCE_DEG) or np.any(np.abs(ry) > INVERSE_TOLERANCE_DEG)):
            break
    return x, y
