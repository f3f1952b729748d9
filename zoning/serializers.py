"""What the zoning API takes and gives: input and filter serializers (the schema *and* the checks,
through `gridgov.validation.validated`) and the GeoJSON output serializers.

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
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from gridgov.validation import BBoxField, CRSField, PlainTextField

from . import analysis, conf, figures
from .exports import ExportFormat, OutputCRS
from .geometry import POLYGONAL, SITE_TYPES, GeoJSONProblem, parse_geojson, to_storage
from .models import ZONE_LAYERS, Category, ControlUnit, Dimension, Zone, ZoningVersion
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
    return PlainTextField(label=_("调整说明"), max_length=MAX_REASON, help_text="调整说明", **kwargs)


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


# --- output ----------------------------------------------------------------------------------------


def access_list_out(items: list | None) -> list[dict]:
    labels = dict(Dimension.choices)
    return [
        {
            "dimension": i["dimension"],
            "text": i["text"],
            "forbids_construction": i.get("forbids_construction", False),
            "dimension_label": str(labels.get(i["dimension"], "")),
        }
        for i in items or []
    ]


class AccessItemOutSerializer(serializers.Serializer):
    dimension = serializers.CharField()
    text = serializers.CharField()
    forbids_construction = serializers.BooleanField()
    dimension_label = serializers.CharField()


UNIT_FIELDS = [
    "code",
    "name",
    "category",
    "district_code",
    "version",
    "access_list",
    "synthetic",
    "layer",
    "updated_at",
]


class ControlUnitSerializer(GeoFeatureModelSerializer):
    district_code = serializers.SerializerMethodField()
    access_list = serializers.SerializerMethodField()
    layer = serializers.SerializerMethodField()

    class Meta:
        model = ControlUnit
        geo_field = "geom"
        id_field = False
        fields = UNIT_FIELDS

    def get_district_code(self, obj) -> str | None:
        return obj.district.code if obj.district_id else None

    @extend_schema_field(AccessItemOutSerializer(many=True))
    def get_access_list(self, obj):
        return access_list_out(obj.access_list)

    def get_layer(self, obj) -> str:
        return "control_unit"


class UnitVersionSerializer(GeoFeatureModelSerializer):
    """A unit as it was (as-of queries): same properties as the live unit."""

    district_code = serializers.SerializerMethodField()
    access_list = serializers.SerializerMethodField()
    synthetic = serializers.SerializerMethodField()
    updated_at = serializers.DateTimeField(source="valid_from")

    class Meta:
        model = ZoningVersion
        geo_field = "geom"
        id_field = False
        fields = UNIT_FIELDS

    def get_district_code(self, obj) -> str | None:
        return obj.attributes.get("district_code")

    @extend_schema_field(AccessItemOutSerializer(many=True))
    def get_access_list(self, obj):
        return access_list_out(obj.attributes.get("access_list"))

    def get_synthetic(self, obj) -> bool:
        return bool(obj.attributes.get("synthetic"))


class ZoneSerializer(GeoFeatureModelSerializer):
    access_list = serializers.SerializerMethodField()

    class Meta:
        model = Zone
        geo_field = "geom"
        id_field = False
        fields = ["code", "name", "layer", "subtype", "version", "access_list", "synthetic"]

    @extend_schema_field(AccessItemOutSerializer(many=True))
    def get_access_list(self, obj):
        return access_list_out(obj.access_list)


class AreaFiguresSerializer(serializers.Serializer):
    """An area as the pages write it (zoning/figures.py): rounded once, with separators."""

    m2 = serializers.CharField()
    ha = serializers.CharField()
    mu = serializers.CharField()
    text = serializers.CharField()


class CarvedUnitSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    base_version = serializers.IntegerField(help_text="its version before the edit (send it back in base_versions)")
    version = serializers.IntegerField(help_text="its version after the edit (a delete version if deleted)")
    area_taken_m2 = serializers.FloatField()
    area_taken = AreaFiguresSerializer()
    deleted = serializers.BooleanField(help_text="nothing of the unit remained, so it was deleted")


class CoverageGapSerializer(serializers.Serializer):
    opened = serializers.BooleanField(help_text="the edit leaves part of the city outside every unit")
    area_m2 = serializers.FloatField()
    area = AreaFiguresSerializer()
    geometry = serializers.DictField(allow_null=True, help_text="the uncovered area as GeoJSON (WGS84)")
    message = serializers.CharField(help_text="the warning, in the request's language; empty if no gap")


class EditOutcomeMembersSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField(help_text="a preview: nothing was written")
    carved = CarvedUnitSerializer(many=True)
    coverage_gap = CoverageGapSerializer()


class UnitEditSerializer(EditOutcomeMembersSerializer):
    """The unit as GeoJSON Feature (as ControlUnitSerializer) with what the edit did as foreign members."""

    type = serializers.CharField()
    geometry = serializers.DictField()
    properties = serializers.DictField()


class UnitDeletedSerializer(EditOutcomeMembersSerializer):
    code = serializers.CharField()
    deleted = serializers.BooleanField()
    version = serializers.IntegerField()


def gap_out(gap) -> dict:
    """What an edit did to the city's coverage, with the warning in the request's language."""
    return {
        "opened": gap.opened,
        "area_m2": round(gap.area_m2, 1),
        "area": figures.area(gap.area_m2),
        "geometry": gap.geometry if gap.opened else None,
        "message": gettext("此次编辑使 %(area)s 不再属于任何管控单元（覆盖出现空缺）。")
        % {"area": figures.hectares(gap.area_m2)}
        if gap.opened
        else "",
    }


def edit_outcome_out(outcome) -> dict:
    """The answer to an edit (zoning.edits.EditOutcome): the unit, or the deletion, and its effects."""
    if outcome.unit is not None:
        body = dict(ControlUnitSerializer(outcome.unit).data)
    else:
        body = {"code": outcome.code, "deleted": True, "version": outcome.version}
    body["dry_run"] = outcome.dry_run
    body["carved"] = [
        {
            "code": c.code,
            "name": c.name,
            "base_version": c.base_version,
            "version": c.version,
            "area_taken_m2": round(c.area_taken_m2, 1),
            "area_taken": figures.area(c.area_taken_m2),
            "deleted": c.deleted,
        }
        for c in outcome.carved
    ]
    body["coverage_gap"] = gap_out(outcome.gap)
    return body


class UnitHistoryEntrySerializer(serializers.Serializer):
    version = serializers.IntegerField()
    action = serializers.CharField()
    reason = serializers.CharField()
    author = serializers.CharField()
    created_at = serializers.DateTimeField()
    valid_from = serializers.DateTimeField()
    valid_to = serializers.DateTimeField(allow_null=True)
    name = serializers.CharField()
    category = serializers.CharField(allow_null=True)
    layer = serializers.CharField()
    attributes = serializers.DictField()
    area_m2 = serializers.FloatField()
    changes = serializers.DictField(help_text="geometry_changed, area_added_m2, area_removed_m2, attributes")


class SiteOverlapSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    category = serializers.CharField(allow_null=True)
    layer = serializers.CharField()
    area_m2 = serializers.FloatField()
    share_pct = serializers.FloatField()
    access_list = AccessItemOutSerializer(many=True)


class SiteAnalysisSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(list(analysis.VERDICTS))
    site_area_m2 = serializers.FloatField()
    overlaps = SiteOverlapSerializer(many=True)
    red_line_conflict = serializers.BooleanField()
    sensitive = serializers.BooleanField(help_text="inside the red line or a priority-protection unit")
    construction_bans = serializers.ListField(
        child=serializers.DictField(), help_text="access-list items that forbid construction: code, text"
    )
    rule = serializers.DictField()
    site = serializers.DictField(help_text="the site as GeoJSON (WGS84)")


class ImportResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    features = serializers.IntegerField()
    source_crs = serializers.CharField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    created_codes = serializers.ListField(child=serializers.CharField())
    updated_codes = serializers.ListField(child=serializers.CharField())
    construction_bans = serializers.IntegerField(help_text="access-list items marked as forbidding construction")
    errors = serializers.ListField(child=serializers.DictField())
    error_count = serializers.IntegerField()
    committed = serializers.BooleanField()
