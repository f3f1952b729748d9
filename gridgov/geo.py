"""Geometry at the edge: parse coordinates from requests into storage-SRID geometries."""

from __future__ import annotations

import math

from django.conf import settings
from django.contrib.gis.geos import Point

from . import coords
from .errors import InvalidInput

CRS_NAMES = ("wgs84", "gcj02", "bd09", "cgcs2000")


def parse_float(value: object, *, field: str) -> float:
    """Return a finite float, or raise InvalidInput naming the field."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInput(f"缺少参数 {field} / missing parameter '{field}'", field=field)
    if isinstance(value, bool):
        raise InvalidInput(f"参数 {field} 必须是数字 / '{field}' must be a number", field=field)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInput(
            f"参数 {field} 必须是数字 / '{field}' must be a number, got {str(value)[:40]!r}", field=field
        )
    if not math.isfinite(number):
        raise InvalidInput(f"参数 {field} 必须是有限数字 / '{field}' must be finite, got {value!r}", field=field)
    return number


def parse_crs(value: object, *, field: str = "crs") -> str:
    crs = str(value).strip().lower() if value not in (None, "") else "wgs84"
    if crs not in CRS_NAMES:
        raise InvalidInput(
            f"不支持的坐标系 {str(value)[:20]!r} / unknown {field}; use one of {', '.join(CRS_NAMES)}",
            field=field,
        )
    return crs


def parse_point(
    lat: object, lon: object, crs: object = None, *, lat_field: str = "lat", lon_field: str = "lon"
) -> Point:
    """Return a storage-SRID point from request values, naming the offending parameter on error."""
    crs_name = parse_crs(crs)
    y = parse_float(lat, field=lat_field)
    x = parse_float(lon, field=lon_field)
    if not -90 <= y <= 90:
        raise InvalidInput(
            f"纬度超出范围 / '{lat_field}' must be between -90 and 90, got {y} (are lat and lon swapped?)",
            field=lat_field,
        )
    if not -180 <= x <= 180:
        raise InvalidInput(f"经度超出范围 / '{lon_field}' must be between -180 and 180, got {x}", field=lon_field)
    wx, wy = coords.to_wgs84(x, y, crs_name)
    return Point(float(wx), float(wy), srid=settings.GRIDGOV_SRID)


def parse_bbox(value: object, *, field: str = "bbox") -> tuple[float, float, float, float]:
    """Parse 'minlon,minlat,maxlon,maxlat' (WGS84)."""
    parts = str(value or "").split(",")
    if len(parts) != 4:
        raise InvalidInput(f"'{field}' must be 4 numbers: minlon,minlat,maxlon,maxlat", field=field)
    x0, y0, x1, y1 = (parse_float(p, field=field) for p in parts)
    if not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= 90 and -90 <= y1 <= 90):
        raise InvalidInput(f"'{field}' is out of range for WGS84 longitude/latitude", field=field)
    if x0 > x1 or y0 > y1:
        raise InvalidInput(f"'{field}' must be minlon,minlat,maxlon,maxlat (min before max)", field=field)
    return x0, y0, x1, y1


OUTPUT_SRIDS = {"4326": 4326, "epsg:4326": 4326, "wgs84": 4326, "4490": 4490, "epsg:4490": 4490, "cgcs2000": 4490}


def parse_output_srid(value: object, *, field: str = "crs") -> int:
    """Return the SRID to emit geometries in: WGS84 (4326, default) or CGCS2000 (4490)."""
    if value in (None, ""):
        return 4326
    srid = OUTPUT_SRIDS.get(str(value).strip().lower())
    if srid is None:
        raise InvalidInput(f"'{field}' must be 4326 or 4490, got {str(value)[:20]!r}", field=field)
    return srid
