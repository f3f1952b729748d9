"""The query string of the OGC resources, validated at the edge (one serializer per resource).

A parameter the API does not define is a 400 naming it (Part 1 /req/core/query-param-unknown),
as is a bad value; the views get a frozen `ItemsQuery`. Besides the standard parameters, every
queryable of a collection is also an equality filter (`?category=key`, Part 1 §7.15.8), which is
how GDAL 3.6 sends `-where` clauses on fields the API document lists.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from gridgov.dates import parse_moment
from gridgov.errors import InvalidInput
from gridgov.validation import PlainTextField, validated

from . import cql2

if TYPE_CHECKING:
    from .registry import Collection

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
CRS_LIST = [CRS84, EPSG4490, EPSG4326]
LAT_FIRST = {EPSG4490, EPSG4326}  # their official axis order is latitude, longitude
SRID = {CRS84: 4326, EPSG4326: 4326, EPSG4490: 4490}
DEFAULT_LIMIT, MAX_LIMIT = 100, 10_000
MAX_OFFSET = 10_000_000
MAX_IDS = 1_000
# Far ends of an open interval (PostgreSQL takes them; parse_moment's bounds keep inputs inside).
OPEN_START = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
OPEN_END = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)

ITEMS_FORMATS = ["geojson", "json", "html", "csv", "geojsonseq"]
ITEM_FORMATS = ["geojson", "json", "html"]
# Part 3 parameters that GDAL repeats on every request of a dataset opened with them in its URL.
FILTER_PARAMS = ("filter", "filter-lang", "filter-crs")


def unknown_parameters(request, allowed) -> None:
    for name in request.GET:
        if name not in allowed:
            raise InvalidInput(
                _("不支持的参数 %(name)s。") % {"name": name[:40]}, code="unknown_parameter", field=name[:40]
            )


class _Format(serializers.ChoiceField):
    def __init__(self, choices):
        super().__init__(choices=choices, required=False, label=gettext_lazy("输出格式"))


class MetadataQuery(serializers.Serializer):
    """Landing page, conformance, collections, queryables: an output format only."""

    def get_fields(self):
        fields = {"f": _Format(["json", "html"])}
        for name in FILTER_PARAMS:  # accepted and ignored here (see FILTER_PARAMS)
            fields[name] = serializers.CharField(required=False, allow_blank=True)
        return fields


def metadata_query(request) -> str | None:
    unknown_parameters(request, {"f", *FILTER_PARAMS})
    return validated(MetadataQuery, request.GET.dict()).get("f") if request.GET else None


class _Moment(serializers.CharField):
    """`datetime`: an instant or an interval start/end with `..` for an open end."""

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        parts = text.split("/")
        if len(parts) > 2:
            raise serializers.ValidationError(_("应为一个时刻或“起/止”区间。"))
        if len(parts) == 1:
            when = _moment(parts[0])
            if when is None:
                raise serializers.ValidationError(_("应为一个时刻或“起/止”区间。"))
            return when, when
        start, end = _moment(parts[0]), _moment(parts[1])
        if start is None and end is None:
            raise serializers.ValidationError(_("区间两端不能都不限。"))
        start, end = start or OPEN_START, end or OPEN_END
        if start > end:
            raise serializers.ValidationError(_("区间的起点应早于终点。"))
        return start, end


def _moment(text: str) -> dt.datetime | None:
    if text in ("", ".."):
        return None
    try:
        return parse_moment(text, field="datetime")[0]
    except InvalidInput as exc:
        raise serializers.ValidationError(_("日期时间格式错误（ISO 8601，如 2026-03-01T00:00:00Z）。")) from exc


class _Numbers(serializers.CharField):
    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            values = [float(v) for v in text.split(",")]
        except ValueError:
            raise serializers.ValidationError(_("应为以逗号分隔的 4 个数字。"))
        if len(values) not in (4, 6) or not all(math.isfinite(v) for v in values):
            raise serializers.ValidationError(_("应为以逗号分隔的 4 个数字。"))
        return values if len(values) == 4 else [values[0], values[1], values[3], values[4]]


class _Names(serializers.CharField):
    """A comma list of names (ids, properties, sortby keys)."""

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_blank=True, max_length=20_000, **kwargs)

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        return [part.strip() for part in text.split(",") if part.strip()]


def _crs_field(label) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=CRS_LIST, required=False, label=label)


# Each parameter's field, built only when the parameter is present: every one is optional, so
# validating those present is the same, and building a field costs as much as rendering a tile.
_ITEMS_FIELDS = {
    "limit": lambda: serializers.IntegerField(required=False, min_value=1, label=gettext_lazy("每页条数")),
    "offset": lambda: serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_OFFSET, label=gettext_lazy("起始位置")
    ),
    "bbox": lambda: _Numbers(required=False, label=gettext_lazy("范围")),
    "bbox-crs": lambda: _crs_field(gettext_lazy("范围坐标系")),
    "crs": lambda: _crs_field(gettext_lazy("输出坐标系")),
    "datetime": lambda: _Moment(required=False, label=gettext_lazy("时间")),
    "ids": lambda: _Names(label=gettext_lazy("要素编号")),
    "properties": lambda: _Names(label=gettext_lazy("属性")),
    "sortby": lambda: _Names(label=gettext_lazy("排序")),
    "filter": lambda: PlainTextField(required=False, max_length=cql2.MAX_LENGTH, label=gettext_lazy("过滤条件")),
    "filter-lang": lambda: serializers.ChoiceField(choices=cql2.LANGS, required=False, label=gettext_lazy("过滤语言")),
    "filter-crs": lambda: _crs_field(gettext_lazy("过滤坐标系")),
}


class ItemsQuerySerializer(serializers.Serializer):
    """The parameters of /collections/{id}/items present in a request (all optional), and the
    collection's queryables as equality filters."""

    def get_fields(self):
        present = self.context["present"]
        fields = {name: make() for name, make in _ITEMS_FIELDS.items() if name in present}
        if "f" in present:
            fields["f"] = _Format(self.context.get("formats", ITEMS_FORMATS))
        for f in self.context.get("queryables", ()):
            if f.name in present:
                fields[f.name] = PlainTextField(required=False, max_length=1000, label=f.title)
        return fields


@dataclass(frozen=True)
class ItemsQuery:
    format: str
    limit: int
    offset: int
    crs: str
    bbox: tuple[float, float, float, float] | None  # lon/lat, CRS84 order
    interval: tuple[dt.datetime, dt.datetime] | None
    ids: tuple[str, ...] | None
    properties: tuple[str, ...] | None  # None: all the caller may see
    sortby: tuple[tuple[str, bool], ...]  # (field name, descending)
    filter: cql2.Compiled | None
    equals: tuple[tuple[str, object], ...]  # (field name, typed value) from ?<queryable>=<value>


def items_query(request, collection: Collection, *, single: bool = False) -> ItemsQuery:
    """Validate the query string of the items (or, with `single`, of one item) of a collection."""
    user = request.user
    fields = collection.fields_for(user)
    if single:
        allowed = {"f", "crs", "datetime", "properties"}
        context = {"formats": ITEM_FORMATS, "queryables": ()}
    else:
        allowed = {
            "f",
            "limit",
            "offset",
            "bbox",
            "bbox-crs",
            "crs",
            "datetime",
            "ids",
            "properties",
            "sortby",
            *FILTER_PARAMS,
            *(f.name for f in fields),
        }
        context = {"formats": ITEMS_FORMATS, "queryables": fields}
    unknown_parameters(request, allowed)
    context["present"] = set(request.GET)
    data = validated(ItemsQuerySerializer, request.GET.dict(), context=context) if request.GET else {}
    by_name = {f.name: f for f in fields}

    bbox = data.get("bbox")
    if bbox is not None:
        if data.get("bbox-crs") in LAT_FIRST:
            bbox = [bbox[1], bbox[0], bbox[3], bbox[2]]
        x0, y0, x1, y1 = bbox
        if not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= 90 and -90 <= y1 <= 90):
            raise InvalidInput(_("范围：超出经纬度范围。"), code="out_of_range", field="bbox")
        if x0 > x1 or y0 > y1:
            raise InvalidInput(_("范围：最小值应在最大值之前。"), code="invalid", field="bbox")
        bbox = (x0, y0, x1, y1)

    interval = data.get("datetime")
    if interval is not None and collection.history is None:
        raise InvalidInput(_("该图层没有时间属性，不能按时间查询。"), code="no_temporal_property", field="datetime")

    properties = data.get("properties")
    if properties is not None:
        for name in properties:
            if name not in by_name:
                raise InvalidInput(
                    _("属性：没有属性 %(name)s。") % {"name": name[:40]}, code="unknown_property", field="properties"
                )

    sortby = []
    for key in data.get("sortby") or []:
        desc = key.startswith("-")
        name = key.lstrip("+-").strip()
        if name not in by_name:
            raise InvalidInput(
                _("排序：没有属性 %(name)s。") % {"name": name[:40]}, code="unknown_property", field="sortby"
            )
        sortby.append((name, desc))

    ids = data.get("ids")
    if ids is not None and len(ids) > MAX_IDS:
        raise InvalidInput(_("要素编号：最多 %(n)s 个。") % {"n": MAX_IDS}, code="too_many", field="ids")

    compiled = None
    if data.get("filter"):
        filter_crs = data.get("filter-crs") or CRS84
        tree = cql2.parse(data["filter"], data.get("filter-lang"))
        compiled = cql2.compile_filter(
            tree,
            resolve=lambda name: (by_name[name].sql, by_name[name].type) if name in by_name else None,
            geometry_sql=collection.geometry,
            flip_axes=filter_crs in LAT_FIRST,
            srid=SRID[filter_crs],
        )

    equals = tuple((name, _typed(by_name[name], data[name])) for name in by_name if name in data and not single)
    return ItemsQuery(
        format=data.get("f") or "geojson",
        limit=min(data.get("limit") or DEFAULT_LIMIT, MAX_LIMIT),
        offset=data.get("offset") or 0,
        crs=data.get("crs") or CRS84,
        bbox=bbox,
        interval=interval,
        ids=tuple(ids) if ids is not None else None,
        properties=tuple(properties) if properties is not None else None,
        sortby=tuple(sortby),
        filter=compiled,
        equals=equals,
    )


def _typed(field, text: str):
    """The value of `?<queryable>=<text>` in the field's type, or a 400 naming the field."""
    try:
        if field.type == "integer":
            return int(text)
        if field.type == "number":
            value = float(text)
            if not math.isfinite(value):
                raise ValueError(text)
            return value
        if field.type == "boolean":
            return {"true": True, "false": False}[text.lower()]
        if field.type == "date-time":
            return parse_moment(text, field=field.name)[0]
    except (ValueError, KeyError, InvalidInput):
        raise InvalidInput(
            _("%(label)s：取值 %(value)s 类型不符。") % {"label": field.title, "value": text[:40]},
            code="invalid",
            field=field.name,
        )
    return text
