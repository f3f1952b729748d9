"""Geometry at the edge: request values into storage-SRID geometries.

Views validate coordinates with the shared fields of `gridgov.validation` (`CRSField`,
`FiniteFloatField`, `BBoxField`) inside their serializers and turn the clean values into a
point with `point_from`. `parse_crs` and `parse_bbox` check a single raw value with those very
fields, for code that has no serializer of its own yet.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.geos import Point
from django.utils.translation import gettext as _
from rest_framework import serializers

from . import coords
from .errors import InvalidInput
from .validation import BBoxField, CRSField

# Output SRIDs a client may ask geometries in: WGS84 (the default) or CGCS2000.
OUTPUT_SRIDS = {"4326": 4326, "epsg:4326": 4326, "wgs84": 4326, "4490": 4490, "epsg:4490": 4490, "cgcs2000": 4490}


def point_from(lat: float, lon: float, crs: str = coords.CRS.WGS84.value) -> Point:
    """A validated latitude and longitude in `crs` → a point in the storage SRID (WGS84)."""
    x, y = coords.to_wgs84(lon, lat, crs)
    return Point(float(x), float(y), srid=settings.GRIDGOV_SRID)


def _one(field: serializers.Field, value: object, name: str):
    """Validate one raw value with a serializer field; InvalidInput naming it by its label."""
    try:
        return field.run_validation(value)
    except serializers.ValidationError as exc:
        detail = exc.detail[0] if isinstance(exc.detail, list) else exc.detail
        message = _("%(label)s：%(problem)s") % {"label": field.label, "problem": detail}
        raise InvalidInput(message, code=getattr(detail, "code", None) or "invalid", field=name)


def parse_crs(value: object, *, field: str = "crs") -> str:
    """An input coordinate system name (wgs84 when absent)."""
    return _one(CRSField(), coords.CRS.WGS84.value if value in (None, "") else value, field)


def parse_bbox(value: object, *, field: str = "bbox") -> tuple[float, float, float, float]:
    """'minlon,minlat,maxlon,maxlat' (WGS84) → a 4-tuple of floats."""
    return _one(BBoxField(required=True), "" if value is None else value, field)
