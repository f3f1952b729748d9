"""The credit API (/api/credit/): thin views over credit.services and credit.selectors."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from gridgov.errors import ErrorSerializer, Forbidden, NotFound
from gridgov.models import Role
from gridgov.validation import PlainTextField, validated
from sources.api import CreditCodeField

from . import selectors, services
from .models import Level, PenaltyKind, RepairRequest, VetoKind

ENTERING_ROLES = {Role.CITY_SUPERVISOR, Role.DISTRICT_SUPERVISOR}
FILING_ROLES = ENTERING_ROLES | {Role.ENTERPRISE_CONTACT}


def _require(user, roles: set[str]) -> None:
    if not (user.is_superuser or user.role in roles):
        raise Forbidden(_("您的角色无权进行此操作。"), code="role_forbidden")


def local_iso(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


class HistoryRow(serializers.Serializer):
    at = serializers.DateTimeField()
    delta = serializers.IntegerField()
    score = serializers.IntegerField()
    level = serializers.ChoiceField(choices=Level.choices)
    rule = serializers.CharField()
    evidence = inline_serializer(
        "CreditEvidenceRef", {"kind": serializers.CharField(), "id": serializers.IntegerField()}
    )


CREDIT_RESPONSE = inline_serializer(
    "EnterpriseCredit",
    {
        "credit_code": serializers.CharField(),
        "score": serializers.IntegerField(),
        "level": serializers.ChoiceField(choices=Level.choices),
        "level_label": serializers.CharField(),
        "level_since": serializers.DateField(allow_null=True),
        "commitment_on": serializers.DateField(allow_null=True),
        "history": HistoryRow(many=True),
        "evidence": serializers.ListField(child=serializers.DictField()),
    },
)


def credit_body(credit_code: str, *, full: bool = True) -> dict:
    """Score, level and dates; with `full`, the history and the evidence too."""
    s = services.scheme()
    standing = selectors.standing_get(credit_code=credit_code)
    score = standing.score if standing else s.base_score
    level = standing.level if standing else services.engine.band(s.base_score, s)
    return {
        "credit_code": credit_code,
        "score": score,
        "level": level,
        "level_label": str(Level(level).label),
        "level_since": standing.level_since.isoformat() if standing else None,
        "commitment_on": standing.commitment_on.isoformat() if standing and standing.commitment_on else None,
        "history": [
            {
                "at": local_iso(c.at),
                "delta": c.delta,
                "score": c.score,
                "level": c.level,
                "rule": c.rule,
                "reason": c.reason,
                "evidence": {"kind": c.evidence.kind, "id": c.evidence.source_id},
            }
            for c in (selectors.history(credit_code=credit_code) if full else ())
        ],
        "evidence": [
            {
                "id": e.pk,
                "kind": e.kind,
                "source_id": e.source_id,
                "rule": e.rule_code,
                "points": e.points,
                "veto": e.veto,
                "occurred_on": e.occurred_on.isoformat(),
                "expires_on": e.expires_on.isoformat(),
                "repair_from": e.repair_from.isoformat(),
                "repaired_on": e.repaired_on.isoformat() if e.repaired_on else None,
            }
            for e in (selectors.evidence_list(credit_code=credit_code) if full else ())
        ],
    }


class EnterpriseCreditView(APIView):
    """An enterprise's score, level and history (staff; an enterprise contact sees its own)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: CREDIT_RESPONSE, 404: ErrorSerializer})
    def get(self, request, credit_code: str):
        if selectors.enterprise_area(credit_code) is None or not selectors.credit_visible(
            user=request.user, credit_code=credit_code
        ):
            raise NotFound(_("企业不存在。"), code="enterprise_not_found", field="credit_code")
        return Response(credit_body(credit_code))


class PenaltyInput(serializers.Serializer):
    credit_code = CreditCodeField(label=gettext_lazy("统一社会信用代码"))
    decision_number = PlainTextField(label=gettext_lazy("处罚决定书文号"), max_length=64)
    decided_on = serializers.DateField(label=gettext_lazy("决定日期"))
    kind = serializers.ChoiceField(label=gettext_lazy("处罚种类"), choices=PenaltyKind.choices)
    amount_yuan = serializers.DecimalField(
        label=gettext_lazy("罚款金额（元）"), max_digits=14, decimal_places=2, min_value=0, required=False, default=0
    )


class EvidenceCreateView(APIView):
    """Evidence a supervisor enters (``service`` on the ``input_class`` serializer's data): the
    score has moved when it answers, with the new record's id."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]
    input_class: type[serializers.Serializer]
    service: staticmethod

    def post(self, request):
        _require(request.user, ENTERING_ROLES)
        record = self.service(actor=request.user, **validated(self.input_class, request.data))
        return Response({"id": record.pk, **credit_body(record.credit_code)}, status=201)


def _evidence_schema(input_serializer):
    return extend_schema_view(
        post=extend_schema(
            request=input_serializer, responses={201: CREDIT_RESPONSE, 400: ErrorSerializer, 403: ErrorSerializer}
        )
    )


@_evidence_schema(PenaltyInput)
class PenaltyCreateView(EvidenceCreateView):
    """行政处罚: entered by a city or district supervisor."""

    input_class = PenaltyInput
    service = staticmethod(services.penalty_create)


class VetoInput(serializers.Serializer):
    credit_code = CreditCodeField(label=gettext_lazy("统一社会信用代码"))
    kind = serializers.ChoiceField(label=gettext_lazy("否决事项"), choices=VetoKind.choices)
    found_on = serializers.DateField(label=gettext_lazy("认定日期"))
    reference = PlainTextField(label=gettext_lazy("认定文书或案件编号"), max_length=64)


@_evidence_schema(VetoInput)
class VetoCreateView(EvidenceCreateView):
    """一票否决: red at once."""

    input_class = VetoInput
    service = staticmethod(services.veto_create)


class CommitmentInput(serializers.Serializer):
    credit_code = CreditCodeField(label=gettext_lazy("统一社会信用代码"))
    signed_on = serializers.DateField(label=gettext_lazy("承诺日期"))


class CommitmentView(APIView):
    """信用承诺: recorded by the enterprise's contact or a supervisor."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(request=CommitmentInput, responses={200: CREDIT_RESPONSE, 400: ErrorSerializer})
    def post(self, request):
        _require(request.user, FILING_ROLES)
        data = validated(CommitmentInput, request.data)
        services.commitment_record(actor=request.user, **data)
        return Response(credit_body(data["credit_code"]))


class RepairInput(serializers.Serializer):
    evidence = serializers.IntegerField(label=gettext_lazy("扣分记录"), min_value=1)
    statement = PlainTextField(label=gettext_lazy("修复说明及整改证明"), max_length=4000, multiline=True)
    photo_hashes = serializers.ListField(
        label=gettext_lazy("证明材料照片"),
        child=serializers.RegexField(r"^[0-9a-f]{64}$"),
        required=False,
        max_length=9,
    )


class RepairSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display")
    evidence_rule = serializers.CharField(source="evidence.rule_code")
    filed_by = serializers.CharField(source="filed_by.display_name")

    class Meta:
        model = RepairRequest
        fields = [
            "id",
            "credit_code",
            "evidence",
            "evidence_rule",
            "statement",
            "photo_hashes",
            "status",
            "status_label",
            "filed_by",
            "filed_at",
            "decided_at",
            "decision_note",
        ]


class RepairListView(APIView):
    """信用修复 requests: list (scoped) and file (contact or supervisor, after the minimum period)."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(responses=RepairSerializer(many=True))
    def get(self, request):
        _require(request.user, FILING_ROLES)
        return Response(RepairSerializer(selectors.repairs_visible(user=request.user)[:500], many=True).data)

    @extend_schema(request=RepairInput, responses={201: RepairSerializer, 400: ErrorSerializer})
    def post(self, request):
        _require(request.user, FILING_ROLES)
        data = validated(RepairInput, request.data)
        repair = services.repair_request_file(
            actor=request.user,
            evidence_id=data["evidence"],
            statement=data["statement"],
            photo_hashes=data.get("photo_hashes"),
        )
        return Response(RepairSerializer(repair).data, status=201)


class DecisionInput(serializers.Serializer):
    approve = serializers.BooleanField(label=gettext_lazy("审核结论"))
    note = PlainTextField(label=gettext_lazy("审核意见"), max_length=500, required=False, default="", allow_blank=True)


class RepairDecideView(APIView):
    """A district or city supervisor approves (the deduction stops counting) or refuses."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(request=DecisionInput, responses={200: RepairSerializer, 400: ErrorSerializer, 409: ErrorSerializer})
    def post(self, request, pk: int):
        _require(request.user, ENTERING_ROLES)
        data = validated(DecisionInput, request.data)
        repair = services.repair_request_decide(actor=request.user, request_id=pk, **data)
        return Response(RepairSerializer(repair).data)


class PublicFilter(serializers.Serializer):
    district = serializers.RegexField(r"^[0-9]{6}$", label=gettext_lazy("区县代码"), required=False)


class PublicListView(APIView):
    """公示: every enterprise's name, credit code, level and its date, by district (anonymous)."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("district", str, description="6-digit district code")],
        responses=inline_serializer(
            "CreditPublicRow",
            {
                "credit_code": serializers.CharField(),
                "name": serializers.CharField(),
                "district": serializers.CharField(allow_null=True),
                "level": serializers.CharField(),
                "since": serializers.DateField(allow_null=True),
            },
            many=True,
        ),
    )
    def get(self, request):
        data = validated(PublicFilter, request.GET)
        rows = selectors.public_list(district=data.get("district"))
        for row in rows:
            row["since"] = row["since"].isoformat() if row["since"] else None
        return Response(rows)
