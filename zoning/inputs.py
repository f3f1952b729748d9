"""What the zoning API takes: input and filter serializers, the schema *and* the checks (through
`gridgov.validation.validated`); zoning/serializers.py has what it gives.

Choice lists come from the models' TextChoices and the one CRS list (`gridgov.validation.CRSField`);
labels are the names users see, so that a message names the field as the page does. Input
geometry is checked and counted before GEOS parses it (zoning/geometry.py) and arrives in the
services in the storage SRID.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.validators import RegexValidator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from gridgov.validation import BBoxField, CRSField, PlainTextField

from . import conf
from .exports import ExportFormat, OutputCRS
from .geometry import POLYGONAL, SITE_TYPES, GeoJSONProblem, parse_geojson, to_storage
from .models import ZONE_LAYERS, Category, Dimension
from .selectors import parse_as_of
from .services import MAX_REASON

# --- fields --------------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.OBJECT)
class GeoJSONGeometryField(serializers.Field):
    """A GeoJSON geometry (or a Feature, or a FeatureCollection of one) → a 2D shapely geometry.

    Still in the client's CRS: the serializer's `validate` moves it to storage with `crs`.
    """

    default_error_messages = {
        "not_json": _("不是有效的 JSON。"),
        "one_feature": _("应只含一个要素。"),
        "not_geometry": _("不是有效的 GeoJSON 几何。"),
        "type": _("几何类型应为{expected}，收到的是 {type}。"),
        "position": _("每个坐标应为 2 或 3 个有限的数字。"),
        "too_many_vertices": _("顶点过多，最多 {limit} 个。"),
    }

    def __init__(self, *, types: frozenset[str], max_vertices: Callable[[], int], **kwargs):
        self.types = types
        self.max_vertices = max_vertices
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return parse_geojson(data, types=self.types, max_vertices=self.max_vertices())
        except GeoJSONProblem as problem:
            expected = gettext("点或面") if "Point" in self.types else gettext("面（Polygon/MultiPolygon）")
            self.fail(problem.code, expected=expected, type=problem.params.get("type"), **problem.params)

    def to_representation(self, value):
        return value


class AccessItemSerializer(serializers.Serializer):
    dimension = serializers.ChoiceField(Dimension.choices, label=_("维度"))
    text = PlainTextField(label=_("内容"), max_length=4000, multiline=True)
    forbids_construction = serializers.BooleanField(label=_("禁止建设"), required=False, default=False)


class AccessListField(serializers.ListField):
    """The access list; a problem in an item is reported on the list, naming the item."""

    child = AccessItemSerializer()

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("准入清单"))
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not isinstance(exc.detail, dict):
                raise
            index, problems = next(iter(exc.detail.items()))
            name, details = next(iter(problems.items()))
            label = self.child.fields[name].label if name in self.child.fields else ""
            detail = details[0]
            raise serializers.ValidationError(
                gettext("第 %(n)s 条的%(label)s：%(problem)s")
                % {"n": int(index) + 1, "label": label, "problem": detail},
                code=getattr(detail, "code", "invalid"),
            )


def _unit_geometry(**kwargs) -> GeoJSONGeometryField:
    return GeoJSONGeometryField(
        types=POLYGONAL, max_vertices=lambda: conf.limits().unit_vertices, label=_("范围"), **kwargs
    )


def _site_geometry(**kwargs) -> GeoJSONGeometryField:
    return GeoJSONGeometryField(
        types=SITE_TYPES, max_vertices=lambda: conf.limits().site_vertices, label=_("选址范围"), **kwargs
    )


def _reason(**kwargs) -> PlainTextField:
    """Required to save; a preview (dry_run) may come without one: the planner writes it after."""
    return PlainTextField(
        label=_("调整说明"),
        max_length=MAX_REASON,
        required=False,
        allow_blank=True,
        default="",
        help_text="调整说明: required unless dry_run",
        **kwargs,
    )


def _dry_run() -> serializers.BooleanField:
    return serializers.BooleanField(
        label=_("预览"), required=False, default=False, help_text="check and measure the edit, then undo it"
    )


def _carve() -> serializers.BooleanField:
    return serializers.BooleanField(
        label=_("从相邻单元中划出"),
        required=False,
        default=False,
        help_text="carve the shape out of the units it overlaps (each gets a new version) instead of refusing",
    )


def _base_versions() -> serializers.DictField:
    return serializers.DictField(
        child=serializers.IntegerField(min_value=0),
        label=_("相邻单元的基准版本"),
        required=False,
        default=dict,
        help_text="unit code → the version the preview showed, for every unit the shape is carved out of",
    )


class GeometryInCRS(serializers.Serializer):
    """`geometry` + `crs` → `geom`, in the storage SRID."""

    multi = True

    def validate(self, attrs):
        shape = attrs.pop("geometry", None)
        crs = attrs.pop("crs")
        if shape is not None:
            attrs["geom"] = to_storage(shape, crs=crs, multi=self.multi)
        return attrs


# --- input -----------------------------------------------------------------------------------------
# Field order is the order problems are reported in: the geometry first, as the editor shows it.


class UnitCreateSerializer(GeometryInCRS):
    geometry = _unit_geometry(help_text="GeoJSON Polygon/MultiPolygon")
    crs = CRSField()
    code = PlainTextField(label=_("单元编码"), max_length=32)
    name = PlainTextField(label=_("名称"), max_length=128)
    category = serializers.ChoiceField(Category.choices, label=_("管控类别"))
    access_list = AccessListField(required=False, default=list)
    reason = _reason()
    carve = _carve()
    base_versions = _base_versions()
    dry_run = _dry_run()


class UnitUpdateSerializer(GeometryInCRS):
    geometry = _unit_geometry(required=False, help_text="GeoJSON Polygon/MultiPolygon")
    crs = CRSField()
    name = PlainTextField(label=_("名称"), max_length=128, required=False)
    category = serializers.ChoiceField(Category.choices, label=_("管控类别"), required=False)
    access_list = AccessListField(required=False)
    reason = _reason()
    base_version = serializers.IntegerField(label=_("基准版本"), min_value=0, help_text="version the edit is based on")
    carve = _carve()
    base_versions = _base_versions()
    dry_run = _dry_run()


class UnitDeleteSerializer(serializers.Serializer):
    reason = _reason()
    base_version = serializers.IntegerField(label=_("基准版本"), min_value=0)
    dry_run = _dry_run()


class UnitRevertSerializer(serializers.Serializer):
    to_version = serializers.IntegerField(label=_("回退到的版本"), min_value=1)
    reason = _reason()
    base_version = serializers.IntegerField(label=_("基准版本"), min_value=0)
    dry_run = _dry_run()


class SiteInputSerializer(GeometryInCRS):
    """A drawn site: a point or a polygon."""

    multi = False
    geometry = _site_geometry()
    crs = CRSField()


class SiteUploadSerializer(serializers.Serializer):
    """An uploaded site file (signed-in users): zipped Shapefile, GeoPackage or GeoJSON."""

    file = serializers.FileField(label=_("文件"))
    crs = CRSField(help_text="gcj02: coordinates copied from AMap; otherwise the file's own CRS is used")


class UnitImportSerializer(serializers.Serializer):
    file = serializers.FileField(label=_("文件"))
    reason = PlainTextField(label=_("调整说明"), max_length=2000, required=False, allow_blank=True, default="")
    dry_run = serializers.BooleanField(label=_("试导入"), required=False, default=False)
    gcj02 = serializers.BooleanField(
        label=_("高德坐标"), required=False, default=False, help_text="coordinates copied from AMap (GCJ-02)"
    )


class UnitFilterSerializer(serializers.Serializer):
    category = serializers.ChoiceField(Category.choices, label=_("管控类别"), required=False)
    district = serializers.CharField(
        label=_("区县代码"), required=False, validators=[RegexValidator(r"^[0-9]{6}$", _("应为 6 位区县代码。"))]
    )
    bbox = BBoxField(help_text="minlon,minlat,maxlon,maxlat (WGS84)")
    as_of = serializers.CharField(
        label=_("查询日期"), required=False, help_text="units as they were at the end of that day (YYYY-MM-DD) or then"
    )

    def validate_as_of(self, value):
        return parse_as_of(value)


class ZoneFilterSerializer(serializers.Serializer):
    layer = serializers.ChoiceField([(c.value, c.label) for c in ZONE_LAYERS], label=_("图层"), required=False)
    bbox = BBoxField(help_text="minlon,minlat,maxlon,maxlat (WGS84)")


class ExportFilterSerializer(serializers.Serializer):
    format = serializers.ChoiceField(ExportFormat.choices, label=_("文件格式"), default=ExportFormat.GPKG)
    crs = serializers.ChoiceField(OutputCRS.choices, label=_("坐标系"), default=OutputCRS.CGCS2000)
