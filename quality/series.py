"""Station data from the monitoring store: valid hours, daily means, and the AQI and class of each.

Stations are data loggers of `monitoring` (kind station) and their data sit in its store,
`monitoring_reading`, one row per logger, factor, period and time. What counts here:

- **A valid hour** is an hour row (period H: the logger's own 2061 value, or the hour the
  monitoring judge computed from at least 45 valid minutes) flagged N. Any other flag (F, M, S,
  D, C, T, B) keeps the value out of every mean, as a missing hour does; so does a negative
  value whatever its flag (an instrument artefact, not a concentration: see `_RANGE`).
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

Raw SQL, because it groups a partitioned table's rows for many stations and days in the
database (two grouped scans, see DAILY_AIR_SQL; benchmarked in bench/quality_aqi.py against a
bare GROUP BY over the same rows); every value is bound. What follows per station-day (the 8 h
O₃ windows, the AQI) is computed for all the days at once with numpy, equal to the scalar
definitions here and in `aqi` (tests/quality/test_series.py). The store holds no NaN (HJ 212
values are parsed refusing it), so NaN stands for "no value" in those arrays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
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


def _clean_many(values: np.ndarray) -> np.ndarray:
    """`_clean` of each value (NaN stays NaN).

    round(x, 6) is the float nearest to x·10⁶ rounded half-even to an integer k, over 10⁶;
    rint(x * 1e6) / 1e6 is the same, because the division is correctly rounded, unless the
    product's rounding error moved it across a half. That cannot happen more than 10⁻³ from a
    half (the error is below 10⁻⁶ for |x| < 10⁶): closer ones, and larger values, go to round()."""
    scaled = values * 1e6
    out = np.rint(scaled) / 1e6
    doubt = (np.abs(np.abs(scaled - np.trunc(scaled)) - 0.5) <= 1e-3) | (np.abs(values) >= 1e6)
    for i in np.flatnonzero(doubt).tolist():
        out[i] = round(float(values[i]), 6)
    return out


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

# The statement groups each station's rows by local day twice, in two scans of the same range:
# the 24 h items by (station, day, factor) and then by (station, day), which is cheaper than
# one grouping with a filter per item on every row; and the O₃ rows alone by (station, day),
# with the day's 24 valid hours as 24 columns (sums and maxima combine across parallel workers,
# arrays do not, and an array per group made the grouping spill to disk). Each valid hour is in
# the column of its hour of the day: at most one row per hour, as the store keeps an hour row at
# the start of its hour (monitoring.store._aligned) and one per factor.
#
# The local day: when the zone keeps one UTC offset over the whole range (Asia/Shanghai has had
# +08:00 since 1991; `_one_offset` checks it at every hour of the range), local midnights are
# exactly 24 h apart from the range's first one, so a row's day is date_bin('1 day', time,
# start) and its hour `time - day`: integer arithmetic, where converting each row's time to the
# zone costs most of a bare scan. Otherwise (a zone with summer time) each row's time is
# converted to the zone, as before.
_FAST = {
    "day": "date_bin('1 day', r.time, %(start)s)",
    "hour": "r.time = date_bin('1 day', r.time, %(start)s) + interval '{k} hours'",
    "date": "(day AT TIME ZONE %(tz)s)::date",
}
_ZONED = {
    "day": "(r.time AT TIME ZONE %(tz)s)::date",
    "hour": "extract(hour FROM r.time AT TIME ZONE %(tz)s) = {k}",
    "date": "day",
}
# The rows every read here starts from: the stations' hour rows of the range that are not negative.
# A negative concentration is an instrument artefact (a zero drifting below the detection limit;
# HJ 212 carries the value as the logger sent it, flagged N), not a value: it is kept out of every
# mean and every hour, as a flagged hour is, where the AQI and class functions would refuse it.
_RANGE = "r.period = 'H' AND r.logger_id = ANY(%(ids)s) AND r.time >= %(start)s AND r.time < %(end)s AND r.value >= 0"


def _daily_air_sql(form: dict[str, str]) -> str:
    means = ",\n           ".join(
        f"max(f.total / f.n) FILTER (WHERE f.factor = '{CODE_OF[k]}') AS {k}, "
        f"coalesce(max(f.n) FILTER (WHERE f.factor = '{CODE_OF[k]}'), 0) AS {k}_n"
        for k in MEAN_ITEMS
    )
    hours = ",\n           ".join(
        f"max(r.value) FILTER (WHERE r.flag = 'N' AND {form['hour'].format(k=k)}) AS o3_{k}" for k in range(24)
    )
    return f"""
WITH means AS (
    SELECT f.logger_id, f.day,
           {means}
      FROM (SELECT r.logger_id, {form["day"]} AS day, r.factor,
                   sum(r.value) FILTER (WHERE r.flag = 'N') AS total, count(*) FILTER (WHERE r.flag = 'N') AS n
              FROM monitoring_reading r
             WHERE {_RANGE} AND r.factor = ANY(%(factors)s)
             GROUP BY 1, 2, 3) f
     GROUP BY 1, 2
), o3 AS (
    SELECT r.logger_id, {form["day"]} AS day,
           max(r.value) FILTER (WHERE r.flag = 'N') AS o3_1h, count(*) FILTER (WHERE r.flag = 'N') AS o3_n,
           {hours}
      FROM monitoring_reading r
     WHERE {_RANGE} AND r.factor = %(o3)s
     GROUP BY 1, 2
)
SELECT logger_id, {form["date"]},
       {", ".join(f"{k}, coalesce({k}_n, 0)" for k in MEAN_ITEMS)},
       o3_1h, coalesce(o3_n, 0), {", ".join(f"o3_{k}" for k in range(24))}
  FROM means FULL JOIN o3 USING (logger_id, day)
"""


# One row per station and local day: the 24 h means (sum / count: what avg() computes) with
# their valid hours, the day's largest valid O₃ hour, its number of valid O₃ hours, and the
# valid O₃ value of each hour of the day (00 … 23, NULL: none).
DAILY_AIR_SQL = _daily_air_sql(_FAST)
DAILY_AIR_SQL_ZONED = _daily_air_sql(_ZONED)


def _one_offset(start: dt.datetime, end: dt.datetime) -> bool:
    """Whether the local zone keeps one UTC offset at every hour of [start, end]."""
    offset = start.astimezone(LOCAL).utcoffset()
    t = start
    while t <= end:
        if t.astimezone(LOCAL).utcoffset() != offset:
            return False
        t += dt.timedelta(hours=1)
    return True


def o3_daily_max_8h_many(hours: np.ndarray) -> np.ndarray:
    """`o3_daily_max_8h` of many days at once (NaN: None): `hours` has a row per day, the valid
    O₃ of each hour of the day (24 columns, NaN: none).

    Each window's sum adds its valid hours in hour order from 0.0, as Python's sum() does
    (adding the 0.0 of a missing hour changes no sum), and divides by their number: the same
    floats as the definition."""
    valid = ~np.isnan(hours)
    filled = np.where(valid, hours, 0.0)
    n = len(hours)
    sums, counts = np.zeros((n, WINDOWS)), np.zeros((n, WINDOWS), dtype=np.int64)
    for j in range(8):
        sums += filled[:, j : j + WINDOWS]
        counts += valid[:, j : j + WINDOWS]
    ok = counts >= MIN_HOURS_8H
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(ok, sums / counts, -np.inf)
    best = means.max(axis=1)
    found = ok.any(axis=1) & ((ok.sum(axis=1) >= MIN_WINDOWS_8H) | (best > O3_8H_LIMIT))
    return _clean_many(np.where(found, best, np.nan))


@dataclass(frozen=True)
class AirDay:
    """A station's day: the valid 24 h concentrations and the day's AQI."""

    logger_id: int
    day: dt.date
    concentrations: dict[str, float | None]  # so2 no2 co pm10 pm25 o3_8h
    o3_1h: float | None  # the day's largest valid hour
    valid_hours: dict[str, int]
    result: aqi.AqiResult


def _air_days(rows: list[tuple]) -> dict[tuple[int, dt.date], AirDay]:
    """The AirDays of DAILY_AIR_SQL's rows: the 8 h O₃ and the AQI computed for all at once."""
    if not rows:
        return {}
    cols = list(zip(*rows, strict=True))
    loggers, days, o3_1h = cols[0], cols[1], cols[12]
    floats = lambda col: np.array(col, dtype=float)  # noqa: E731  (None → NaN)
    conc = np.empty((len(rows), len(MEAN_ITEMS) + 1))  # so2 no2 co pm10 pm25 o3_8h
    for i in range(len(MEAN_ITEMS)):
        enough = np.array(cols[3 + 2 * i]) >= MIN_HOURS_24H
        conc[:, i] = _clean_many(np.where(enough, floats(cols[2 + 2 * i]), np.nan))
    o3_hours = np.empty((len(rows), 24))
    for h in range(24):
        o3_hours[:, h] = floats(cols[14 + h])
    conc[:, -1] = o3_daily_max_8h_many(o3_hours)
    keys = (*MEAN_ITEMS, "o3_8h")
    results = aqi.daily_aqi_many(days, {k: conc[:, i] for i, k in enumerate(keys)}, o3_1h=floats(o3_1h))
    values = conc.astype(object)
    values[np.isnan(conc)] = None
    hour_keys = (*MEAN_ITEMS, "o3")
    counts = zip(*cols[3:12:2], cols[13], strict=True)
    return {
        (logger_id, day): AirDay(
            logger_id, day, dict(zip(keys, c, strict=True)), o3, dict(zip(hour_keys, n, strict=True)), result
        )
        for logger_id, day, c, o3, n, result in zip(loggers, days, values.tolist(), o3_1h, counts, results, strict=True)
    }


def air_days(logger_ids: Iterable[int], first: dt.date, last: dt.date) -> dict[tuple[int, dt.date], AirDay]:
    """Every (logger, day) of [first, last] with data, with its daily AQI."""
    ids = sorted(set(logger_ids))
    if not ids:
        return {}
    start, end = day_start(first), day_start(last + dt.timedelta(days=1))
    params = {
        "tz": settings.TIME_ZONE,
        "ids": ids,
        "start": start,
        "end": end,
        "factors": [CODE_OF[k] for k in MEAN_ITEMS],
        "o3": CODE_OF["o3"],
    }
    sql = DAILY_AIR_SQL if _one_offset(start, end) else DAILY_AIR_SQL_ZONED
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return _air_days(cursor.fetchall())


# --- Air: hourly --------------------------------------------------------------------------------

HOURS_SQL = f"""
SELECT r.logger_id, r.time, r.factor, r.value, r.flag
  FROM monitoring_reading r
 WHERE {_RANGE} AND r.factor = ANY(%(factors)s)
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
 WHERE {_RANGE} AND r.factor = ANY(%(factors)s)
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
