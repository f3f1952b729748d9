"""The environmental quality API: thin views over `quality.services` and `.selectors`.

Contracts of issue 17: `POST /api/quality/stations/`, `GET /api/quality/aqi/`,
`GET /api/quality/aqi/calc/`, `GET /api/quality/water-class/`. Beside them the stations as
GeoJSON for the maps (`GET /api/quality/stations/`) and a station's series for its charts.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from gridgov.errors import ErrorSerializer, Forbidden, InvalidInput
from gridgov.pagination import GeoJsonLimitOffsetPagination
from gridgov.validation import CRSField, FiniteFloatField, PlainTextField, lat_field, lon_field, validated

from . import aqi, selectors, services
from .models import CODE_PATTERN, StationKind, TargetClass, WaterBody

# --- Input -------------------------------------------------------------------------------------

LOGGER_TEXT = r"^[!-%'-+\--:<>-~]{1,64}$"  # visible ASCII without ; , = & (HJ 212's separators)
CODE_FIELD = {"error_messages": {"invalid": _("应为 1–32 位字母、数字、下划线或连字符。")}}


class StationInput(serializers.Serializer):
    code = serializers.RegexField(CODE_PATTERN, label=_("站点编码"), **CODE_FIELD)
    name = PlainTextField(label=_("站点名称"), max_length=128)
    kind = serializers.ChoiceField(label=_("站点类型"), choices=StationKind.choices)
    lat = lat_field()
    lon = lon_field()
    crs = CRSField()
    mn = serializers.RegexField(
        LOGGER_TEXT, label=_("设备唯一标识 MN"), error_messages={"invalid": _("应为 1–64 个可见字符，不含 ; , = &。")}
    )
    password = serializers.RegexField(
        LOGGER_TEXT,
        label=_("访问密码 PW"),
        write_only=True,
        error_messages={"invalid": _("应为 1–64 个可见字符，不含 ; , = &。")},
    )
    target_class = serializers.ChoiceField(label=_("水质目标"), choices=TargetClass.choices, required=False)
    water_body = serializers.ChoiceField(label=_("水体类型"), choices=WaterBody.choices, required=False)


class StationListQuery(serializers.Serializer):
    kind = serializers.ChoiceField(label=_("站点类型"), choices=StationKind.choices, required=False)
    district = serializers.RegexField(r"^[0-9]{6}$", label=_("区县代码"), required=False)


class StationQuery(serializers.Serializer):
    station = serializers.RegexField(CODE_PATTERN, label=_("站点编码"), **CODE_FIELD)
    date = serializers.DateField(label=_("日期"))


class AqiQuery(StationQuery):
    hour = serializers.IntegerField(label=_("小时"), min_value=0, max_value=23, required=False)


def _concentration(label):
    return FiniteFloatField(label=label, min_value=0, required=False)


class AqiCalcQuery(serializers.Serializer):
    """24 h concentrations (µg/m³; CO mg/m³); `o3_8h` the daily maximum 8 h average."""

    pm25 = _concentration("PM2.5")
    pm10 = _concentration("PM10")
    so2 = _concentration(_("二氧化硫"))
    no2 = _concentration(_("二氧化氮"))
    co = _concentration(_("一氧化碳"))
    o3_8h = _concentration(_("臭氧8小时"))
    o3_1h = _concentration(_("臭氧1小时"))
    date = serializers.DateField(label=_("日期"), required=False)


class SeriesQuery(serializers.Serializer):
    interval = serializers.ChoiceField(label=_("时间粒度"), choices=[("hour", "hour"), ("day", "day")])
    since = serializers.DateField(label=_("开始日期"))
    until = serializers.DateField(label=_("结束日期"))


# --- Output ------------------------------------------------------------------------------------

AQI = inline_serializer(
    "QualityAqi",
    {
        "aqi": serializers.JSONField(help_text='an integer, or "NA"'),
        "level": serializers.CharField(allow_null=True),
        "primary": serializers.ListField(child=serializers.CharField()),
        "iaqi": serializers.DictField(child=serializers.IntegerField(allow_null=True)),
        "standard": serializers.ChoiceField(choices=[aqi.HJ633_2026, aqi.HJ633_2012]),
    },
)
WATER_CLASS = inline_serializer(
    "QualityWaterClass",
    {
        "class": serializers.CharField(),
        "worst": serializers.ListField(child=serializers.CharField()),
        "target": serializers.CharField(allow_null=True),
        "meets_target": serializers.BooleanField(allow_null=True),
    },
)


def _area(area) -> dict | None:
    return {"code": area.code, "name": area.name} if area else None


def station_body(station) -> dict:
    """A station's public fields."""
    logger = station.logger
    return {
        "code": station.code,
        "name": station.name,
        "kind": station.kind,
        "kind_label": station.get_kind_display(),
        "lat": round(logger.point.y, 7),
        "lon": round(logger.point.x, 7),
        "district": _area(logger.district),
        "township": _area(logger.township),
        "target_class": station.target_class or None,
        "water_body": station.water_body or None,
        "synthetic": station.synthetic,
    }


def station_feature(station, today: dict | None) -> dict:
    props = station_body(station)
    lon, lat = props.pop("lon"), props.pop("lat")
    props["district"] = props["district"]["code"] if props["district"] else None
    props["township"] = props["township"]["code"] if props["township"] else None
    props["today"] = today
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props}


# --- Views -------------------------------------------------------------------------------------


class StationsView(APIView):
    """The stations as GeoJSON, each with today's AQI or water class (public), and registering one."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[StationListQuery])
    def get(self, request):
        q = validated(StationListQuery, request.query_params)
        pager = GeoJsonLimitOffsetPagination()
        page = pager.paginate_queryset(selectors.stations(**q), request, view=self)
        today = selectors.stations_today(page)
        return pager.get_paginated_response([station_feature(s, today.get(s.pk)) for s in page])

    @extend_schema(request=StationInput, responses={201: OpenApiResponse(), 409: OpenApiResponse(ErrorSerializer)})
    def post(self, request):
        if not request.user.is_authenticated:
            raise Forbidden(_("请先登录。"), code="not_authenticated")
        if not selectors.may_register(request.user):
            raise Forbidden(_("只有区县和市级监管人员可以登记监测站点。"), code="not_a_station_manager")
        data = validated(StationInput, request.data)
        station = services.station_register(actor=request.user, **data)
        return Response({**station_body(selectors.station_get(code=station.code)), "mn": data["mn"]}, status=201)


class AqiView(APIView):
    """A station's daily AQI for a date, or its hourly AQI with `hour`."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[AqiQuery], responses={200: AQI, 404: ErrorSerializer})
    def get(self, request):
        q = validated(AqiQuery, request.query_params)
        station = selectors.station_get(code=q["station"])
        body = selectors.station_aqi(station=station, day=q["date"], hour=q.get("hour"))
        return Response({"station": station.code, "date": q["date"], "hour": q.get("hour"), **body})


class AqiCalcView(APIView):
    """The daily AQI of given 24 h concentrations, by the standard in force on `date` (default today)."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[AqiCalcQuery], responses={200: AQI})
    def get(self, request):
        q = validated(AqiCalcQuery, request.query_params)
        day = q.pop("date", None) or timezone.localdate()
        o3_1h = q.pop("o3_1h", None)
        if not q:
            raise InvalidInput(_("请至少填写一项污染物浓度。"), code="required")
        result = aqi.daily_aqi(day, q, o3_1h=o3_1h)
        return Response({"date": day, **selectors.aqi_answer(result, {**q, "o3_1h": o3_1h})})


class WaterClassView(APIView):
    """A section's water class for a date (GB 3838-2002, single factor), against its target."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[StationQuery], responses={200: WATER_CLASS, 404: ErrorSerializer})
    def get(self, request):
        q = validated(StationQuery, request.query_params)
        station = selectors.station_get(code=q["station"])
        body = selectors.station_water_class(station=station, day=q["date"])
        return Response({"station": station.code, "date": q["date"], **body})


class StationSeriesView(APIView):
    """A station's hours (at most 31 days) or days (at most 400) with data, for its charts."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[SeriesQuery])
    def get(self, request, code: str):
        station = selectors.station_get(code=code, field="code")
        q = validated(SeriesQuery, request.query_params)
        rows = selectors.station_series(station=station, **q)
        return Response({"station": station_body(station), "interval": q["interval"], "rows": rows})
