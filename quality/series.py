"""Station data from the monitoring store: valid hours, daily means, and the AQI and class of each.

Stations are data loggers of `monitoring` (kind station) and their data sit in its store,
`monitoring_reading`, one row per logger, factor, period and time. What counts here:

- **A valid hour** is an hour row (period H: the logger's own 2061 value, or the hour the
  monitoring judge computed from at least 45 valid minutes) flagged N. Any other flag (F, M, S,
  D, C, T, B) keeps the value out of every mean, as a missing hour does.
- **A 24 h mean** (SO₂, NO₂, CO, PM10, PM2.5) needs at least 20 valid hours of the natural day
  (GB 3095-2012 §8.2, data validity: "每日至少有20个小时平均浓度值").
- **O₃ 8 h**: the mean of 8 consecutive hours, valid with at least 6 of them (ibid.). The
  daily maximum 8 h average is the largest of the 17 windows that end from 08:00 to 24:00
  (they start at 00:00 … 16:00, so a day's windows are its own hours); it needs at least 14
  valid windows, or a largest window above 160 µg/m³ (the class II limit), which more data
  could only have raised.
- **Hourly AQI** uses the hour's valid values; for HJ 633-2012's SO₂ rule above 800 the 24 h
  moving average of the 24 hours ending with it (at least 20 valid).
- **Water**: a factor's daily mean needs at least `QUALITY_WATER_MIN_VALUES` valid values
  (default 4: two thirds of the six four-hourly measurements of HJ 915-2017's routine); the
  section's class is that of the daily means (GB 3838-2002 single-factor evaluation).

Raw SQL, because it is one grouped scan of a partitioned table for many stations and days
(benchmarked in bench/quality_aqi.py against a bare GROUP BY over the same rows); every value
is bound.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from . import aqi, water
from .conf import setting

LOCAL = ZoneInfo(settings.TIME_ZONE)

# HJ 212-2017 codes of the ambient air items (µg/m³, CO mg/m³) and the AQI's names for them.
AIR_CODES = {"a21026": "so2", "a21004": "no2", "a21005": "co", "a05024": "o3", "a34002": "pm10", "a34004": "pm25"}
AIR_FACTORS = tuple(AIR_CODES)
MEAN_ITEMS = ("so2", "no2", "co", "pm10", "pm25")  # 24 h means; O₃ is by its 8 h windows
CODE_OF = {v: k for k, v in AIR_CODES.items()}
WATER_FACTORS = water.FACTORS

MIN_HOURS_24H = 20
MIN_HOURS_8H = 6
MIN_WINDOWS_8H = 14
O3_8H_LIMIT = 160  # GB 3095-2012 class II, µg/m³
WINDOWS = 17  # 8 h windows ending 08:00 … 24:00


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), LOCAL)


def _clean(value: float | None) -> float | None:
    """A mean without the float noise of summing (35.00000000000001 is 35)."""
    return None if value is None else round(value, 6)


def o3_daily_max_8h(hours: Sequence[int], values: Sequence[float]) -> float | None:
    """The daily maximum 8 h moving average from a day's valid hourly O₃ (hour of day, value)."""
    slots: list[float | None] = [None] * 24
    for h, v in zip(hours, values, strict=True):
        slots[h] = v
    best, valid = None, 0
    for start in range(WINDOWS):
        window = [v for v in slots[start : start + 8] if v is not None]
        if len(window) >= MIN_HOURS_8H:
            mean = sum(window) / len(window)
            valid += 1
            if best is None or mean > best:
                best = mean
    if best is None or (valid < MIN_WINDOWS_8H and best <= O3_8H_LIMIT):
        return None
    return _clean(best)


# --- Air: daily ---------------------------------------------------------------------------------

_MEAN_COLUMNS = ",\n".join(
    f"avg(r.value) FILTER (WHERE r.factor = '{CODE_OF[k]}' AND r.flag = 'N') AS {k},\n"
    f"count(*) FILTER (WHERE r.factor = '{CODE_OF[k]}' AND r.flag = 'N') AS {k}_n"
    for k in MEAN_ITEMS
)
# One row per station and local day: the 24 h means with their valid hours, and the day's
# valid O₃ hours (hour of day and value, two arrays in the same order) for the 8 h windows.
DAILY_AIR_SQL = f"""
SELECT r.logger_id, (r.time AT TIME ZONE %(tz)s)::date AS day, count(*) AS rows,
       {_MEAN_COLUMNS},
       max(r.value) FILTER (WHERE r.factor = 'a05024' AND r.flag = 'N') AS o3_1h,
       array_agg(extract(hour FROM r.time AT TIME ZONE %(tz)s)::int) FILTER (WHERE r.factor = 'a05024'
                                                                          AND r.flag = 'N') AS o3_hours,
       array_agg(r.value) FILTER (WHERE r.factor = 'a05024' AND r.flag = 'N') AS o3_values
  FROM monitoring_reading r
 WHERE r.period = 'H' AND r.logger_id = ANY(%(ids)s) AND r.time >= %(start)s AND r.time < %(end)s
   AND r.factor = ANY(%(factors)s)
 GROUP BY 1, 2
"""


@dataclass(frozen=True)
class AirDay:
    """A station's day: the valid 24 h concentrations and the day's AQI."""

    logger_id: int
    day: dt.date
    concentrations: dict[str, float | None]  # so2 no2 co pm10 pm25 o3_8h
    o3_1h: float | None  # the day's largest valid hour
    valid_hours: dict[str, int]
    result: aqi.AqiResult


def _air_day(row) -> AirDay:
    logger_id, day = row[0], row[1]
    conc: dict[str, float | None] = {}
    counts: dict[str, int] = {}
    for i, key in enumerate(MEAN_ITEMS):
        mean, n = row[3 + 2 * i], row[4 + 2 * i]
        counts[key] = n
        conc[key] = _clean(mean) if n >= MIN_HOURS_24H else None
    o3_1h, hours, values = row[13], row[14], row[15]
    counts["o3"] = len(hours) if hours else 0
    conc["o3_8h"] = o3_daily_max_8h(hours, values) if hours else None
    return AirDay(logger_id, day, conc, o3_1h, counts, aqi.daily_aqi(day, conc, o3_1h=o3_1h))


def air_days(logger_ids: Iterable[int], first: dt.date, last: dt.date) -> dict[tuple[int, dt.date], AirDay]:
    """Every (logger, day) of [first, last] with data, with its daily AQI."""
    ids = sorted(set(logger_ids))
    if not ids:
        return {}
    params = {
        "tz": settings.TIME_ZONE,
        "ids": ids,
        "start": day_start(first),
        "end": day_start(last + dt.timedelta(days=1)),
        "factors": list(AIR_FACTORS),
    }
    with connection.cursor() as cursor:
        cursor.execute(DAILY_AIR_SQL, params)
        return {(r[0], r[1]): _air_day(r) for r in cursor.fetchall()}


# --- Air: hourly --------------------------------------------------------------------------------

HOURS_SQL = """
SELECT r.logger_id, r.time, r.factor, r.value, r.flag
  FROM monitoring_reading r
 WHERE r.period = 'H' AND r.logger_id = ANY(%(ids)s) AND r.time >= %(start)s AND r.time < %(end)s
   AND r.factor = ANY(%(factors)s)
 ORDER BY r.logger_id, r.time
"""


@dataclass
class AirHour:
    time: dt.datetime
    concentrations: dict[str, float | None] = field(default_factory=dict)  # so2 no2 co o3 pm10 pm25
    flags: dict[str, str] = field(default_factory=dict)  # flags other than N, by item
    so2_24h: float | None = None
    result: aqi.AqiResult | None = None


def _rows(ids: list[int], start: dt.datetime, end: dt.datetime, factors: Sequence[str]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(HOURS_SQL, {"ids": ids, "start": start, "end": end, "factors": list(factors)})
        return cursor.fetchall()


def air_hours(logger_ids: Iterable[int], start: dt.datetime, end: dt.datetime) -> dict[int, list[AirHour]]:
    """Each station's hours in [start, end) that have data, each with its hourly AQI."""
    lead = start - dt.timedelta(hours=23)  # SO₂'s 24 h moving average looks back 23 hours
    by_logger: dict[int, dict[dt.datetime, AirHour]] = {}
    so2: dict[tuple[int, dt.datetime], float] = {}
    for logger_id, t, code, value, flag in _rows(sorted(set(logger_ids)), lead, end, AIR_FACTORS):
        key = AIR_CODES[code]
        if flag == "N" and key == "so2":
            so2[(logger_id, t)] = value
        if t < start:
            continue
        hour = by_logger.setdefault(logger_id, {}).setdefault(t, AirHour(t))
        if flag == "N":
            hour.concentrations[key] = value
        else:
            hour.flags[key] = flag
    out = {}
    for logger_id, hours in by_logger.items():
        for t, hour in hours.items():
            window = [v for k in range(24) if (v := so2.get((logger_id, t - dt.timedelta(hours=k)))) is not None]
            hour.so2_24h = _clean(sum(window) / len(window)) if len(window) >= MIN_HOURS_24H else None
            hour.result = aqi.hourly_aqi(t.astimezone(LOCAL).date(), hour.concentrations, so2_24h=hour.so2_24h)
        out[logger_id] = [hours[t] for t in sorted(hours)]
    return out


# --- Water --------------------------------------------------------------------------------------

_WATER_COLUMNS = ",\n".join(
    f"avg(r.value) FILTER (WHERE r.factor = '{code}' AND r.flag = 'N'),\n"
    f"count(*) FILTER (WHERE r.factor = '{code}' AND r.flag = 'N')"
    for code in WATER_FACTORS
)
DAILY_WATER_SQL = f"""
SELECT r.logger_id, (r.time AT TIME ZONE %(tz)s)::date AS day, count(*) AS rows,
       {_WATER_COLUMNS}
  FROM monitoring_reading r
 WHERE r.period = 'H' AND r.logger_id = ANY(%(ids)s) AND r.time >= %(start)s AND r.time < %(end)s
   AND r.factor = ANY(%(factors)s)
 GROUP BY 1, 2
"""


@dataclass(frozen=True)
class WaterDay:
    logger_id: int
    day: dt.date
    values: dict[str, float | None]  # daily means of the valid values (None: too few)
    counts: dict[str, int]


def water_days(logger_ids: Iterable[int], first: dt.date, last: dt.date) -> dict[tuple[int, dt.date], WaterDay]:
    """Every (logger, day) of [first, last] with data, with its factors' daily means."""
    ids = sorted(set(logger_ids))
    if not ids:
        return {}
    minimum = int(setting("QUALITY_WATER_MIN_VALUES"))
    params = {
        "tz": settings.TIME_ZONE,
        "ids": ids,
        "start": day_start(first),
        "end": day_start(last + dt.timedelta(days=1)),
        "factors": list(WATER_FACTORS),
    }
    out = {}
    with connection.cursor() as cursor:
        cursor.execute(DAILY_WATER_SQL, params)
        for r in cursor.fetchall():
            values, counts = {}, {}
            for i, code in enumerate(WATER_FACTORS):
                mean, n = r[3 + 2 * i], r[4 + 2 * i]
                counts[code] = n
                values[code] = _clean(mean) if n >= minimum else None
            out[(r[0], r[1])] = WaterDay(r[0], r[1], values, counts)
    return out


def water_hours(logger_id: int, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, str, float, str]]:
    """The station's water rows in [start, end): (time, factor, value, flag), by time."""
    return [r[1:] for r in _rows([logger_id], start, end, WATER_FACTORS)]
