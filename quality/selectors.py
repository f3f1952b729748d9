"""Reads of environmental quality: stations, their AQI and water class, series, districts.

Environmental quality is public information (环境质量信息公开): where the stations are, their
readings, AQI and classes and the districts' figures are for everyone, so these reads need no
acting user. What is not public is a station's data logger (MN, password): no read here
returns it. Registering stations is for district and city supervisors (`can_manage`).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.errors import InvalidInput, NotFound
from gridgov.jurisdiction import user_scope
from gridgov.models import AdminArea, AreaLevel, Role
from gridgov.ranking import rank, rank_change
from monitoring.store import add_months

from . import aqi, series, water
from .labels import AQI_LEVELS, WATER_CLASSES, WATER_LEVELS
from .models import Station, StationKind

MANAGER_ROLES = (Role.CITY_SUPERVISOR, Role.DISTRICT_SUPERVISOR)
MAX_HOURLY_DAYS = 31
MAX_DAILY_DAYS = 400


def can_manage(user, *, district_id: int) -> bool:
    """Whether `user` may register the stations of a district."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    scope = user_scope(user)
    return user.role in MANAGER_ROLES and (scope.everything or district_id in scope.district_ids)


def may_register(user) -> bool:
    """Whether `user` may register stations anywhere at all (the API's role check)."""
    return bool(user and user.is_authenticated and (user.is_superuser or user.role in MANAGER_ROLES))


def stations(*, kind: str | None = None, district: str | None = None) -> QuerySet[Station]:
    qs = Station.objects.select_related("logger", "logger__district", "logger__township").order_by("code")
    if kind:
        qs = qs.filter(kind=kind)
    if district:
        qs = qs.filter(logger__district__code=district)
    return qs


def station_get(*, code: str, field: str = "station") -> Station:
    station = stations().filter(code=code).first()
    if station is None:
        raise NotFound(_("没有这个监测站点。"), code="station_not_found", field=field)
    return station


def _require_kind(station: Station, kind: str) -> None:
    if station.kind != kind:
        message = _("该站点不是空气质量监测站。") if kind == StationKind.AIR else _("该站点不是地表水水质监测断面。")
        raise InvalidInput(message, code="wrong_station_kind", field="station")


# --- Answers ------------------------------------------------------------------------------------


def aqi_answer(result: aqi.AqiResult, concentrations: dict) -> dict:
    """An AQI result as the API answers it (the contract of issue 17, plus labels and colour)."""
    level = result.level
    return {
        "aqi": result.aqi if result.aqi is not None else "NA",
        "level": level.name if level else None,
        "level_label": str(AQI_LEVELS[level.name]) if level else None,
        "color": level.colour if level else None,
        "primary": list(result.primary),
        "iaqi": dict(result.iaqi),
        "concentrations": {k: concentrations.get(k) for k in result.iaqi},
        "standard": result.standard,
    }


def water_answer(result: water.WaterResult, station: Station, values: dict) -> dict:
    name = result.water_class
    level, colour = water.LEVELS[name]
    return {
        "class": name,
        "class_label": str(WATER_CLASSES[name]),
        "level_label": str(WATER_LEVELS[level]),
        "color": colour,
        "worst": list(result.worst),
        "target": station.target_class or None,
        "meets_target": water.meets_target(name, station.target_class),
        "factors": {
            code: {"value": values[code], "class": result.factor_classes[code]} for code in result.factor_classes
        },
        "water_body": station.water_body,
        "standard": water.STANDARD,
    }


def station_aqi(*, station: Station, day: dt.date, hour: int | None = None) -> dict:
    """The station's daily AQI for `day`, or its hourly AQI for `hour` of that day."""
    _require_kind(station, StationKind.AIR)
    if hour is None:
        found = series.air_days([station.logger_id], day, day).get((station.logger_id, day))
        if found is None:
            raise NotFound(_("该站点在这一天没有监测数据。"), code="no_data", field="date")
        return aqi_answer(found.result, {**found.concentrations, "o3_1h": found.o3_1h})
    start = series.day_start(day) + dt.timedelta(hours=hour)
    hours = series.air_hours([station.logger_id], start, start + dt.timedelta(hours=1)).get(station.logger_id)
    if not hours:
        raise NotFound(_("该站点在这一小时没有监测数据。"), code="no_data", field="hour")
    return aqi_answer(hours[0].result, {**hours[0].concentrations, "so2_24h": hours[0].so2_24h})


def station_water_class(*, station: Station, day: dt.date) -> dict:
    """The section's class for `day` from its factors' daily means."""
    _require_kind(station, StationKind.WATER)
    found = series.water_days([station.logger_id], day, day).get((station.logger_id, day))
    result = water.water_class(found.values, station.water_body) if found else None
    if result is None:
        raise NotFound(_("该断面在这一天没有有效的水质数据。"), code="no_data", field="date")
    return water_answer(result, station, found.values)


# --- Series (the station page's charts) -----------------------------------------------------------


def _check_range(since: dt.date, until: dt.date, limit: int) -> None:
    if until < since:
        raise InvalidInput(_("结束日期应不早于开始日期。"), code="invalid_range", field="until")
    if (until - since).days + 1 > limit:
        raise InvalidInput(_("查询范围不能超过 %(n)s 天。") % {"n": limit}, code="range_too_long", field="since")


def station_series(*, station: Station, interval: str, since: dt.date, until: dt.date) -> list[dict]:
    """The station's hours or days in [since, until] (local dates) that have data."""
    if interval == "hour":
        _check_range(since, until, MAX_HOURLY_DAYS)
        start, end = series.day_start(since), series.day_start(until + dt.timedelta(days=1))
        if station.kind == StationKind.AIR:
            return [
                {"time": h.time, **aqi_answer(h.result, h.concentrations), "flags": h.flags}
                for h in series.air_hours([station.logger_id], start, end).get(station.logger_id, [])
            ]
        by_time: dict[dt.datetime, dict] = {}
        for t, factor, value, flag in series.water_hours(station.logger_id, start, end):
            row = by_time.setdefault(t, {"time": t, "values": {}, "flags": {}})
            if flag == "N":
                row["values"][factor] = value
            else:
                row["flags"][factor] = flag
        return [by_time[t] for t in sorted(by_time)]
    _check_range(since, until, MAX_DAILY_DAYS)
    if station.kind == StationKind.AIR:
        days = series.air_days([station.logger_id], since, until)
        return [
            {"date": d.day, **aqi_answer(d.result, {**d.concentrations, "o3_1h": d.o3_1h})}
            for _key, d in sorted(days.items())
        ]
    out = []
    for _key, d in sorted(series.water_days([station.logger_id], since, until).items()):
        result = water.water_class(d.values, station.water_body)
        out.append({"date": d.day, **(water_answer(result, station, d.values) if result else {"class": None})})
    return out


# --- Today, for the maps ------------------------------------------------------------------------


def stations_today(station_list: list[Station], *, now: dt.datetime | None = None) -> dict[int, dict]:
    """What the maps colour each station by: an air station's latest hourly AQI of today, a
    section's latest daily class (today's once it has enough values, else yesterday's)."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    out: dict[int, dict] = {}
    air = {s.logger_id: s for s in station_list if s.kind == StationKind.AIR}
    if air:
        hours = series.air_hours(air, series.day_start(today), now)
        for logger_id, rows in hours.items():
            latest = next((h for h in reversed(rows) if h.result.aqi is not None), None)
            if latest is not None:
                out[air[logger_id].pk] = {"as_of": latest.time, **aqi_answer(latest.result, latest.concentrations)}
    sections = {s.logger_id: s for s in station_list if s.kind == StationKind.WATER}
    if sections:
        days = series.water_days(sections, today - dt.timedelta(days=1), today)
        for (logger_id, day), found in sorted(days.items()):  # the later day last, so it wins
            station = sections[logger_id]
            result = water.water_class(found.values, station.water_body)
            if result is not None:
                out[station.pk] = {"as_of": day, **water_answer(result, station, found.values)}
    return out


# --- Districts by month (the dashboard and the monthly 通报) ----------------------------------------

# The figures districts are ranked on, and whether more is better.
RANKED = {"mean_aqi": False, "good_day_ratio": True, "pm25": False, "sections_ratio": True}


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _air_figures(month: dt.date, last: dt.date, loggers: dict[int, int]) -> dict[int, dict]:
    """Per district: its daily concentrations are the means over its stations (HJ 663 城市点位
    平均), each day's AQI is computed from them, and the month's figures from the days."""
    per_day: dict[tuple[int, dt.date], dict[str, list[float]]] = {}
    for (logger_id, day), found in series.air_days(loggers, month, last).items():
        acc = per_day.setdefault((loggers[logger_id], day), {})
        for key, value in {**found.concentrations, "o3_1h": found.o3_1h}.items():
            if value is not None:
                acc.setdefault(key, []).append(value)
    out: dict[int, dict] = {}
    for (district_id, day), acc in sorted(per_day.items()):
        conc = {k: _mean(v) for k, v in acc.items()}
        result = aqi.daily_aqi(day, conc, o3_1h=conc.pop("o3_1h", None))
        f = out.setdefault(district_id, {"aqi": [], "pm25": []})
        if result.aqi is not None:
            f["aqi"].append(result.aqi)
        if conc.get("pm25") is not None:
            f["pm25"].append(conc["pm25"])
    return out


def _water_figures(month: dt.date, last: dt.date, sections: dict[int, Station]) -> dict[int, dict]:
    """Per district: its sections with a target and a class for the month (from the monthly
    means of the daily means), and how many of them meet it."""
    daily: dict[int, dict[str, list[float]]] = {}
    for (logger_id, _day), found in series.water_days(sections, month, last).items():
        acc = daily.setdefault(logger_id, {})
        for code, value in found.values.items():
            if value is not None:
                acc.setdefault(code, []).append(value)
    out: dict[int, dict] = {}
    for logger_id, acc in daily.items():
        station = sections[logger_id]
        result = water.water_class({k: _mean(v) for k, v in acc.items()}, station.water_body)
        if result is None or not station.target_class:
            continue
        f = out.setdefault(station.logger.district_id, {"sections": 0, "meeting": 0})
        f["sections"] += 1
        f["meeting"] += bool(water.meets_target(result.water_class, station.target_class))
    return out


def _district_figures(month: dt.date, station_list: list[Station]) -> dict[int, dict]:
    last = add_months(month, 1) - dt.timedelta(days=1)
    air = {s.logger_id: s.logger.district_id for s in station_list if s.kind == StationKind.AIR}
    sections = {s.logger_id: s for s in station_list if s.kind == StationKind.WATER}
    air_f, water_f = _air_figures(month, last, air), _water_figures(month, last, sections)
    out = {}
    for district_id in {s.logger.district_id for s in station_list}:
        a = air_f.get(district_id, {"aqi": [], "pm25": []})
        w = water_f.get(district_id, {"sections": 0, "meeting": 0})
        good = sum(1 for v in a["aqi"] if v <= 100)
        out[district_id] = {
            "valid_days": len(a["aqi"]),
            "mean_aqi": _round(_mean(a["aqi"]), 1),
            "good_days": good,
            "good_day_ratio": round(good / len(a["aqi"]), 4) if a["aqi"] else None,
            "pm25": _round(_mean(a["pm25"]), 1),
            "sections": w["sections"],
            "sections_meeting": w["meeting"],
            "sections_ratio": round(w["meeting"] / w["sections"], 4) if w["sections"] else None,
        }
    return out


def district_quality(*, month: dt.date, order: str = "mean_aqi") -> list[dict]:
    """The districts' air and water quality for the month of `month`, ranked, with last month's.

    Each row: `code`, `name`, `figures` and `previous` (last month's), each with
    `valid_days`, `mean_aqi` (mean of the district's daily AQI), `good_days` and
    `good_day_ratio` (优良天数比例: days with AQI ≤ 100 among days with an AQI), `pm25`
    (µg/m³, mean of the district's daily PM2.5), `sections` (sections with a target and a
    class for the month), `sections_meeting` and `sections_ratio` (断面达标率); `change`
    (this month − last month, per figure); `ranks` and `rank_changes` per ranked figure
    (`RANKED`: lower AQI and PM2.5, higher ratios rank first); `rank`, `previous_rank` and
    `rank_change` (previous − current: positive moved up) on `order`. Sorted by `rank`.
    Districts without a station are left out. Public: no acting user needed.
    """
    if order not in RANKED:
        raise InvalidInput(_("排名指标无效。"), code="invalid_choice", field="order")
    month = month.replace(day=1)
    station_list = list(stations())
    cur = _district_figures(month, station_list)
    prev = _district_figures(add_months(month, -1), station_list)
    areas = AdminArea.objects.filter(level=AreaLevel.DISTRICT, pk__in=cur).order_by("code").values("pk", "code", "name")
    ranks = {m: rank({k: v[m] for k, v in cur.items()}, desc) for m, desc in RANKED.items()}
    old_ranks = {m: rank({k: v[m] for k, v in prev.items()}, desc) for m, desc in RANKED.items()}
    rows = []
    for area in areas:
        pk = area["pk"]
        now_f, old_f = cur[pk], prev[pk]
        changes = {m: rank_change(old_ranks[m][pk], ranks[m][pk]) for m in RANKED}
        rows.append(
            {
                "code": area["code"],
                "name": area["name"],
                "month": month,
                "figures": now_f,
                "previous": old_f,
                "change": {
                    k: (None if now_f[k] is None or old_f[k] is None else round(now_f[k] - old_f[k], 4)) for k in now_f
                },
                "ranks": {m: ranks[m][pk] for m in RANKED},
                "rank_changes": changes,
                "rank": ranks[order][pk],
                "previous_rank": old_ranks[order][pk],
                "rank_change": changes[order],
            }
        )
    # ranked districts first, by rank; those without a value for `order` after them
    rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["code"]))
    return rows
