"""The 双随机 API (/api/inspections/) and the public JSON of a plan (/public/inspections/<id>.json)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from credit.models import Level
from gridgov.db.retry import idempotent_write
from gridgov.errors import ErrorSerializer, Forbidden
from gridgov.geo import point_from
from gridgov.validation import CRSField, PlainTextField, lat_field, lon_field, validated

from . import selectors, services
from .models import ManagementClass, Outcome, Plan, PlanStatus
from .public import plan_public_body, task_feature


def _planner(user) -> None:
    if not services.can_plan(user):
        raise Forbidden(_("只有市、区县监管人员可以制定和抽取双随机计划。"), code="not_planner")


def _viewer(user) -> None:
    if not (user.is_superuser or user.role in selectors.SUPERVISOR_ROLES):
        raise Forbidden(_("只有监管人员可以查看抽查计划。"), code="not_supervisor")


class PoolInput(serializers.Serializer):
    management_class = serializers.ChoiceField(
        label=gettext_lazy("管理类别"), choices=ManagementClass.choices, required=False, allow_null=True
    )
    credit_levels = serializers.ListField(
        label=gettext_lazy("信用等级"),
        child=serializers.ChoiceField(choices=Level.choices),
        required=False,
        allow_null=True,
        max_length=5,
    )
    ratio = serializers.DecimalField(
        label=gettext_lazy("抽取比例"), max_digits=5, decimal_places=4, min_value=0, max_value=1
    )


class PlanInput(serializers.Serializer):
    name = PlainTextField(label=gettext_lazy("计划名称"), max_length=128)
    period_start = serializers.DateField(label=gettext_lazy("开始日期"))
    period_end = serializers.DateField(label=gettext_lazy("结束日期"))
    scope = serializers.ListField(
        label=gettext_lazy("抽查范围"),
        child=serializers.RegexField(r"^([0-9]{6}|[0-9]{9})$"),
        min_length=1,
        max_length=50,
    )
    pools = serializers.ListField(label=gettext_lazy("抽查池"), child=PoolInput(), min_length=1, max_length=20)
    inspectors = serializers.ListField(
        label=gettext_lazy("执法人员"), child=serializers.CharField(max_length=150), required=False, max_length=2000
    )
    per_inspection = serializers.IntegerField(label=gettext_lazy("每次检查人数"), min_value=1, max_value=10, default=2)

    def validate(self, attrs):
        start, end = attrs.get("period_start"), attrs.get("period_end")
        if start and end and end < start:
            raise serializers.ValidationError({"period_end": _("结束日期不能早于开始日期。")})
        return attrs


def plan_body(plan: Plan) -> dict:
    """A plan for its supervisors: everything, including the drawn inspections with usernames."""
    inspections = []
    if plan.status == PlanStatus.DRAWN:
        names = selectors.enterprises_by_code(i.credit_code for i in plan.inspections.all())
        for i in plan.inspections.prefetch_related("team__user").order_by("position"):
            e = names.get(i.credit_code)
            inspections.append(
                {
                    "id": i.pk,
                    "credit_code": i.credit_code,
                    "name": e.name if e else "",
                    "district": e.district.code if e and e.district_id else None,
                    "code": i.code,
                    "pool": i.pool,
                    "inspectors": [m.user.username for m in i.team.all()],
                    "inspector_names": [m.user.display_name for m in i.team.all()],
                    "outcome": i.outcome or None,
                    "done_at": timezone.localtime(i.done_at).isoformat() if i.done_at else None,
                }
            )
    return {
        "id": plan.pk,
        "name": plan.name,
        "period_start": plan.period_start.isoformat(),
        "period_end": plan.period_end.isoformat(),
        "scope": [a.code for a in plan.scope.all().only("code")],
        "pools": [
            {
                "management_class": p.management_class or None,
                "credit_levels": p.credit_levels or None,
                "ratio": float(p.ratio),
                "label": services.pool_label(p),
            }
            for p in plan.pools.order_by("position")
        ],
        "inspectors": [u.username for u in plan.inspectors.order_by("username")],
        "per_inspection": plan.per_inspection,
        "status": plan.status,
        "status_label": plan.get_status_display(),
        "seed_sha256": plan.seed_sha256 or None,
        "inputs_sha256": plan.inputs_sha256 or None,
        "seed": plan.seed if plan.status == PlanStatus.DRAWN else None,
        "algorithm": plan.algorithm or None,
        "sources": sum(len(p["sources"]) for p in plan.inputs["pools"]) if plan.inputs else None,
        "inspections": inspections,
        "public_url": reverse("public-inspection-page", args=[plan.pk]),
    }


PLAN_RESPONSE = inline_serializer("InspectionPlan", {"id": serializers.IntegerField()})


class PlanListView(APIView):
    """Plans in the user's jurisdiction (supervisors), and creating a draft (city, district)."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(responses=PLAN_RESPONSE)
    def get(self, request):
        plans = selectors.plans_visible(user=request.user).prefetch_related("scope", "pools", "inspectors")[:200]
        return Response([plan_body(p) for p in plans])

    @extend_schema(request=PlanInput, responses={201: PLAN_RESPONSE, 400: ErrorSerializer, 403: ErrorSerializer})
    def post(self, request):
        _planner(request.user)
        data = validated(PlanInput, request.data)
        plan = services.plan_create(actor=request.user, **data)
        return Response({"id": plan.pk, **plan_body(plan)}, status=201)


class PlanDetailView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(responses={200: PLAN_RESPONSE, 404: ErrorSerializer})
    def get(self, request, pk: int):
        _viewer(request.user)
        return Response(plan_body(selectors.plan_get(user=request.user, plan_id=pk)))

    @extend_schema(request=PlanInput, responses={200: PLAN_RESPONSE, 400: ErrorSerializer, 409: ErrorSerializer})
    def patch(self, request, pk: int):
        _planner(request.user)
        selectors.plan_get(user=request.user, plan_id=pk)
        data = validated(PlanInput, request.data, partial=True)
        return Response(plan_body(services.plan_update(actor=request.user, plan_id=pk, **data)))


class PlanCommitView(APIView):
    """承诺: freeze the plan and publish SHA-256(seed) (and of the inputs)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "PlanCommitted", {"seed_sha256": serializers.CharField(), "inputs_sha256": serializers.CharField()}
            ),
            409: ErrorSerializer,
        },
    )
    def post(self, request, pk: int):
        _planner(request.user)
        selectors.plan_get(user=request.user, plan_id=pk)
        plan = services.plan_commit(actor=request.user, plan_id=pk)
        return Response({"seed_sha256": plan.seed_sha256, "inputs_sha256": plan.inputs_sha256})


class PlanDrawView(APIView):
    """抽取: reveal the seed and draw (deterministic: anyone can recompute it)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "PlanDrawn",
                {
                    "seed": serializers.CharField(),
                    "algorithm": serializers.CharField(),
                    "inspections": serializers.ListField(child=serializers.DictField()),
                },
            ),
            409: ErrorSerializer,
        },
    )
    def post(self, request, pk: int):
        _planner(request.user)
        selectors.plan_get(user=request.user, plan_id=pk)
        plan = services.plan_draw(actor=request.user, plan_id=pk)
        return Response(
            {
                "seed": plan.seed,
                "algorithm": plan.algorithm,
                "inspections": [
                    {
                        "credit_code": i.credit_code,
                        "inspectors": [m.user.username for m in i.team.all()],
                        "code": i.code,
                    }
                    for i in plan.inspections.prefetch_related("team__user").order_by("position")
                ],
            }
        )


class TaskListView(APIView):
    """我的任务 for inspections: the user's drawn inspections awaiting a result (GeoJSON)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=inline_serializer(
            "InspectionTasks",
            {"type": serializers.CharField(), "features": serializers.ListField(child=serializers.DictField())},
        )
    )
    def get(self, request):
        tasks = list(selectors.my_tasks(user=request.user)[:200])
        cards = selectors.enterprises_by_code(t.credit_code for t in tasks)
        return Response(
            {
                "type": "FeatureCollection",
                "features": [task_feature(t, cards.get(t.credit_code), request) for t in tasks],
            }
        )


class ResultInput(serializers.Serializer):
    client_uuid = serializers.UUIDField(label=gettext_lazy("客户端编号"))
    inspection = serializers.IntegerField(label=gettext_lazy("检查任务"), min_value=1)
    outcome = serializers.ChoiceField(label=gettext_lazy("检查结果"), choices=Outcome.choices)
    problems = PlainTextField(
        label=gettext_lazy("发现的问题"), max_length=4000, multiline=True, required=False, default="", allow_blank=True
    )
    legal_basis = PlainTextField(
        label=gettext_lazy("法律依据"), max_length=500, required=False, default="", allow_blank=True
    )
    category = serializers.CharField(label=gettext_lazy("问题类别"), max_length=64, required=False, default="other")
    photo_hashes = serializers.ListField(
        label=gettext_lazy("照片"), child=serializers.RegexField(r"^[0-9a-fA-F]{64}$"), required=False, max_length=9
    )
    lat = lat_field(required=False)
    lon = lon_field(required=False)
    crs = CRSField()


RESULT_RESPONSE = inline_serializer(
    "InspectionResultRecorded",
    {
        "inspection": serializers.IntegerField(),
        "code": serializers.CharField(),
        "outcome": serializers.CharField(),
        "issue": serializers.IntegerField(allow_null=True),
    },
)


class ResultCreateView(APIView):
    """Record an inspection's result on site: exactly once by `client_uuid` (offline resends answer
    200 with the same body; a different result under the same id is a 409)."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(request=ResultInput, responses={201: RESULT_RESPONSE, 200: RESULT_RESPONSE, 409: ErrorSerializer})
    def post(self, request):
        data = validated(ResultInput, request.data)
        point = None
        if data.get("lat") is not None and data.get("lon") is not None:
            point = point_from(data["lat"], data["lon"], data["crs"])
        first: dict = {}

        def record() -> dict:
            result, created = services.result_record(
                actor=request.user,
                inspection_id=data["inspection"],
                client_uuid=data["client_uuid"],
                outcome=data["outcome"],
                problems=data["problems"],
                legal_basis=data["legal_basis"],
                photo_hashes=data.get("photo_hashes"),
                category=data["category"],
                point=point,
            )
            first.setdefault("created", created)
            return {
                "inspection": result.inspection_id,
                "code": result.inspection.code,
                "outcome": result.outcome,
                "issue": result.issue_id,
            }

        body = idempotent_write(record)
        return Response(body, status=201 if first["created"] else 200)


class PublicPlanJsonView(APIView):
    """The public JSON of a plan: the commitment at once; the seed, inputs and draw once published."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        responses={200: inline_serializer("PublicPlan", {"id": serializers.IntegerField()}), 404: ErrorSerializer}
    )
    def get(self, request, pk: int):
        return Response(plan_public_body(selectors.plan_public_get(pk), request))
