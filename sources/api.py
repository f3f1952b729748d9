"""The pollution-source API (一企一档): thin views over `sources.services` and `.selectors`."""

from __future__ import annotations

import math
import re

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from gridgov.errors import ErrorSerializer, Forbidden
from gridgov.pagination import GeoJsonLimitOffsetPagination
from gridgov.validation import BBoxField, CRSField, PlainTextField, lat_field, lon_field, validated
from monitoring import selectors as monitoring
from monitoring.models import ExceedanceRule
from patrol.selectors import issue_get

from . import selectors, services
from .codes import MESSAGES, OUTLET_CODE, PERMIT_NUMBER, credit_code_problem
from .models import Enterprise, ManagementClass

# --- Input -------------------------------------------------------------------------------------


class CreditCodeField(serializers.CharField):
    """A unified social credit code whose GB 32100 check character is right (upper-cased)."""

    default_error_messages = MESSAGES

    def to_internal_value(self, data):
        value = super().to_internal_value(data).strip().upper()
        problem = credit_code_problem(value)
        if problem:
            self.fail(problem)
        return value


class PermitInput(serializers.Serializer):
    number = serializers.RegexField(
        PERMIT_NUMBER,
        label=_("排污许可证编号"),
        error_messages={"invalid": _("应为 22 位：统一社会信用代码、3 位序号和 1 个大写字母。")},
    )
    valid_from = serializers.DateField(label=_("有效期起"))
    valid_to = serializers.DateField(label=_("有效期至"))

    def validate(self, data):
        if data["valid_from"] >= data["valid_to"]:
            raise serializers.ValidationError({"valid_to": [_("应晚于有效期起。")]}, code="invalid_range")
        return data


class EnterpriseInput(serializers.Serializer):
    credit_code = CreditCodeField(label=_("统一社会信用代码"))
    name = PlainTextField(label=_("企业名称"), max_length=128)
    industry_code = serializers.RegexField(
        r"^[0-9]{4}$", label=_("行业类别代码"), error_messages={"invalid": _("应为 GB/T 4754-2017 的 4 位行业代码。")}
    )
    management_class = serializers.ChoiceField(label=_("管理类别"), choices=ManagementClass.choices)
    lat = lat_field()
    lon = lon_field()
    crs = CRSField()
    permit = PermitInput(label=_("排污许可证"), required=False, allow_null=True)

    def validate(self, data):
        permit = data.get("permit")
        if permit and data["management_class"] == ManagementClass.REGISTRATION:
            raise serializers.ValidationError(
                {"permit": [_("登记管理的排污单位没有排污许可证。")]}, code="registration_has_no_permit"
            )
        if permit and not permit["number"].startswith(data["credit_code"]):
            raise serializers.ValidationError(
                {"permit": {"number": [_("应以企业的统一社会信用代码开头。")]}}, code="permit_not_of_enterprise"
            )
        return data


class LimitsField(serializers.DictField):
    """Factor code → a positive number (upper limit) or [low, high] (pH must be a range)."""

    RANGE_ONLY = {"w01001"}  # pH

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_a_dict", input_type=type(data).__name__)
        out, errors = {}, {}
        for code, value in data.items():
            problem = self._problem(str(code), value)
            if problem:
                errors[str(code)] = [problem]
            else:
                out[str(code)] = (None, float(value)) if _is_number(value) else (float(value[0]), float(value[1]))
        if errors:
            raise serializers.ValidationError(errors)
        return out

    def _problem(self, code: str, value) -> str | None:
        if not re.fullmatch(r"[a-z]{1,2}[0-9]{5}", code):
            return _("%(code)s 不是 HJ 212-2017 的污染物因子编码。") % {"code": code[:20]}
        if _is_number(value):
            if code in self.RANGE_ONLY:
                return _("%(code)s（pH）应为 [下限, 上限]。") % {"code": code}
            return None if float(value) > 0 else _("%(code)s 的限值应为正数。") % {"code": code}
        if isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value):
            low, high = float(value[0]), float(value[1])
            if 0 <= low < high:
                return None
        return _("%(code)s 的限值应为正数，或 [下限, 上限]（下限小于上限）。") % {"code": code}


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class OutletInput(serializers.Serializer):
    code = serializers.RegexField(
        OUTLET_CODE, label=_("排放口编号"), error_messages={"invalid": _("应为 DA###（废气）或 DW###（废水）。")}
    )
    lat = lat_field()
    lon = lon_field()
    crs = CRSField()
    mn = serializers.RegexField(
        r"^[!-%'-+\--:<>-~]{1,64}$",
        label=_("设备唯一标识 MN"),
        error_messages={"invalid": _("应为 1–64 个可见字符，不含 ; , = &。")},
    )
    password = serializers.RegexField(
        r"^[!-%'-+\--:<>-~]{1,64}$",
        label=_("访问密码 PW"),
        write_only=True,
        error_messages={"invalid": _("应为 1–64 个可见字符，不含 ; , = &。")},
    )
    limits = LimitsField(label=_("排放限值"))
    exceedance_rule = serializers.ChoiceField(
        label=_("超标判定"), choices=ExceedanceRule.choices, required=False, default=ExceedanceRule.MEAN
    )


class ListQuery(serializers.Serializer):
    district = serializers.RegexField(r"^[0-9]{6}$", label=_("区县代码"), required=False)
    grid_cell = serializers.RegexField(r"^[0-9]{14}$", label=_("网格编码"), required=False)
    management_class = serializers.ChoiceField(label=_("管理类别"), choices=ManagementClass.choices, required=False)
    bbox = BBoxField()


# --- Output ------------------------------------------------------------------------------------

PUBLIC = ["credit_code", "name", "management_class", "management_class_label", "permit_number"]


def _area(area) -> dict | None:
    return {"code": area.code, "name": area.name} if area else None


class EnterpriseFeatureSerializer(GeoFeatureModelSerializer):
    """An enterprise as a GeoJSON feature: public fields for everyone (信息公开), the rest for
    staff whose jurisdiction holds it (`full`)."""

    point = GeometryField(precision=7)
    management_class_label = serializers.CharField(source="get_management_class_display")
    permit_number = serializers.SerializerMethodField()
    full = serializers.BooleanField()
    industry_code = serializers.CharField()
    district = serializers.CharField(source="district.code")
    township = serializers.CharField(source="township.code", default=None)
    grid_cell = serializers.CharField(source="grid_cell_code")
    exceedance_open = serializers.BooleanField()
    outlet_count = serializers.IntegerField()

    class Meta:
        model = Enterprise
        geo_field = "point"
        id_field = False
        fields = PUBLIC + [
            "full",
            "industry_code",
            "district",
            "township",
            "grid_cell",
            "exceedance_open",
            "outlet_count",
        ]

    def get_permit_number(self, obj) -> str | None:
        permit = getattr(obj, "permit", None)  # None when it has none (reverse one-to-one)
        return permit.number if permit else None

    def to_representation(self, obj):
        feature = super().to_representation(obj)
        if not obj.full:
            feature["properties"] = {k: feature["properties"][k] for k in PUBLIC + ["full"]}
        return feature


def outlet_body(outlet, *, cutoff) -> dict:
    logger = outlet.logger
    return {
        "id": outlet.pk,
        "code": outlet.code,
        "kind": outlet.kind,
        "lat": round(outlet.point.y, 7),
        "lon": round(outlet.point.x, 7),
        "mn": logger.mn,
        "online": monitoring.is_online(logger, cutoff),
        "last_seen": logger.last_seen,
        "exceedance_rule": logger.exceedance_rule,
        "limits": {lim.factor: [lim.low, lim.high] if lim.low is not None else lim.high for lim in logger.limits.all()},
    }


def enterprise_body(enterprise: Enterprise, *, user) -> dict:
    permit = getattr(enterprise, "permit", None)
    body = {
        "credit_code": enterprise.credit_code,
        "name": enterprise.name,
        "management_class": enterprise.management_class,
        "management_class_label": enterprise.get_management_class_display(),
        "permit_number": permit.number if permit else None,
        "lat": round(enterprise.point.y, 7),
        "lon": round(enterprise.point.x, 7),
        "full": bool(enterprise.full),
    }
    if not enterprise.full:
        return body
    cutoff = monitoring.online_cutoff(timezone.now())
    body |= {
        "industry_code": enterprise.industry_code,
        "district": _area(enterprise.district),
        "township": _area(enterprise.township),
        "grid_cell": {"code": enterprise.grid_cell_code},
        "zones": enterprise.zone_hits,
        "permit": {"number": permit.number, "valid_from": permit.valid_from, "valid_to": permit.valid_to}
        if permit
        else None,
        "exceedance_open": bool(enterprise.exceedance_open),
        "outlets": [outlet_body(o, cutoff=cutoff) for o in selectors.outlets_of(enterprise)],
        "cases": [
            {"id": i.pk, "status": i.status, "category": i.category_id, "reported_at": i.reported_at}
            for i in selectors.enterprise_cases(user=user, enterprise=enterprise)
        ],
    }
    return body


ENTERPRISE = inline_serializer(
    "Enterprise",
    {
        "credit_code": serializers.CharField(),
        "name": serializers.CharField(),
        "management_class": serializers.ChoiceField(choices=ManagementClass.choices),
        "permit_number": serializers.CharField(allow_null=True),
        "lat": serializers.FloatField(),
        "lon": serializers.FloatField(),
        "full": serializers.BooleanField(help_text="the whole file is shown (staff in jurisdiction)"),
        "district": serializers.DictField(required=False),
        "township": serializers.DictField(required=False),
        "grid_cell": serializers.DictField(required=False),
        "zones": serializers.ListField(child=serializers.DictField(), required=False),
        "permit": serializers.DictField(required=False, allow_null=True),
        "outlets": serializers.ListField(child=serializers.DictField(), required=False),
    },
)


# --- Views -------------------------------------------------------------------------------------


def _require_registrar(user) -> None:
    if not selectors.may_register(user):
        raise Forbidden(_("只有区县和市级监管人员可以登记污染源。"), code="not_a_source_manager")


class EnterprisesView(APIView):
    """Enterprises as GeoJSON (public fields for everyone), and registering one."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[ListQuery], responses=EnterpriseFeatureSerializer(many=True))
    def get(self, request):
        q = validated(ListQuery, request.query_params)
        qs = selectors.enterprises_list(user=request.user, **q)
        pager = GeoJsonLimitOffsetPagination()
        page = pager.paginate_queryset(qs, request, view=self)
        return pager.get_paginated_response(EnterpriseFeatureSerializer(page, many=True).data)

    @extend_schema(
        request=EnterpriseInput,
        responses={201: ENTERPRISE, 409: OpenApiResponse(ErrorSerializer)},
    )
    def post(self, request):
        if not request.user.is_authenticated:
            raise Forbidden(_("请先登录。"), code="not_authenticated")
        _require_registrar(request.user)
        data = validated(EnterpriseInput, request.data)
        enterprise = services.enterprise_register(actor=request.user, **data)
        found = selectors.enterprise_get(user=request.user, credit_code=enterprise.credit_code)
        return Response(enterprise_body(found, user=request.user), status=201)


class EnterpriseView(APIView):
    """One enterprise's file: public fields for everyone, everything for staff in jurisdiction."""

    permission_classes = [AllowAny]

    @extend_schema(responses=ENTERPRISE)
    def get(self, request, credit_code: str):
        enterprise = selectors.enterprise_get(user=request.user, credit_code=credit_code)
        return Response(enterprise_body(enterprise, user=request.user))


class OutletsView(APIView):
    """Adding a monitored outlet (its logger's MN and PW, and permitted limits) to an enterprise."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=OutletInput,
        responses={201: inline_serializer("OutletCreated", {"id": serializers.IntegerField()}), 409: ErrorSerializer},
    )
    def post(self, request, credit_code: str):
        _require_registrar(request.user)
        enterprise = selectors.enterprise_get(user=request.user, credit_code=credit_code)
        data = validated(OutletInput, request.data)
        outlet = services.outlet_add(actor=request.user, enterprise=enterprise, **data)
        cutoff = monitoring.online_cutoff(timezone.now())
        return Response(outlet_body(outlet, cutoff=cutoff), status=201)


class CaseSeriesView(APIView):
    """The monitoring data behind a case opened by online monitoring (for its chart)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=inline_serializer("CaseSeries", {"kind": serializers.CharField(allow_null=True)}))
    def get(self, request, issue_id: int):
        issue = issue_get(user=request.user, issue_id=issue_id)
        return Response(selectors.case_series(issue))
