"""The zoning HTTP API: thin views that validate, call one selector or service, serialize.

Every view validates its body or query string with the serializer its schema shows
(zoning/inputs.py, through `gridgov.validation.validated`). Writes are for planners, refused
before the body is read (`ZoningWritePermission`; the services check again). Imports and site
files are rate-limited, and site files need an account; a drawn site stays public.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from gridgov.coords import CRS
from gridgov.errors import ErrorSerializer, Forbidden
from gridgov.validation import validated

from . import analysis, edits, exports, imports, selectors, services, uploads
from .inputs import (
    ExportFilterSerializer,
    SiteInputSerializer,
    SiteUploadSerializer,
    UnitCreateSerializer,
    UnitDeleteSerializer,
    UnitFilterSerializer,
    UnitImportSerializer,
    UnitRevertSerializer,
    UnitUpdateSerializer,
    ZoneFilterSerializer,
)
from .serializers import (
    ControlUnitSerializer,
    ImportResultSerializer,
    SiteAnalysisSerializer,
    UnitDeletedSerializer,
    UnitEditSerializer,
    UnitHistoryEntrySerializer,
    UnitVersionSerializer,
    ZoneSerializer,
    edit_outcome_out,
)
from .throttles import ImportThrottle, SiteUploadThrottle

ERROR = ErrorSerializer  # the one error body of gridgov.errors (`field` may be null)


class ZoningWritePermission(BasePermission):
    """Reads for everyone; writes for planners and superusers (zoning.services.can_edit)."""

    def has_permission(self, request, view) -> bool:
        if request.method not in SAFE_METHODS:
            services.require_editor(request.user)  # a 403 naming the rule, before the body is parsed
        return True


class UnitListView(APIView):
    """Control units as GeoJSON (now, or as of a date); planners create units here."""

    parser_classes = [JSONParser]
    permission_classes = [ZoningWritePermission]

    @extend_schema(parameters=[UnitFilterSerializer], responses=ControlUnitSerializer(many=True))
    def get(self, request):
        filters = validated(UnitFilterSerializer, request.query_params)
        qs = selectors.units(**filters)
        serializer = UnitVersionSerializer if filters.get("as_of") else ControlUnitSerializer
        return Response(serializer(qs, many=True).data)

    @extend_schema(
        request=UnitCreateSerializer,
        responses={200: UnitEditSerializer, 201: UnitEditSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
        description="Create a unit; `carve` carves it out of the units it overlaps (zoning/edits.py). "
        "A `dry_run` answers 200 with what the save would do and writes nothing.",
    )
    def post(self, request):
        data = validated(UnitCreateSerializer, request.data)
        outcome = edits.unit_create_edit(actor=request.user, **data)
        return Response(edit_outcome_out(outcome), status=200 if outcome.dry_run else 201)


class UnitDetailView(APIView):
    """One unit; planners update (PATCH with base_version) and delete it."""

    parser_classes = [JSONParser]
    permission_classes = [ZoningWritePermission]

    @extend_schema(responses={200: ControlUnitSerializer, 404: ERROR})
    def get(self, request, code: str):
        return Response(ControlUnitSerializer(selectors.unit_get(code)).data)

    @extend_schema(
        request=UnitUpdateSerializer, responses={200: UnitEditSerializer, 400: ERROR, 403: ERROR, 409: ERROR}
    )
    def patch(self, request, code: str):
        data = validated(UnitUpdateSerializer, request.data)
        return Response(edit_outcome_out(edits.unit_update_edit(code=code, actor=request.user, **data)))

    put = patch

    @extend_schema(request=UnitDeleteSerializer, responses={200: UnitDeletedSerializer, 403: ERROR, 409: ERROR})
    def delete(self, request, code: str):
        data = validated(UnitDeleteSerializer, request.data or request.query_params)
        return Response(edit_outcome_out(edits.unit_delete_edit(code=code, actor=request.user, **data)))


class UnitHistoryView(APIView):
    """Every version of a unit with what it changed (signed-in users)."""

    @extend_schema(responses={200: UnitHistoryEntrySerializer(many=True), 404: ERROR})
    def get(self, request, code: str):
        return Response(selectors.feature_history(user=request.user, code=code))


class UnitVersionView(APIView):
    """One version of a unit as GeoJSON (to show it on the map before reverting)."""

    @extend_schema(responses={200: UnitVersionSerializer, 404: ERROR})
    def get(self, request, code: str, version: int):
        return Response(
            UnitVersionSerializer(selectors.version_get(user=request.user, code=code, version=version)).data
        )


class UnitRevertView(APIView):
    """Revert a unit to an earlier version (a new version; history is never rewritten)."""

    parser_classes = [JSONParser]
    permission_classes = [ZoningWritePermission]

    @extend_schema(
        request=UnitRevertSerializer, responses={200: UnitEditSerializer, 403: ERROR, 404: ERROR, 409: ERROR}
    )
    def post(self, request, code: str):
        data = validated(UnitRevertSerializer, request.data)
        return Response(edit_outcome_out(edits.unit_revert_edit(code=code, actor=request.user, **data)))


class ZoneListView(APIView):
    """Red-line areas and element zones as GeoJSON."""

    @extend_schema(parameters=[ZoneFilterSerializer], responses=ZoneSerializer(many=True))
    def get(self, request):
        filters = validated(ZoneFilterSerializer, request.query_params)
        return Response(ZoneSerializer(selectors.zones(**filters), many=True).data)


class AnalyzeView(APIView):
    """智能研判: the units and zones a site touches, the access-list items that apply, a verdict.

    A drawn point or polygon (JSON) is open to everyone; a site file needs an account and is
    rate-limited (it is read in a limited child process).
    """

    parser_classes = [JSONParser, MultiPartParser, FormParser]
    throttle_classes = [SiteUploadThrottle]

    @extend_schema(
        request={"application/json": SiteInputSerializer, "multipart/form-data": SiteUploadSerializer},
        responses={200: SiteAnalysisSerializer, 400: ERROR, 403: ERROR, 413: ERROR, 429: ERROR},
    )
    def post(self, request):
        if "file" in request.FILES:
            if not request.user.is_authenticated:
                raise Forbidden(_("上传选址文件须先登录。"), code="login_required", field="file")
            data = validated(SiteUploadSerializer, request.data)
            site = uploads.site_from_upload(data["file"], gcj02=data["crs"] == CRS.GCJ02)
        else:
            site = validated(SiteInputSerializer, request.data)["geom"]
        return Response(analysis.present(analysis.site_analyze(site)))


class RulesView(APIView):
    """The verdict rules, in the order they are tried (configurable as settings.ZONING_VERDICT_RULES)."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response({"rules": analysis.verdict_rules(), "verdicts": list(analysis.VERDICTS)})


class ImportView(APIView):
    """Import control units from a zipped Shapefile, GeoPackage or GeoJSON (planners)."""

    parser_classes = [MultiPartParser, FormParser]
    permission_classes = [ZoningWritePermission]
    throttle_classes = [ImportThrottle]

    @extend_schema(
        request={"multipart/form-data": UnitImportSerializer},
        responses={200: ImportResultSerializer, 400: ERROR, 403: ERROR, 413: ERROR, 429: ERROR},
    )
    def post(self, request):
        data = validated(UnitImportSerializer, request.data)
        result = imports.units_import(upload=data.pop("file"), actor=request.user, **data)
        return Response(result.as_dict())


class IgnoreFormatParam(DefaultContentNegotiation):
    """`?format=` names the export file format here, not DRF's renderer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ExportView(APIView):
    """Export the control units as GeoPackage, zipped Shapefile or GeoJSON, in EPSG:4490 or 4326."""

    content_negotiation_class = IgnoreFormatParam

    @extend_schema(
        parameters=[ExportFilterSerializer],
        responses={
            (200, "application/geopackage+sqlite3"): OpenApiTypes.BINARY,
            (200, "application/zip"): OpenApiTypes.BINARY,
            (200, "application/geo+json"): OpenApiTypes.OBJECT,
            400: ERROR,
        },
    )
    def get(self, request):
        params = validated(ExportFilterSerializer, request.query_params)
        data, filename, ctype = exports.units_export(fmt=params["format"], crs=params["crs"])
        response = HttpResponse(data, content_type=ctype)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
