"""The dashboard's query parameters as filter serializers, and the case filter they produce.

Every dashboard endpoint validates its query string with one of these (the same classes its
OpenAPI parameters show) and hands clean values to `dashboard.selectors`. Empty parameters
count as absent, as the dashboard page sends every filter field.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from gridgov.dates import parse_month  # noqa: F401 (the cockpit's filters and the 通报 read it here)
from gridgov.errors import InvalidInput
from gridgov.models import AdminArea, GridCell
from gridgov.validation import BBoxField
from patrol.inputs import CategoryCodeField, MomentField, StatusListField
from patrol.models import OPEN_STATUSES, Category, Issue, Source, Status, overdue_q

LEVELS = ("district", "township", "grid")
METRICS = ("count", "overdue", "closure_rate", "mean_days")
RANKING_LEVELS = ("district", "township", "grid")
RANKING_METRICS = ("closure_rate", "on_time_rate", "overdue", "per_cell")
MIN_ZOOM, MAX_ZOOM = 3, 18
AREA_CODE = r"^([0-9]{6}|[0-9]{9}|[0-9]{14})$"  # district 6, township 9, grid cell 14 digits
TODO_KINDS = ("verify", "dispatch", "accept", "supervise")  # dashboard.todo.KIND_LABELS
MAX_MERCATOR_LAT = 85


def query(request) -> dict:
    """The query string as a dict, empty parameters left out."""
    return {k: v for k, v in request.query_params.items() if v != ""}


def previous_month(start: dt.datetime) -> str:
    prev = (start - dt.timedelta(days=1)).date()
    return f"{prev.year:04d}-{prev.month:02d}"


def area_q(code: str) -> Q:
    """Cases inside an area (district 6, township 9 or grid cell 14 digits; the city: all)."""
    if len(code) == 14:
        return Q(grid_cell_id__in=GridCell.objects.filter(code=code).values("pk"))
    if code == settings.GRIDGOV_CITY_CODE:
        return Q()
    fk = "district_id" if len(code) == 6 else "township_id"
    return Q(**{f"{fk}__in": AdminArea.objects.filter(code=code).values("pk")})


@dataclass(frozen=True)
class CaseFilter:
    """The dashboard's filters: period (reported between since and until), category, source,
    status (comma list), district code, and an area code to drill into."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    category: str | None = None
    source: str | None = None
    statuses: tuple[str, ...] = field(default_factory=tuple)
    district: str | None = None
    area: str | None = None

    def apply(self, qs: QuerySet[Issue]) -> QuerySet[Issue]:
        if self.since:
            qs = qs.filter(reported_at__gte=self.since)
        if self.until:
            qs = qs.filter(reported_at__lt=self.until)
        if self.category:
            if "." in self.category:
                qs = qs.filter(category_id=self.category)
            else:
                children = Category.objects.filter(parent_id=self.category).values("code")
                qs = qs.filter(Q(category_id=self.category) | Q(category_id__in=children))
        if self.source:
            qs = qs.filter(source=self.source)
        if self.statuses:
            q = Q(status__in=[s for s in self.statuses if s in Status.values])
            if "open" in self.statuses:
                q |= Q(status__in=OPEN_STATUSES)
            if "overdue" in self.statuses:
                q |= overdue_q()
            qs = qs.filter(q)
        if self.district:
            qs = qs.filter(district_id__in=AdminArea.objects.filter(code=self.district).values("pk"))
        if self.area:
            qs = qs.filter(area_q(self.area))
        return qs


class CaseFilterParams(serializers.Serializer):
    """The case filters every dashboard view shares."""

    since = MomentField(label=gettext_lazy("上报时间起"), help_text="ISO 8601 日期或时间（含）")
    until = MomentField(label=gettext_lazy("上报时间止"), end=True, help_text="ISO 8601；日期表示当天结束")
    category = CategoryCodeField(required=False, help_text="类别编码；大类包含其子类")
    source = serializers.ChoiceField(label=gettext_lazy("来源"), choices=Source.choices, required=False)
    status = StatusListField(extra=("open", "overdue"), help_text="逗号分隔；另有 open、overdue")
    district = serializers.RegexField(r"^[0-9]{6}$", label=gettext_lazy("区县代码"), required=False)
    area = serializers.RegexField(AREA_CODE, label=gettext_lazy("区域编码"), required=False, help_text="6/9/14 位")

    default_error_messages = {"until_before_since": gettext_lazy("不能早于上报时间起。")}

    def validate(self, data):
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            raise serializers.ValidationError({"until": self.error_messages["until_before_since"]})
        return data

    @staticmethod
    def case_filter(data: dict) -> CaseFilter:
        category = data.get("category")
        return CaseFilter(
            since=data.get("since"),
            until=data.get("until"),
            category=category.code if category else None,
            source=data.get("source"),
            statuses=tuple(data.get("status") or ()),
            district=data.get("district"),
            area=data.get("area"),
        )


class AggregateParams(CaseFilterParams):
    level = serializers.ChoiceField(label=gettext_lazy("汇总级别"), choices=LEVELS)
    metric = serializers.ChoiceField(label=gettext_lazy("指标"), choices=METRICS, default="count")
    parent = serializers.RegexField(
        r"^([0-9]{6}|[0-9]{9}|[0-9]{14})$", label=gettext_lazy("上级区域"), required=False, help_text="下钻"
    )
    format = serializers.ChoiceField(label=gettext_lazy("格式"), choices=["json", "geojson"], default="json")


class HeatParams(CaseFilterParams):
    bbox = BBoxField(required=True, help_text="minlon,minlat,maxlon,maxlat")
    zoom = serializers.IntegerField(label=gettext_lazy("缩放级别"), min_value=MIN_ZOOM, max_value=MAX_ZOOM)

    default_error_messages = {"mercator": gettext_lazy("纬度应在 ±85° 之内（Web 墨卡托）。")}

    def validate_bbox(self, value):
        if value[1] < -MAX_MERCATOR_LAT or value[3] > MAX_MERCATOR_LAT:
            raise serializers.ValidationError(self.error_messages["mercator"], code="out_of_range")
        return value


class PeriodField(serializers.CharField):
    """A month, 'YYYY-MM' (checked; the views turn it into its first and last instant)."""

    default_error_messages = {"period": gettext_lazy("应为 YYYY-MM（2000–2100 年）。")}

    def to_internal_value(self, data) -> str:
        text = super().to_internal_value(data)
        try:
            parse_month(text)
        except InvalidInput:
            self.fail("period")
        return text


def last_month() -> str:
    first = timezone.localdate().replace(day=1)
    return previous_month(timezone.make_aware(dt.datetime(first.year, first.month, 1)))


class RankingParams(serializers.Serializer):
    """The ranking follows the drill-down: `parent` is the area drilled into (a district for
    its townships, a township for its grid cells)."""

    level = serializers.ChoiceField(label=gettext_lazy("排名级别"), choices=RANKING_LEVELS)
    period = PeriodField(label=gettext_lazy("统计月份"), help_text="YYYY-MM")
    order = serializers.ChoiceField(label=gettext_lazy("排序指标"), choices=RANKING_METRICS, default="closure_rate")
    parent = serializers.RegexField(
        r"^([0-9]{6}|[0-9]{9})$",
        label=gettext_lazy("上级区域"),
        required=False,
        help_text="区县代码（排其乡镇街道）或乡镇街道代码（排其网格）",
    )

    default_error_messages = {
        "parent_level": gettext_lazy("上级区域应为区县（乡镇街道排名）或乡镇街道（网格排名）。"),
        "parent_required": gettext_lazy("网格排名须指定所在乡镇街道。"),
    }

    def validate(self, data):
        level, parent = data["level"], data.get("parent")
        if parent == settings.GRIDGOV_CITY_CODE:
            data.pop("parent")
            parent = None
        if level == "grid" and not parent:
            raise serializers.ValidationError({"parent": self.error_messages["parent_required"]})
        expected = {"district": None, "township": 6, "grid": 9}[level]
        if parent and len(parent) != expected:
            raise serializers.ValidationError({"parent": self.error_messages["parent_level"]})
        return data


class OverviewParams(serializers.Serializer):
    """The cockpit: a month (default: last month), the area drilled into, category and source."""

    period = PeriodField(label=gettext_lazy("统计月份"), required=False, help_text="YYYY-MM；默认上月")
    area = serializers.RegexField(AREA_CODE, label=gettext_lazy("区域编码"), required=False, help_text="6/9/14 位")
    category = CategoryCodeField(required=False, help_text="类别编码；大类包含其子类")
    source = serializers.ChoiceField(label=gettext_lazy("来源"), choices=Source.choices, required=False)

    @staticmethod
    def case_filter(data: dict) -> CaseFilter:
        category = data.get("category")
        return CaseFilter(category=category.code if category else None, source=data.get("source"))


class TodoParams(serializers.Serializer):
    kind = serializers.ChoiceField(label=gettext_lazy("待办类型"), choices=TODO_KINDS, required=False)
    area = serializers.RegexField(AREA_CODE, label=gettext_lazy("区域编码"), required=False, help_text="6/9/14 位")


class CasesParams(CaseFilterParams):
    page = serializers.IntegerField(label=gettext_lazy("页码"), min_value=1, default=1)


class ExportParams(CaseFilterParams):
    format = serializers.ChoiceField(label=gettext_lazy("格式"), choices=["csv", "xlsx"])
