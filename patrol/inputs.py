"""Input and filter serializers of the patrol API, Open311 and pages: what the edge accepts.

Views validate with `gridgov.validation.validated(Serializer, data)` and hand the clean values
to the services and selectors; the same classes document the requests in the OpenAPI schema.
Labels are what the user reads in a message ("纬度：应为有限的数字。").
"""

from __future__ import annotations

import datetime as dt
import threading

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from gridgov.dates import parse_moment
from gridgov.errors import InvalidInput, invalid_from_errors
from gridgov.geo import point_from
from gridgov.validation import BBoxField, CRSField, FiniteFloatField, PlainTextField, lat_field, lon_field

from .conf import DEFAULTS
from .models import Category, Status
from .transitions import TRANSITIONS, USER_ACTIONS

SHA256 = r"^[0-9a-fA-F]{64}$"


class MomentField(serializers.CharField):
    """An ISO 8601 date or date-time (gridgov.dates.parse_moment and its bounds) → an aware
    datetime; a bare date is the start of that day, or with `end=True` the start of the next."""

    default_error_messages = {
        "moment": _("应为 ISO 8601 日期或日期时间（年份 1900–9998，时区偏移不超过 ±14:00）。"),
    }

    def __init__(self, *, end: bool = False, **kwargs):
        self.end = end
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> dt.datetime:
        text = super().to_internal_value(data)
        try:
            when, bare_date = parse_moment(text, field=self.field_name)
        except InvalidInput:
            self.fail("moment")
        return when + dt.timedelta(days=1) if bare_date and self.end else when


class HashListField(serializers.ListField):
    """Photo hashes (SHA-256, hex), at most PATROL_MAX_PHOTOS of them."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("照片"))
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", DEFAULTS["PATROL_MAX_PHOTOS"])
        super().__init__(child=serializers.RegexField(SHA256, max_length=64), **kwargs)


class CategoryCodeField(serializers.CharField):
    """An active category code → its Category."""

    default_error_messages = {"unknown": _("问题类别不存在。")}

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("问题类别"))
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> Category:
        code = super().to_internal_value(data)
        found = Category.objects.filter(code=code, active=True).first() if len(code) <= 64 else None
        if found is None:
            self.fail("unknown")
        return found

    def to_representation(self, value):
        return value.code if isinstance(value, Category) else value


class ReportRequest(serializers.Serializer):
    """POST /api/patrol/issues/: a report from the web or mobile app."""

    client_uuid = serializers.UUIDField(label=_("客户端编号"))
    lat = lat_field()
    lon = lon_field()
    crs = CRSField()
    accuracy_m = FiniteFloatField(
        label=_("定位精度（米）"), required=False, allow_null=True, min_value=0, max_value=100_000
    )
    category = PlainTextField(label=_("问题类别"), max_length=64)
    description = PlainTextField(
        label=_("问题描述"),
        multiline=True,
        required=False,
        allow_blank=True,
        max_length=DEFAULTS["PATROL_DESCRIPTION_MAX_CHARS"],
        default="",
    )
    photo_hashes = HashListField(default=list)


_per_thread = threading.local()


def validated_report(data) -> dict:
    """`gridgov.validation.validated(ReportRequest, data)` for the busiest write, the same
    answers and errors. DRF deep-copies every declared field into each new serializer, which is
    most of the time a validation takes (bench/patrol_submit.py); here the serializer is built
    once per thread and reused: a thread validates one request at a time, and `run_validation`
    keeps nothing between calls."""
    serializer = getattr(_per_thread, "report", None)
    if serializer is None:
        serializer = _per_thread.report = ReportRequest()
    try:
        return dict(serializer.run_validation(data))
    except serializers.ValidationError as exc:
        raise invalid_from_errors(serializer, exc.detail)


class TransitionRequest(serializers.Serializer):
    """POST /api/patrol/issues/<id>/transition/ (and the case page's forms): one action."""

    action = serializers.ChoiceField(label=_("操作"), choices=[(a, TRANSITIONS[a].label) for a in USER_ACTIONS])
    note = PlainTextField(
        label=_("说明"), multiline=True, required=False, allow_blank=True, max_length=DEFAULTS["PATROL_NOTE_MAX_CHARS"]
    )
    photo_hashes = HashListField()
    unit = serializers.IntegerField(label=_("责任单位"), required=False, allow_null=True, min_value=1)
    deadline = PlainTextField(
        label=_("期限"), required=False, allow_blank=True, max_length=40, help_text="dispatch / set_deadline: ISO 8601"
    )
    duplicate_of = serializers.IntegerField(label=_("原案件编号"), required=False, allow_null=True, min_value=1)
    public_text = PlainTextField(label=_("曝光文字"), multiline=True, required=False, allow_blank=True, max_length=4000)
    lat = lat_field(required=False, allow_null=True)
    lon = lon_field(required=False, allow_null=True)
    crs = CRSField()

    default_error_messages = {"half_point": _("位置须同时提供纬度和经度。")}

    def validate(self, data):
        lat, lon = data.get("lat"), data.get("lon")
        if (lat is None) != (lon is None):
            raise serializers.ValidationError({"lon" if lon is None else "lat": self.error_messages["half_point"]})
        return data

    @staticmethod
    def service_params(data: dict) -> dict:
        """The validated request as the keyword arguments of `issue_transition`."""
        point = point_from(data["lat"], data["lon"], data["crs"]) if data.get("lat") is not None else None
        return {
            "note": data.get("note") or "",
            "point": point,
            "photo_hashes": data.get("photo_hashes") or [],
            "unit_id": data.get("unit"),
            "deadline": data.get("deadline") or None,
            "duplicate_of_id": data.get("duplicate_of"),
            "public_text": data.get("public_text") or "",
        }


class StatusListField(serializers.CharField):
    """A comma list of case statuses → a list of values of `Status`."""

    default_error_messages = {"status": _("应为以逗号分隔的案件状态。")}

    def __init__(self, *, extra: tuple[str, ...] = (), **kwargs):
        self.allowed = (*Status.values, *extra)
        kwargs.setdefault("label", _("状态"))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> list[str]:
        values = [s for s in str(super().to_internal_value(data)).split(",") if s]
        if any(s not in self.allowed for s in values):
            self.fail("status")
        return values


class IssueFilter(serializers.Serializer):
    """GET /api/patrol/issues/ (and the case list page): the filters of the case list."""

    status = StatusListField(help_text="comma-separated statuses")
    category = CategoryCodeField(required=False, help_text="a top-level code includes its sub-codes")
    district = serializers.RegexField(
        r"^[0-9]{6}$",
        label=_("区县"),
        required=False,
        help_text="6-digit code",
        error_messages={"invalid": _("应为 6 位区县代码。")},
    )
    since = MomentField(label=_("上报时间起"), help_text="reported at or after (ISO 8601)")
    until = MomentField(label=_("上报时间止"), end=True, help_text="reported before; a bare date includes that day")
    q = PlainTextField(label=_("关键词"), required=False, max_length=100, help_text="keyword")
    id = serializers.IntegerField(label=_("案件编号"), required=False, min_value=1, max_value=2**62)
    bbox = BBoxField(help_text="minlon,minlat,maxlon,maxlat (WGS84)")

    default_error_messages = {"order": _("上报时间止应晚于上报时间起。")}

    def validate(self, data):
        if data.get("since") and data.get("until") and data["until"] <= data["since"]:
            raise serializers.ValidationError({"until": self.error_messages["order"]})
        return data

    @staticmethod
    def selector_args(data: dict) -> dict:
        return {
            "statuses": data.get("status") or None,
            "category": data.get("category"),
            "district": data.get("district", ""),
            "since": data.get("since"),
            "until": data.get("until"),
            "text": (data.get("q") or "").strip(),
            "issue_id": data.get("id"),
            "bbox": data.get("bbox"),
        }


class CitizenReportRequest(serializers.Serializer):
    """The public report form (/public/report/): what a citizen tells, checked before anything
    is stored. Photos arrive as files and are checked by `patrol.actions.photos`."""

    category = CategoryCodeField()
    lat = lat_field(required=False, allow_null=True)
    lon = lon_field(required=False, allow_null=True)
    address = PlainTextField(label=_("地点"), required=False, allow_blank=True, max_length=200, default="")
    description = PlainTextField(
        label=_("问题描述"),
        multiline=True,
        min_length=5,
        max_length=DEFAULTS["PATROL_DESCRIPTION_MAX_CHARS"],
        error_messages={"blank": _("请描述您看到的问题。"), "required": _("请描述您看到的问题。")},
    )
    contact_name = PlainTextField(label=_("联系人"), required=False, allow_blank=True, max_length=32, default="")
    contact_phone = serializers.RegexField(
        r"^\+?[0-9][0-9 \-]{4,19}$",
        label=_("联系电话"),
        required=False,
        allow_blank=True,
        default="",
        error_messages={"invalid": _("应为电话号码（数字，可含空格或连字符）。")},
    )

    default_error_messages = {
        "place": _("请在地图上点选位置，或填写区县、街道或网格的名称。"),
        "half_point": _("位置须同时提供纬度和经度。"),
    }

    def validate(self, data):
        lat, lon = data.get("lat"), data.get("lon")
        if (lat is None) != (lon is None):
            raise serializers.ValidationError({"lat": self.error_messages["half_point"]})
        if lat is None and not data.get("address", "").strip():
            raise serializers.ValidationError({"address": self.error_messages["place"]})
        return data


class PlaceQuery(serializers.Serializer):
    """GET /public/places/?q=: known place names (not a geocoder: patrol.gazetteer)."""

    q = PlainTextField(label=_("地点"), min_length=2, max_length=60)


class TrackQuery(serializers.Serializer):
    """GET /public/track/?code=: the tracking code a citizen was given (the Open311 token)."""

    code = serializers.UUIDField(
        label=_("查询码"), error_messages={"invalid": _("查询码应为 32 位十六进制字符（可含连字符）。")}
    )


class PublicCaseFilter(serializers.Serializer):
    """GET /public/cases/: the filters of the 曝光台."""

    category = CategoryCodeField(required=False)
    district = serializers.RegexField(
        r"^[0-9]{6}$", label=_("区县"), required=False, error_messages={"invalid": _("应为 6 位区县代码。")}
    )
    q = PlainTextField(label=_("关键词"), required=False, max_length=100)

    @staticmethod
    def selector_args(data: dict) -> dict:
        return {"category": data.get("category"), "district": data.get("district", ""), "text": data.get("q", "")}
