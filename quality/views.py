"""Pages of environmental quality: the overview by district and a station's page (public)."""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from gridgov.dates import parse_month
from gridgov.errors import InvalidInput, NotFound
from monitoring.store import add_months

from . import selectors
from .labels import POLLUTANTS, WATER_CLASSES, WATER_FACTORS
from .models import StationKind
from .water import CLASSES, LEVELS

HOURLY_DAYS = 7
DAILY_DAYS = 90


def _month(value: str | None) -> dt.date:
    """`YYYY-MM` → its first day; by default last month (the month a 通报 covers)."""
    if not value:
        return add_months(timezone.localdate().replace(day=1), -1)
    return parse_month(value, field="month")[0].date()


def overview(request):
    """The districts' air and water quality for a month, ranked, and the stations on a map.
    A wrong month is the 400 page saying what a month looks like."""
    try:
        month = _month(request.GET.get("month"))
    except InvalidInput as exc:
        return render(request, "400.html", {"message": exc.message}, status=400)
    rows = selectors.district_quality(month=month)
    station_list = list(selectors.stations())
    today = selectors.stations_today(station_list)
    return render(
        request,
        "quality/overview.html",
        {
            "month": month,
            "previous_month": add_months(month, -1),
            "next_month": add_months(month, 1) if add_months(month, 1) <= timezone.localdate() else None,
            "district_quality": rows,
            "stations": [{"station": s, "today": today.get(s.pk)} for s in station_list],
            "synthetic": any(s.synthetic for s in station_list),
        },
    )


def station_page(request, code: str):
    """A station: where it is, today's AQI or class, hourly and daily charts."""
    try:
        station = selectors.station_get(code=code)
    except NotFound:
        raise Http404("no such station")
    today = timezone.localdate()
    air = station.kind == StationKind.AIR
    classes = [(c, str(WATER_CLASSES[c]), LEVELS[c][1]) for c in CLASSES]
    config = {
        "seriesUrl": reverse("quality-station-series", args=[station.code]),
        "pollutants": {k: str(POLLUTANTS[k][0]) for k in POLLUTANTS},
        "factors": list(WATER_FACTORS),
        "factorLabels": {code: str(label) for code, (label, _unit) in WATER_FACTORS.items()},
        "classes": classes,
        "target": station.target_class or None,
        "labels": {
            "na": gettext("无法计算（数据不足）"),
            "primary": gettext("首要污染物"),
            "good": gettext("良（100）"),
            "waterClass": gettext("水质类别"),
            "target": gettext("水质目标"),
            "empty": gettext("该时段没有数据。"),
            "error": gettext("数据加载失败。"),
        },
    }
    return render(
        request,
        "quality/station.html",
        {
            "station": station,
            "air": air,
            "today": selectors.stations_today([station]).get(station.pk),
            "hour_since": today - dt.timedelta(days=HOURLY_DAYS - 1),
            "day_since": today - dt.timedelta(days=DAILY_DAYS - 1),
            "until": today,
            "factors": [(code, str(label), unit) for code, (label, unit) in WATER_FACTORS.items()],
            "classes": classes,
            "chart_config": config,
        },
    )
