"""The patrol API for the web and mobile apps: thin views over services and selectors.

Each view validates its input with the serializer of `patrol.inputs` that its schema shows
(`gridgov.validation.validated`), then calls one service or selector with the clean values.
"""

from __future__ import annotations

import datetime as dt
import json
import math

from django.http import FileResponse, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from gridgov.db.retry import idempotent_write
from gridgov.errors import ErrorSerializer, InvalidInput, NotFound
from gridgov.geo import point_from
from gridgov.models import AdminArea
from gridgov.pagination import GeoJsonLimitOffsetPagination
from gridgov.validation import validated

from . import selectors
from .actions.photos import check_photo_size, photo_store
from .actions.reporting import issue_report
from .actions.transitions import allowed_actions, issue_transition
from .inputs import IssueFilter, ReportRequest, TransitionRequest, validated_report
from .models import Issue, Photo
from .serializers import CategorySerializer, IssueDetailSerializer, IssueFeatureSerializer, photo_url


def report_body(issue: Issue) -> dict:
    """The body of POST /api/patrol/issues/, the same for the first send and every resend."""
    here = issue.point.coords
    found = getattr(issue, "_duplicates", None)
    if found is None:  # a resend: the suggestions older than the case, as the first send saw them
        found = [
            {"id": d.pk, "status": d.status, "reported_at": d.reported_at, "x": d.point.x, "y": d.point.y}
            for d in selectors.issue_duplicates(point=issue.point, category=issue.category_id, exclude_id=issue.pk)
            if d.pk < issue.pk
        ]
    tz = timezone.get_current_timezone()
    return {
        "id": issue.pk,
        "status": issue.status,
        "grid_cell": issue.grid_cell_code,
        "district": _district_code(issue),
        "priority": issue.priority,
        "deadline": timezone.localtime(issue.deadline).isoformat() if issue.deadline else None,
        "duplicates": [
            {
                "id": d["id"],
                "status": d["status"],
                "reported_at": _local_iso(d["reported_at"], tz),
                "distance_m": round(_distance_m(here, (d["x"], d["y"])), 1),
            }
            for d in found
        ],
    }


def _local_iso(value: dt.datetime | str, tz) -> str:
    """ISO 8601 in local time of a datetime, or of the ISO text PostgreSQL's json gives for one."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.astimezone(tz).isoformat()


def _district_code(issue: Issue) -> str | None:
    code = getattr(issue, "_district_code", None)
    if code is None and issue.district_id:
        # Only the code: the district's boundary is a large polygon we must not load here.
        code = AdminArea.objects.filter(pk=issue.district_id).values_list("code", flat=True).first()
    return code


def _distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Metres between two nearby lon/lat pairs (equirectangular; exact enough within 100 m)."""
    lat = math.radians((a[1] + b[1]) / 2)
    dx = (a[0] - b[0]) * 111_320 * math.cos(lat)
    dy = (a[1] - b[1]) * 110_574
    return math.hypot(dx, dy)


REPORT_RESPONSE = inline_serializer(
    "IssueReported",
    {
        "id": serializers.IntegerField(),
        "status": serializers.CharField(),
        "grid_cell": serializers.CharField(),
        "district": serializers.CharField(allow_null=True),
        "priority": serializers.CharField(),
        "deadline": serializers.DateTimeField(allow_null=True),
        "duplicates": serializers.ListField(child=serializers.DictField()),
    },
)


class IssuePagination(GeoJsonLimitOffsetPagination):
    default_limit = 200


class IssueListView(APIView):
    """Cases as GeoJSON (scoped to the user), and reporting a new case."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(parameters=[IssueFilter], responses=IssueFeatureSerializer(many=True))
    def get(self, request):
        filters = validated(IssueFilter, request.query_params)
        qs = selectors.issues_list(user=request.user, **IssueFilter.selector_args(filters))
        paginator = IssuePagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(IssueFeatureSerializer(page, many=True).data)

    @extend_schema(request=ReportRequest, responses={201: REPORT_RESPONSE, 200: REPORT_RESPONSE})
    def post(self, request):
        data = validated_report(request.data)
        point = point_from(data["lat"], data["lon"], data["crs"])
        crs_note = data["crs"] if isinstance(request.data, dict) and request.data.get("crs") else ""
        # Exactly once by client_uuid, so a report cut off by a database restart (while it is
        # written or while its answer is read back) is simply redone; the answer says 201 if
        # the first try created the case.
        first: dict = {}

        def report() -> dict:
            issue, created = issue_report(
                reporter=request.user,
                point=point,
                category=data["category"],
                description=data["description"],
                client_uuid=data["client_uuid"],
                accuracy_m=data.get("accuracy_m"),
                photo_hashes=data["photo_hashes"],
                crs_note=crs_note,
            )
            first.setdefault("created", created)
            return report_body(issue)

        answer = idempotent_write(report)
        created = first["created"]
        # Written as DRF's JSONRenderer would (compact UTF-8 JSON); the body is plain data, so
        # the renderer's negotiation and encoder add nothing on the busiest write.
        body = json.dumps(answer, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return HttpResponse(body.encode(), status=201 if created else 200, content_type="application/json")


class IssueDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=IssueDetailSerializer)
    def get(self, request, pk: int):
        issue = selectors.issue_get(user=request.user, issue_id=pk)
        return Response(IssueDetailSerializer(issue, context={"user": request.user}).data)


class IssueTransitionView(APIView):
    """Take one action of the transition table on a case; 409 says why when it is not allowed."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser, FormParser]

    @extend_schema(request=TransitionRequest, responses={200: IssueDetailSerializer, 409: ErrorSerializer})
    def post(self, request, pk: int):
        selectors.issue_get(user=request.user, issue_id=pk)  # 404 when out of scope
        data = validated(TransitionRequest, request.data)
        issue_transition(
            issue_id=pk, action=data["action"], actor=request.user, **TransitionRequest.service_params(data)
        )
        issue = selectors.issue_get(user=request.user, issue_id=pk)
        return Response(IssueDetailSerializer(issue, context={"user": request.user}).data)


PHOTO_STORED = inline_serializer("PhotoStored", {"sha256": serializers.CharField(), "url": serializers.CharField()})


class PhotoUploadView(APIView):
    """Upload one photo (multipart field `photo`); answers its SHA-256, the same on every retry."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": inline_serializer("PhotoUpload", {"photo": serializers.ImageField()})},
        responses={
            201: PHOTO_STORED,
            200: OpenApiResponse(PHOTO_STORED, description="already stored (a resend)"),
            413: ErrorSerializer,
        },
    )
    def post(self, request):
        upload = request.FILES.get("photo")
        if upload is None:
            raise InvalidInput(_("请选择要上传的照片。"), code="required", field="photo")
        check_photo_size(upload.size)
        content = upload.read()
        # Stored under its content hash: a store cut off by a database restart is simply redone.
        photo, created = idempotent_write(lambda: photo_store(data=content, uploaded_by=request.user))
        return Response({"sha256": photo.sha256, "url": photo_url(photo.sha256)}, status=201 if created else 200)


class CategoryListView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=CategorySerializer(many=True))
    def get(self, request):
        return Response(CategorySerializer(selectors.categories(), many=True).data)


class PhotoView(APIView):
    """The stripped copy of a photo: to its uploader, to those who may see one of its cases, and
    to everyone once one of its cases is published."""

    permission_classes = [AllowAny]

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    def get(self, request, sha: str):
        photo = Photo.objects.filter(sha256=sha.lower()).first()
        if photo is None or not selectors.photo_visible(photo=photo, user=request.user):
            raise NotFound(_("照片不存在。"), code="not_found", field="sha256")
        response = FileResponse(photo.image.open("rb"), content_type="image/jpeg")
        response["Cache-Control"] = "private, max-age=86400, immutable"
        return response


class MyTasksView(APIView):
    """What waits for the user (mobile "my tasks"): GeoJSON with deadlines and allowed actions;
    `task` says whether the case is work assigned to the user or a report of their own."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=IssueFeatureSerializer(many=True))
    def get(self, request):
        tasks = list(selectors.my_tasks(user=request.user)[:200])
        body = IssueFeatureSerializer(tasks, many=True).data
        for feature, issue in zip(body["features"], tasks, strict=True):
            props = feature["properties"]
            props["allowed_actions"] = allowed_actions(issue=issue, user=request.user)
            props["description"] = issue.description[:200]
            props["task"] = issue.task_kind  # assigned (交办给我) or reported (我的上报)
            props["township_name"] = issue.township.name if issue.township_id else ""
        return Response(body)
