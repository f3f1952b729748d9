"""Input validated at the API edge, by the very serializers the OpenAPI schema shows.

A view declares an input serializer (request body) or a filter serializer (query string),
documents it with `extend_schema(request=…)` / `parameters=[…]`, and calls `validated()` with
the request's data; the service or selector then receives clean keyword arguments. The schema
and the checks are one object, so they cannot drift (HackSoft's input serializers).

Problems become one `InvalidInput` naming the field: `field` is the API's name (for clients),
the message names the field by its label (for people) and says what is wrong, in the
request's language; `errors` lists every field's problems with their codes.

Shared field types (a coordinate system, a finite number, a WGS84 bbox, text without control
characters) live here so that every app spells them the same way.
"""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext_lazy
from rest_framework import serializers

from . import coords
from .errors import invalid_from_errors

CRS_CHOICES = [(c.value, c.value) for c in coords.CRS]  # one list: gridgov.coords.CRS


def validated(
    serializer_class: type[serializers.Serializer],
    data: Any,
    *,
    context: dict | None = None,
    partial: bool = False,
    instance: Any = None,
) -> dict[str, Any]:
    """Return the serializer's validated data, or raise one InvalidInput naming the field."""
    serializer = serializer_class(instance=instance, data=data, context=context or {}, partial=partial)
    if serializer.is_valid():
        return dict(serializer.validated_data)
    raise invalid_from_errors(serializer, serializer.errors)


# --- Shared field types ------------------------------------------------------------------------


class CRSField(serializers.ChoiceField):
    """An input coordinate system: wgs84 (default), gcj02, bd09 or cgcs2000."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", gettext_lazy("坐标系"))
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", coords.CRS.WGS84.value)
        super().__init__(choices=CRS_CHOICES, **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(str(data).strip().lower() if isinstance(data, str) else data)


class FiniteFloatField(serializers.FloatField):
    """A float that is neither NaN nor infinite, and not a boolean."""

    default_error_messages = {"not_finite": gettext_lazy("应为有限的数字。")}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("not_finite")
        return value


def lat_field(**kwargs) -> FiniteFloatField:
    """A latitude in degrees (−90…90), labelled 纬度 unless told."""
    return FiniteFloatField(label=kwargs.pop("label", gettext_lazy("纬度")), min_value=-90, max_value=90, **kwargs)


def lon_field(**kwargs) -> FiniteFloatField:
    """A longitude in degrees (−180…180), labelled 经度 unless told."""
    return FiniteFloatField(label=kwargs.pop("label", gettext_lazy("经度")), min_value=-180, max_value=180, **kwargs)


class PlainTextField(serializers.CharField):
    """Text without NUL or other control characters (tab and newlines allowed when multiline)."""

    default_error_messages = {"control_character": gettext_lazy("含有不可见的控制字符。")}

    def __init__(self, *, multiline: bool = False, **kwargs):
        self.multiline = multiline
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        value = super().to_internal_value(data)
        allowed = {"\t", "\n", "\r"} if self.multiline else set()
        if any((ord(ch) < 32 and ch not in allowed) or ord(ch) == 127 for ch in value):
            self.fail("control_character")
        return value


class BBoxField(serializers.CharField):
    """A WGS84 box 'minlon,minlat,maxlon,maxlat' → a 4-tuple of floats."""

    default_error_messages = {
        "format": gettext_lazy("应为 4 个数字：最小经度,最小纬度,最大经度,最大纬度。"),
        "range": gettext_lazy("超出 WGS84 经纬度范围。"),
        "order": gettext_lazy("最小值应在最大值之前。"),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("label", gettext_lazy("范围"))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        parts = str(super().to_internal_value(data)).split(",")
        if len(parts) != 4:
            self.fail("format")
        try:
            x0, y0, x1, y1 = (float(p) for p in parts)
        except ValueError:
            self.fail("format")
        if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
            self.fail("format")
        if not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= 90 and -90 <= y1 <= 90):
            self.fail("range")
        if x0 > x1 or y0 > y1:
            self.fail("order")
        return (x0, y0, x1, y1)

    def to_representation(self, value):
        return ",".join(str(v) for v in value)
