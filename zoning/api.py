"""The zoning HTTP API: thin views that parse, call one selector or service, serialize."""

from __future__ import annotations

import json

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from gridgov import geo
from gridgov.errors import ErrorSerializer, InvalidInput, NotFound

from . import analysis, exchange, selectors, services
from .models import ControlUnit, Dimension, Zone, ZoningVersion


def access_list_out(items: list) -> list[dict]:
    return [{**i, "dimension_label": str(Dimension(i["dimension"]).label)} for i in items or []]


def access_list_in(items):
    """Keep only what is stored: the label is output decoration."""
    if items is None or not isinstance(items, list):
        return items
    return [{k: v for k, v in i.items() if k in ("dimension", "text")} if isinstance(i, dict) else i for i in items]


class ControlUnitSerializer(GeoFeatureModelSerializer):
    district_code = serializers.SerializerMethodField()
    access_list = serializers.SerializerMethodField()
    layer = serializers.SerializerMethodField()

    class Meta:
        model = ControlUnit
        geo_field = "geom"
        id_field = False
        fields = [
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

    def get_district_code(self, obj) -> str | None:
        return obj.district.code if obj.district_id else None

    def get_access_list(self, obj) -> list[dict]:
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
        fields = [
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

    def get_district_code(self, obj) -> str | None:
        return obj.attributes.get("district_code")

    def get_access_list(self, obj) -> list[dict]:
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

    def get_access_list(self, obj) -> list[dict]:
        return access_list_out(obj.access_list)


UNIT_WRITE = inline_serializer(
    "ControlUnitWrite",
    {
        "code": serializers.CharField(required=False),
        "name": serializers.CharField(required=False),
        "category": serializers.ChoiceField(["priority", "key", "general"], required=False),
        "geometry": serializers.JSONField(required=False, help_text="GeoJSON Polygon/MultiPolygon"),
        "crs": serializers.ChoiceField(["wgs84", "gcj02", "cgcs2000"], required=False),
        "access_list": serializers.ListField(child=serializers.DictField(), required=False),
        "reason": serializers.CharField(help_text="调整说明 (required)"),
        "base_version": serializers.IntegerField(
            required=False, help_text="version the edit is based on (update/delete)"
        ),
    },
)
ERROR = ErrorSerializer  # the one error body of gridgov.errors (`field` may be null)


def _bbox(request):
    return geo.parse_bbox(request.GET["bbox"]) if request.GET.get("bbox") else None


class UnitListView(APIView):
    """Control units as GeoJSON (now, or as of a date); planners create units here."""

    parser_classes = [JSONParser]

    @extend_schema(
        parameters=[
            OpenApiParameter("category", str, enum=["priority", "key", "general"]),
            OpenApiParameter("district", str, description="6-digit district code"),
            OpenApiParameter("bbox", str, description="minlon,minlat,maxlon,maxlat (WGS84)"),
            OpenApiParameter("as_of", OpenApiTypes.DATE, description="units as they were at the end of that day"),
        ],
        responses=ControlUnitSerializer(many=True),
    )
    def get(self, request):
        as_of = selectors.parse_as_of(request.GET.get("as_of"))
        qs = selectors.units(
            category=request.GET.get("category") or None,
            district=request.GET.get("district") or None,
            bbox=_bbox(request),
            as_of=as_of,
        )
        serializer = UnitVersionSerializer if as_of else ControlUnitSerializer
        return Response(serializer(qs, many=True).data)

    @extend_schema(request=UNIT_WRITE, responses={201: ControlUnitSerializer, 400: ERROR, 403: ERROR, 409: ERROR})
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        p = services.parse_payload({**data, "access_list": access_list_in(data.get("access_list"))}, require_all=True)
        unit = services.unit_create(
            code=p.code or "",
            name=p.name or "",
            category=p.category or "",
            geom=p.geom,
            access_list=p.access_list,
            reason=p.reason,
            actor=request.user,
        )
        return Response(ControlUnitSerializer(unit).data, status=201)


class UnitDetailView(APIView):
    """One unit; planners update (PATCH with base_version) and delete it."""

    parser_classes = [JSONParser]

    @extend_schema(responses={200: ControlUnitSerializer, 404: ERROR})
    def get(self, request, code: str):
        return Response(ControlUnitSerializer(selectors.unit_get(code)).data)

    @extend_schema(request=UNIT_WRITE, responses={200: ControlUnitSerializer, 400: ERROR, 403: ERROR, 409: ERROR})
    def patch(self, request, code: str):
        data = request.data if isinstance(request.data, dict) else {}
        p = services.parse_payload({**data, "access_list": access_list_in(data.get("access_list"))}, require_all=False)
        unit = services.unit_update(
            code=code,
            base_version=p.base_version,
            reason=p.reason,
            actor=request.user,
            name=p.name,
            category=p.category,
            geom=p.geom,
            access_list=p.access_list,
        )
        return Response(ControlUnitSerializer(unit).data)

    put = patch

    @extend_schema(
        request=inline_serializer(
            "UnitDelete", {"reason": serializers.CharField(), "base_version": serializers.IntegerField()}
        ),
        responses={200: OpenApiTypes.OBJECT, 403: ERROR, 409: ERROR},
    )
    def delete(self, request, code: str):
        data = request.data if isinstance(request.data, dict) and request.data else request.GET
        p = services.parse_payload(dict(data.items()), require_all=False)
        row = services.unit_delete(code=code, base_version=p.base_version, reason=p.reason, actor=request.user)
        return Response({"code": code, "deleted": True, "version": row.version})


UNIT_HISTORY = inline_serializer(
    "UnitHistoryEntry",
    {
        "version": serializers.IntegerField(),
        "action": serializers.CharField(),
        "reason": serializers.CharField(),
        "author": serializers.CharField(),
        "created_at": serializers.DateTimeField(),
        "valid_from": serializers.DateTimeField(),
        "valid_to": serializers.DateTimeField(allow_null=True),
        "name": serializers.CharField(),
        "category": serializers.CharField(allow_null=True),
        "layer": serializers.CharField(),
        "attributes": serializers.DictField(),
        "area_m2": serializers.FloatField(),
        "changes": serializers.DictField(help_text="geometry_changed, area_added_m2, area_removed_m2, attributes"),
    },
    many=True,
)


class UnitHistoryView(APIView):
    """Every version of a unit with what it changed (signed-in users)."""

    @extend_schema(responses={200: UNIT_HISTORY, 404: ERROR})
    def get(self, request, code: str):
        return Response(selectors.feature_history(user=request.user, code=code))


class UnitVersionView(APIView):
    """One version of a unit as GeoJSON (to show it on the map before reverting)."""

    @extend_schema(responses={200: UnitVersionSerializer, 404: ERROR})
    def get(self, request, code: str, version: int):
        if not request.user.is_authenticated:  # as the history: anonymous answers like a missing unit
            raise NotFound(f"{code} 不存在 / not found", field="code")
        return Response(UnitVersionSerializer(selectors.version_get(code=code, version=version)).data)


class UnitRevertView(APIView):
    """Revert a unit to an earlier version (a new version; history is never rewritten)."""

    parser_classes = [JSONParser]

    @extend_schema(
        request=inline_serializer(
            "UnitRevert",
            {
                "to_version": serializers.IntegerField(),
                "base_version": serializers.IntegerField(),
                "reason": serializers.CharField(),
            },
        ),
        responses={200: ControlUnitSerializer, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def post(self, request, code: str):
        data = request.data if isinstance(request.data, dict) else {}
        try:
            to_version = int(data.get("to_version"))
        except (TypeError, ValueError):
            raise InvalidInput("'to_version' 应为整数", field="to_version")
        p = services.parse_payload(data, require_all=False)
        unit = services.unit_revert(
            code=code, to_version=to_version, base_version=p.base_version, reason=p.reason, actor=request.user
        )
        return Response(ControlUnitSerializer(unit).data)


class ZoneListView(APIView):
    """Red-line areas and element zones as GeoJSON."""

    @extend_schema(
        parameters=[
            OpenApiParameter("layer", str, enum=["red_line", "water", "air", "soil", "resource"]),
            OpenApiParameter("bbox", str),
        ],
        responses=ZoneSerializer(many=True),
    )
    def get(self, request):
        return Response(
            ZoneSerializer(selectors.zones(layer=request.GET.get("layer") or None, bbox=_bbox(request)), many=True).data
        )


ANALYZE_RESPONSE = inline_serializer(
    "SiteAnalysis",
    {
        "verdict": serializers.ChoiceField(list(analysis.VERDICTS)),
        "site_area_m2": serializers.FloatField(),
        "overlaps": serializers.ListField(
            child=inline_serializer(
                "SiteOverlap",
                {
                    "code": serializers.CharField(),
                    "name": serializers.CharField(),
                    "category": serializers.CharField(allow_null=True),
                    "layer": serializers.CharField(),
                    "area_m2": serializers.FloatField(),
                    "share_pct": serializers.FloatField(),
                    "access_list": serializers.ListField(child=serializers.DictField()),
                },
            )
        ),
        "red_line_conflict": serializers.BooleanField(),
        "rule": serializers.DictField(),
    },
)


def site_from_request(request):
    """The site geometry from a JSON body {geometry, crs} or a multipart `file` (one feature or a union)."""
    upload = request.FILES.get("file") if hasattr(request, "FILES") else None
    if upload is not None:
        return site_from_file(upload, crs=request.data.get("crs") or "")
    data = request.data if isinstance(request.data, dict) else {}
    geometry = data.get("geometry")
    if isinstance(geometry, str):
        try:
            geometry = json.loads(geometry)
        except ValueError:
            raise InvalidInput("'geometry' 不是有效的 GeoJSON", field="geometry")
    crs = geo.parse_crs(data.get("crs"))
    return services.geometry_from_geojson(geometry, crs=crs, polygonal=False)


def site_from_file(upload, *, crs: str = ""):
    import shutil
    import tempfile
    from pathlib import Path

    import shapely
    from django.contrib.gis.geos import GEOSGeometry

    workdir = Path(tempfile.mkdtemp(prefix="zoning-site-"))
    try:
        path = exchange.save_upload(upload, workdir)
        src = exchange.read_features(path, gcj02=(crs == "gcj02"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if not len(src.geoms):
        raise InvalidInput("文件中没有要素", field="file")
    types = set(shapely.get_type_id(src.geoms).tolist())
    if not types <= {3, 6}:
        raise InvalidInput("选址文件中的几何应为面（Polygon/MultiPolygon）", field="file")
    merged = shapely.union_all(src.geoms)
    return GEOSGeometry(memoryview(shapely.to_wkb(merged)), srid=4326)


class AnalyzeView(APIView):
    """智能研判: the units and zones a site touches, the access-list items that apply, a verdict."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        request={
            "application/json": inline_serializer(
                "SiteInput",
                {"geometry": serializers.JSONField(), "crs": serializers.ChoiceField(["wgs84", "gcj02", "cgcs2000"])},
            ),
            "multipart/form-data": inline_serializer(
                "SiteUpload", {"file": serializers.FileField(), "crs": serializers.CharField(required=False)}
            ),
        },
        responses={200: ANALYZE_RESPONSE, 400: ERROR},
    )
    def post(self, request):
        return Response(analysis.site_analyze(site_from_request(request)))


class RulesView(APIView):
    """The verdict rules, in the order they are tried (configurable as settings.ZONING_VERDICT_RULES)."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response({"rules": analysis.rules(), "verdicts": list(analysis.VERDICTS)})


def _bool(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


class ImportView(APIView):
    """Import control units from a zipped Shapefile, GeoPackage or GeoJSON (planners)."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={
            "multipart/form-data": inline_serializer(
                "UnitImport",
                {
                    "file": serializers.FileField(),
                    "reason": serializers.CharField(),
                    "dry_run": serializers.BooleanField(),
                    "gcj02": serializers.BooleanField(
                        required=False, help_text="coordinates copied from AMap (GCJ-02)"
                    ),
                },
            )
        },
        responses={200: OpenApiTypes.OBJECT, 400: ERROR, 403: ERROR, 413: ERROR},
    )
    def post(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            raise InvalidInput("请选择要导入的文件 / 'file' is required", field="file")
        result = exchange.units_import(
            upload=upload,
            reason=request.data.get("reason") or "",
            dry_run=_bool(request.data.get("dry_run", "false")),
            actor=request.user,
            gcj02=_bool(request.data.get("gcj02", "false")),
        )
        return Response(result.as_dict())


class IgnoreFormatParam(DefaultContentNegotiation):
    """`?format=` names the export file format here, not DRF's renderer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ExportView(APIView):
    """Export the control units as GeoPackage, zipped Shapefile or GeoJSON, in EPSG:4490 or 4326."""

    content_negotiation_class = IgnoreFormatParam

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["gpkg", "shp", "geojson"]),
            OpenApiParameter("crs", str, enum=["4490", "4326"]),
        ],
        responses={
            (200, "application/geopackage+sqlite3"): OpenApiTypes.BINARY,
            (200, "application/zip"): OpenApiTypes.BINARY,
            (200, "application/geo+json"): OpenApiTypes.OBJECT,
            400: ERROR,
        },
    )
    def get(self, request):
        data, filename, ctype = exchange.units_export(
            fmt=request.GET.get("format", "gpkg"), crs=request.GET.get("crs", "4490")
        )
        response = HttpResponse(data, content_type=ctype)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
