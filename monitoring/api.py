"""The online-monitoring API: data series and the state of the loggers (thin views)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from gridgov.dates import parse_moment
from gridgov.errors import InvalidInput
from gridgov.pagination import LimitOffsetPagination
from gridgov.validation import PlainTextField, validated

from . import selectors
from .models import Logger, LoggerKind


class MomentField(serializers.CharField):
    """An ISO 8601 date or date-time (a bare date is the start of that day, local time)."""

    default_error_messages = {"invalid": _("应为 ISO 8601 日期或日期时间。")}

    def to_internal_value(self, data):
        try:
            return parse_moment(super().to_internal_value(data), field=self.field_name)[0]
        except InvalidInput:
            self.fail("invalid")


class SeriesQuery(serializers.Serializer):
    mn = PlainTextField(label=_("设备唯一标识 MN"), max_length=64)
    factor = serializers.RegexField(r"^[A-Za-z0-9]{1,20}$", label=_("监测因子"))
    interval = serializers.ChoiceField(
        label=_("数据类型"),
        choices=[("realtime", _("实时")), ("minute", _("分钟")), ("hour", _("小时")), ("day", _("日"))],
    )
    since = MomentField(label=_("起始时间"), required=False)
    until = MomentField(label=_("结束时间"), required=False)


SERIES_ROW = inline_serializer(
    "SeriesRow",
    {
        "time": serializers.DateTimeField(),
        "value": serializers.FloatField(allow_null=True),
        "min": serializers.FloatField(allow_null=True),
        "max": serializers.FloatField(allow_null=True),
        "flag": serializers.CharField(),
        "valid_minutes": serializers.IntegerField(allow_null=True, help_text="hour rows: minutes flagged N"),
        "exceeded": serializers.BooleanField(allow_null=True, help_text="hour rows: judged against the limit"),
        "limit_low": serializers.FloatField(allow_null=True),
        "limit_high": serializers.FloatField(allow_null=True),
    },
)


class SeriesView(APIView):
    """One factor of one logger over time: minute, hour or day values with their flags."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[SeriesQuery], responses={200: SERIES_ROW})
    def get(self, request):
        q = validated(SeriesQuery, request.query_params)
        logger = selectors.logger_get(user=request.user, mn=q["mn"])
        rows = selectors.series(
            logger=logger, factor=q["factor"], interval=q["interval"], since=q.get("since"), until=q.get("until")
        )
        return Response(rows)


class LoggersQuery(serializers.Serializer):
    district = serializers.RegexField(r"^[0-9]{6}$", label=_("区县代码"), required=False)
    online = serializers.BooleanField(label=_("是否在线"), required=False, allow_null=True, default=None)
    kind = serializers.ChoiceField(label=_("点位类型"), choices=LoggerKind.choices, required=False)


class LoggerSerializer(serializers.ModelSerializer):
    online = serializers.SerializerMethodField()
    district = serializers.CharField(source="district.code", default=None, allow_null=True)

    class Meta:
        model = Logger
        fields = [
            "mn",
            "name",
            "kind",
            "district",
            "online",
            "last_seen",
            "last_data_time",
            "accepted",
            "duplicates",
            "rejected",
            "offline_since",
        ]

    def get_online(self, logger) -> bool:
        return selectors.is_online(logger, self.context["cutoff"])


class LoggersView(APIView):
    """The loggers in the user's jurisdiction: online or not, last heard, packets counted."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[LoggersQuery], responses=LoggerSerializer(many=True))
    def get(self, request):
        q = validated(LoggersQuery, request.query_params)
        qs = selectors.loggers_list(user=request.user, **q)
        pager = LimitOffsetPagination()
        page = pager.paginate_queryset(qs, request, view=self)
        context = {"cutoff": selectors.online_cutoff(timezone.now())}
        return pager.get_paginated_response(LoggerSerializer(page, many=True, context=context).data)
