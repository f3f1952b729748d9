"""What the zoning API gives: GeoJSON of units and zones, what an edit did, site analyses, imports.

zoning/inputs.py has what it takes. Areas shown to people are written by zoning/figures.py.
"""

from __future__ import annotations

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from . import analysis, figures
from .models import ControlUnit, Dimension, Zone, ZoningVersion


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
    category_label = serializers.CharField(help_text="the category as users read it; empty for zones")
    layer = serializers.CharField()
    layer_label = serializers.CharField()
    area_m2 = serializers.FloatField(allow_null=True, help_text="null for a point site")
    share_pct = serializers.FloatField(allow_null=True, help_text="null for a point site")
    area = AreaFiguresSerializer(allow_null=True)
    share = serializers.CharField(allow_null=True, help_text="share_pct as the pages write it")
    access_list = AccessItemOutSerializer(many=True)


class SiteRuleSerializer(serializers.Serializer):
    id = serializers.CharField()
    explain = serializers.CharField()


class SiteAnalysisSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(list(analysis.VERDICTS))
    verdict_key = serializers.ChoiceField(list(analysis.VERDICT_KEYS.values()))
    verdict_label = serializers.CharField(help_text="the verdict in the request's language")
    site_kind = serializers.ChoiceField(["area", "point"], help_text="a point has no area: its units are where it lies")
    site_area_m2 = serializers.FloatField(allow_null=True)
    site_area = AreaFiguresSerializer(allow_null=True)
    overlaps = SiteOverlapSerializer(many=True)
    red_line_conflict = serializers.BooleanField()
    sensitive = serializers.BooleanField(help_text="inside the red line or a priority-protection unit")
    construction_bans = serializers.ListField(
        child=serializers.DictField(), help_text="access-list items that forbid construction: code, text"
    )
    rule = SiteRuleSerializer()
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
    refused = serializers.ListField(
        child=serializers.DictField(), help_text="the features with a problem: feature (1-based), code, reasons"
    )
    refused_count = serializers.IntegerField()
    committed = serializers.BooleanField()
