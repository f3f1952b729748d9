"""The patrol API for the web and mobile apps: thin views over services and selectors."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from django.http import FileResponse, HttpResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from gridgov.db.retry import idempotent_write
from gridgov.errors import ErrorSerializer, InvalidInput, NotFound
from gridgov.geo import parse_float, parse_point
from gridgov.models import AdminArea

from . import selectors, services
from .models import Issue, Photo
from .transitions import TRANSITIONS, USER_ACTIONS


def photo_url(sha: str) -> str:
    return reverse("patrol-photo", args=[sha])


class IssueFeatureSerializer(GeoFeatureModelSerializer):
    point = GeometryField(precision=7)
    category_name = serializers.CharField(source="category.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    priority_label = serializers.CharField(source="get_priority_display", read_only=True)
    district = serializers.CharField(source="district.code", default=None, read_only=True, allow_null=True)
    township = serializers.CharField(source="township.code", default=None, read_only=True, allow_null=True)
    grid_cell = serializers.CharField(source="grid_cell_code", read_only=True)
    responsible_unit = serializers.CharField(
        source="responsible_unit.name", default=None, read_only=True, allow_null=True
    )
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)

    class Meta:
        model = Issue
        geo_field = "point"
        fields = [
            "id",
            "status",
            "status_label",
            "category",
            "category_name",
            "source",
            "priority",
            "priority_label",
            "deadline",
            "overdue",
            "escalation_level",
            "reported_at",
            "district",
            "township",
            "grid_cell",
            "responsible_unit",
            "is_public",
            "accuracy_m",
        ]


class IssueDetailSerializer(IssueFeatureSerializer):
    photos = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()
    reporter = serializers.CharField(source="reporter.display_name", default=None, read_only=True, allow_null=True)

    class Meta(IssueFeatureSerializer.Meta):
        fields = IssueFeatureSerializer.Meta.fields + [
            "description",
            "client_uuid",
            "zone_hits",
            "duplicate_of",
            "photos",
            "events",
            "allowed_actions",
            "reporter",
            "public_description",
            "verified_at",
            "dispatched_at",
            "rectified_at",
            "accepted_at",
            "escalated_at",
            "published_at",
            "closed_at",
            "deadline_overridden",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_photos(self, obj):
        return [{"sha256": p.sha256, "url": photo_url(p.sha256)} for p in obj.photos.all()]

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_events(self, obj):
        return [
            {
                "action": e.action,
                "label": TRANSITIONS[e.action].label if e.action in TRANSITIONS else "上报",
                "from": e.from_status,
                "to": e.to_status,
                "actor": e.actor.display_name if e.actor else "系统",
                "at": e.at,
                "note": e.note,
                "location": {"lat": e.point.y, "lon": e.point.x} if e.point else None,
                "photos": [{"sha256": h, "url": photo_url(h)} for h in e.photo_hashes],
                "data": e.data,
            }
            for e in obj.events.all()
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, obj):
        user = self.context.get("user")
        return services.allowed_actions(issue=obj, user=user) if user else []


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
    import math

    lat = math.radians((a[1] + b[1]) / 2)
    dx = (a[0] - b[0]) * 111_320 * math.cos(lat)
    dy = (a[1] - b[1]) * 110_574
    return math.hypot(dx, dy)


REPORT_REQUEST = inline_serializer(
    "IssueReport",
    {
        "client_uuid": serializers.UUIDField(),
        "lat": serializers.FloatField(),
        "lon": serializers.FloatField(),
        "crs": serializers.ChoiceField(choices=["wgs84", "gcj02", "bd09", "cgcs2000"], required=False),
        "accuracy_m": serializers.FloatField(required=False),
        "category": serializers.CharField(),
        "description": serializers.CharField(required=False),
        "photo_hashes": serializers.ListField(child=serializers.CharField(), required=False),
    },
)
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


def _text(data, name: str, *, required: bool = False) -> str:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise InvalidInput(f"缺少参数 {name} / missing '{name}'", field=name)
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"'{name}' must be a string", field=name)
    return value


MAX_OFFSET = 10**9  # far past any case count; PostgreSQL's OFFSET is a bigint


class IssueListView(APIView):
    """Cases as GeoJSON (scoped to the user), and reporting a new case."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, description="comma-separated statuses"),
            OpenApiParameter("category", str, description="category code; a top-level code includes its sub-codes"),
            OpenApiParameter("district", str, description="6-digit district code"),
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="reported at or after"),
            OpenApiParameter("bbox", str, description="minlon,minlat,maxlon,maxlat (WGS84)"),
            OpenApiParameter("limit", int, description="page size, default 200, at most 1000"),
            OpenApiParameter("offset", int),
        ],
        responses=IssueFeatureSerializer(many=True),
    )
    def get(self, request):
        qs = selectors.issues_list(user=request.user, filters=request.GET)
        limit = int(parse_float(request.GET.get("limit", 200), field="limit"))
        offset = int(parse_float(request.GET.get("offset", 0), field="offset"))
        if not 1 <= limit <= 1000:
            raise InvalidInput("'limit' must be between 1 and 1000", field="limit")
        if not 0 <= offset <= MAX_OFFSET:
            raise InvalidInput(f"'offset' must be between 0 and {MAX_OFFSET}", field="offset")
        total = qs.count()
        page = list(qs[offset : offset + limit])
        body = IssueFeatureSerializer(page, many=True).data
        body["numberMatched"] = total
        body["numberReturned"] = len(page)
        if offset + limit < total:
            params = request.GET.copy()
            params["offset"] = str(offset + limit)
            params["limit"] = str(limit)
            body["next"] = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
        else:
            body["next"] = None
        return Response(body)

    @extend_schema(request=REPORT_REQUEST, responses={201: REPORT_RESPONSE, 200: REPORT_RESPONSE})
    def post(self, request):
        data = request.data
        if not isinstance(data, dict):
            raise InvalidInput("body must be a JSON object", field=None)
        raw_uuid = data.get("client_uuid")
        if not raw_uuid:
            raise InvalidInput("缺少参数 client_uuid / missing 'client_uuid'", field="client_uuid")
        try:
            client_uuid = uuid.UUID(str(raw_uuid))
        except ValueError:
            raise InvalidInput("'client_uuid' must be a UUID", field="client_uuid")
        point = parse_point(data.get("lat"), data.get("lon"), data.get("crs"))
        accuracy = data.get("accuracy_m")
        accuracy = None if accuracy in (None, "") else parse_float(accuracy, field="accuracy_m")
        hashes = data.get("photo_hashes") or []
        if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
            raise InvalidInput("'photo_hashes' must be a list of SHA-256 strings", field="photo_hashes")
        category, description = _text(data, "category", required=True), _text(data, "description")
        # Exactly once by client_uuid, so a report cut off by a database restart (while it is
        # written or while its answer is read back) is simply redone; the answer says 201 if
        # the first try created the case.
        first: dict = {}

        def report() -> dict:
            issue, created = services.issue_report(
                reporter=request.user,
                point=point,
                category=category,
                description=description,
                client_uuid=client_uuid,
                accuracy_m=accuracy,
                photo_hashes=hashes,
                crs_note=str(data.get("crs") or ""),
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


TRANSITION_REQUEST = inline_serializer(
    "IssueTransition",
    {
        "action": serializers.ChoiceField(choices=USER_ACTIONS),
        "note": serializers.CharField(required=False),
        "photo_hashes": serializers.ListField(child=serializers.CharField(), required=False),
        "unit": serializers.IntegerField(required=False, help_text="dispatch: organization id"),
        "deadline": serializers.DateTimeField(required=False, help_text="dispatch / set_deadline"),
        "duplicate_of": serializers.IntegerField(required=False),
        "public_text": serializers.CharField(required=False, help_text="publish"),
        "lat": serializers.FloatField(required=False),
        "lon": serializers.FloatField(required=False),
    },
)


class IssueTransitionView(APIView):
    """Take one action of the transition table on a case; 409 says why when it is not allowed."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser, FormParser]

    @extend_schema(request=TRANSITION_REQUEST, responses={200: IssueDetailSerializer, 409: ErrorSerializer})
    def post(self, request, pk: int):
        selectors.issue_get(user=request.user, issue_id=pk)  # 404 when out of scope
        data = request.data
        if not hasattr(data, "get"):  # a JSON list, string or number
            raise InvalidInput("请求体应为 JSON 对象 / body must be a JSON object", field=None)
        action = data.get("action")
        if not action:
            raise InvalidInput("缺少参数 action / missing 'action'", field="action")
        note = data.get("note") or ""
        if not isinstance(note, str):
            raise InvalidInput("'note' must be a string", field="note")
        if not isinstance(data.get("public_text") or "", str):
            raise InvalidInput("'public_text' must be a string", field="public_text")
        services.issue_transition(
            issue_id=int(pk), action=str(action), actor=request.user, note=note, params=dict(data)
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
            raise InvalidInput("缺少照片 / missing file field 'photo'", field="photo")
        limit = services.setting("PATROL_PHOTO_MAX_BYTES")
        if upload.size > limit:
            from gridgov.errors import PayloadTooLarge

            raise PayloadTooLarge(f"照片超过大小限制 / 'photo' is larger than {limit} bytes", field="photo")
        content = upload.read()
        # Stored under its content hash: a store cut off by a database restart is simply redone.
        photo, created = idempotent_write(lambda: services.photo_store(data=content, uploaded_by=request.user))
        return Response({"sha256": photo.sha256, "url": photo_url(photo.sha256)}, status=201 if created else 200)


class CategoryListView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses=inline_serializer(
            "PatrolCategory",
            {
                "code": serializers.CharField(),
                "name": serializers.CharField(),
                "parent": serializers.CharField(allow_null=True),
            },
            many=True,
        )
    )
    def get(self, request):
        return Response(
            [
                {
                    "code": c.code,
                    "name": c.name,
                    "parent": c.parent_id,
                    "default_priority": c.default_priority,
                    "deadline_days": {"normal": c.days_normal, "high": c.days_high, "urgent": c.days_urgent},
                }
                for c in selectors.categories()
            ]
        )


class PhotoView(APIView):
    """The stripped copy of a photo: to its uploader, to those who may see one of its cases, and
    to everyone once one of its cases is published."""

    permission_classes = [AllowAny]

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    def get(self, request, sha: str):
        photo = Photo.objects.filter(sha256=sha.lower()).first()
        if photo is None:
            raise NotFound("照片不存在 / photo not found", field="sha256")
        if not selectors.photo_visible(photo=photo, user=request.user):
            raise NotFound("照片不存在 / photo not found", field="sha256")
        response = FileResponse(photo.image.open("rb"), content_type="image/jpeg")
        response["Cache-Control"] = "private, max-age=86400, immutable"
        return response


class MyTasksView(APIView):
    """What waits for the user (mobile "my tasks"): GeoJSON with deadlines and allowed actions."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=IssueFeatureSerializer(many=True))
    def get(self, request):
        tasks = list(selectors.my_tasks(user=request.user)[:200])
        body = IssueFeatureSerializer(tasks, many=True).data
        for feature, issue in zip(body["features"], tasks, strict=True):
            feature["properties"]["allowed_actions"] = services.allowed_actions(issue=issue, user=request.user)
            feature["properties"]["description"] = issue.description[:200]
        return Response(body)
