"""Demo monitoring data (合成) for the synthetic loggers: a year of hourly values, the last days
in minute values, a few exceedance episodes and one silent logger.

Each factor follows a plausible curve around a level below its limit (a daily cycle, quieter
weekends, a seasonal swing, autocorrelated noise), with data-quality gaps (D, M and C flags)
and, on a few loggers, exceedance episodes of some hours. Older hours arrive as the loggers'
own hourly values (2061, judged here against the limit); the last MINUTE_DAYS days are minute
values (2051) whose hours the production judge computes (`monitoring_tick`), so recent
episodes open real cases through `sources` (the showcase logger always has one, yesterday
afternoon), and the silent logger opens a 数采仪离线 case.

Fast: each series goes to PostgreSQL as one row of arrays by COPY into a staging table, and
one INSERT … SELECT unnest(…) spreads it into the partitioned store (server side, set based).
"""

from __future__ import annotations

import datetime as dt
import os
import time

import numpy as np
from django.db import connection, transaction
from django.utils import timezone
from scipy.signal import lfilter

from gridgov.models import DemoLoad

from . import store
from .models import Logger, LoggerKind
from .services import monitoring_tick

SHOWCASE_MN = "330106DW0010000000000000"
DAYS = int(os.environ.get("DEMO_MONITORING_DAYS", "365"))
MINUTE_DAYS = int(os.environ.get("DEMO_MONITORING_MINUTE_DAYS", "2"))
PARAMS = {"version": 1, "seed": 20261202, "days": DAYS, "minute_days": MINUTE_DAYS}
GAP_FLAGS = "DMC"

STAGE_SQL = """
CREATE TEMP TABLE monitoring_demo_stage (
    logger_id integer, factor varchar(20), period "char", start timestamptz, step interval,
    origin "char", vals double precision[], flags text
) ON COMMIT DROP
"""
# Minutes are stored as sent; hours, the loggers' own, are judged against the limit here.
SPREAD_MINUTES_SQL = """
INSERT INTO monitoring_reading (time, value, min, max, logger_id, period, flag, origin, factor)
SELECT s.start + s.step * (v.n - 1), v.value, v.value * 0.98, v.value * 1.02, s.logger_id, 'M', v.flag, 'L', s.factor
  FROM monitoring_demo_stage s
  CROSS JOIN LATERAL unnest(s.vals, string_to_array(s.flags, NULL)) WITH ORDINALITY AS v(value, flag, n)
 WHERE s.period = 'M' AND v.value IS NOT NULL
"""
SPREAD_HOURS_SQL = """
INSERT INTO monitoring_reading (time, value, min, max, limit_low, limit_high, logger_id, period, flag, origin,
                                exceeded, factor)
SELECT s.start + s.step * (v.n - 1), v.value, v.value * 0.95, v.value * 1.05, lim.low, lim.high, s.logger_id, 'H',
       v.flag, 'L',
       CASE WHEN v.flag = 'N' THEN coalesce(v.value > lim.high, false) OR coalesce(v.value < lim.low, false) END,
       s.factor
  FROM monitoring_demo_stage s
  JOIN monitoring_limit lim ON lim.logger_id = s.logger_id AND lim.factor = s.factor
  CROSS JOIN LATERAL unnest(s.vals, string_to_array(s.flags, NULL)) WITH ORDINALITY AS v(value, flag, n)
 WHERE s.period = 'H' AND v.value IS NOT NULL
"""


def load_demo(*, stdout, force: bool = False) -> None:
    loggers = list(
        Logger.objects.filter(synthetic=True, kind=LoggerKind.OUTLET).prefetch_related("limits").order_by("mn")
    )
    if not loggers:
        return
    if DemoLoad.objects.filter(name="monitoring", params=PARAMS).exists() and not force:
        stdout.write("monitoring demo already loaded; nothing to do")
        return
    t0 = time.monotonic()
    with transaction.atomic():
        rows, cases = generate(loggers, np.random.default_rng(PARAMS["seed"]), now=timezone.now())
        DemoLoad.objects.update_or_create(name="monitoring", defaults={"params": PARAMS})
    stdout.write(
        f"monitoring demo: {rows} readings (合成) for {len(loggers)} loggers, {DAYS} days hourly and "
        f"{MINUTE_DAYS} days by the minute; {cases} in {time.monotonic() - t0:.1f}s"
    )


def _curve(
    rng: np.random.Generator, times: np.ndarray, level: float, *, hours: bool, spread: float = 1.0
) -> np.ndarray:
    """A plausible series at `times` (hours since the epoch as floats): relative swings of
    `spread` × level around `level` (a range factor such as pH swings by little)."""
    hour_of_day = times % 24
    day = times // 24
    daily = 0.15 * np.sin((hour_of_day - 9) / 24 * 2 * np.pi)
    weekend = np.where((day + 3) % 7 >= 5, -0.12, 0.0)  # 1970-01-01 was a Thursday
    seasonal = 0.1 * np.sin(day / 365.25 * 2 * np.pi)
    # AR(1) noise: values drift like a real process, not like white noise
    noise = lfilter([1.0], [1.0, -0.85], rng.normal(0, 0.05 if hours else 0.02, len(times)))
    return np.maximum(level * (1 + spread * (daily + weekend + seasonal + noise)), level * 0.05)


def _series_plan(loggers, rng):
    """(logger, factor, level, spread, low, high) for every limited factor."""
    out = []
    for logger in loggers:
        for lim in logger.limits.all():
            if lim.low is not None and lim.high is not None:  # a range (pH): near its middle
                level, spread = (lim.low + lim.high) / 2 + rng.normal(0, 0.15), 0.12
            else:
                level, spread = lim.high * rng.uniform(0.3, 0.55), 1.0
            out.append((logger, lim.factor, level, spread, lim.low, lim.high))
    return out


def _flags(rng: np.random.Generator, n: int, per: int) -> np.ndarray:
    """N, with rare single faults and a maintenance block now and then (per: values an hour)."""
    flags = np.full(n, "N")
    faults = rng.random(n // per) < 0.004
    for hour in np.flatnonzero(faults):
        flags[hour * per : (hour + 1) * per] = rng.choice(list(GAP_FLAGS))
    for _ in range(int(rng.integers(0, 3))):
        start = int(rng.integers(0, max(1, n // per - 6))) * per
        flags[start : start + per * int(rng.integers(2, 6))] = "M"
    return flags


def _episode(values: np.ndarray, start: int, length: int, low, high, rng) -> None:
    if high is not None and low is None:
        values[start : start + length] = high * rng.uniform(1.25, 2.0, length)
    elif low is not None:
        values[start : start + length] = low - rng.uniform(0.5, 1.2, length)  # pH below its range


def generate(loggers: list[Logger], rng: np.random.Generator, *, now: dt.datetime) -> tuple[int, str]:
    """Write the data of `loggers` (replacing theirs) and judge the recent hours."""
    end = now.replace(second=0, microsecond=0)
    minute_start = (end - dt.timedelta(days=MINUTE_DAYS)).replace(minute=0)
    hour_start = minute_start - dt.timedelta(days=DAYS)
    n_hours = int((minute_start - hour_start).total_seconds() // 3600)
    n_minutes = int((end - minute_start).total_seconds() // 60)
    plan = _series_plan(loggers, rng)
    showcase = next((lg for lg in loggers if lg.mn == SHOWCASE_MN), None)
    others = [lg for lg in loggers if lg is not showcase]
    recent = {lg.pk for lg in rng.choice(others, size=min(2, len(others)), replace=False)} if others else set()
    silent = others[int(rng.integers(len(others)))].pk if len(others) > 3 else None
    recent.discard(silent)
    yesterday = int(((end - dt.timedelta(days=1)).replace(hour=14, minute=0) - minute_start).total_seconds() // 60)
    ids = [lg.pk for lg in loggers]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM monitoring_packet WHERE logger_id = ANY(%s)) OR EXISTS "
            "(SELECT 1 FROM monitoring_reading WHERE logger_id = ANY(%s))",
            [ids, ids],
        )
        if cursor.fetchone()[0]:  # a reload: these loggers' earlier data go first
            for table in ("monitoring_reading", "monitoring_packet", "monitoring_pendinghour", "monitoring_part"):
                cursor.execute(f"DELETE FROM {table} WHERE logger_id = ANY(%s)", [ids])
        months = {("H", m) for m in store.months_between(hour_start, end)}
        months |= {("M", m) for m in store.months_between(minute_start, end)}
        store.ensure_partitions(cursor, months)
        cursor.execute(STAGE_SQL)
        epoch_hours = (hour_start.timestamp() / 3600) + np.arange(n_hours)
        epoch_minutes = (minute_start.timestamp() / 3600) + np.arange(n_minutes) / 60
        with cursor.copy(
            "COPY monitoring_demo_stage (logger_id, factor, period, start, step, origin, vals, flags) FROM STDIN"
        ) as copy:
            seen_episode: set[int] = set()
            for logger, factor, level, spread, low, high in plan:
                hours = np.round(_curve(rng, epoch_hours, level, hours=True, spread=spread), 3)
                if rng.random() < 0.08:  # a past episode on some series
                    _episode(hours, int(rng.integers(0, n_hours - 8)), int(rng.integers(2, 7)), low, high, rng)
                hour_flags = _flags(rng, n_hours, 1)
                copy.write(_row(logger.pk, factor, "H", hour_start, "1 hour", "L", hours, hour_flags))
                minutes = np.round(
                    _curve(rng, epoch_minutes, level, hours=False, spread=spread) * rng.normal(1, 0.01, n_minutes), 3
                )
                minute_flags = _flags(rng, n_minutes, 60)
                # the showcase's COD exceeds yesterday 14:00–17:00; two other loggers' first factor lately
                if logger is showcase and factor == "w01018":
                    _episode(minutes, yesterday, 180, low, high, rng)
                    minute_flags[yesterday : yesterday + 180] = "N"
                    seen_episode.add(logger.pk)
                elif logger.pk in recent and logger.pk not in seen_episode:
                    start = max(0, n_minutes - 60 * int(rng.integers(3, 30)))
                    _episode(minutes, start, 120, low, high, rng)
                    minute_flags[start : start + 120] = "N"
                    seen_episode.add(logger.pk)
                if logger.pk == silent:  # a logger that fell silent three hours ago
                    minutes[n_minutes - 180 :] = np.nan
                copy.write(_row(logger.pk, factor, "M", minute_start, "1 minute", "L", minutes, minute_flags))
        cursor.execute(SPREAD_HOURS_SQL)
        written = cursor.rowcount
        cursor.execute(SPREAD_MINUTES_SQL)
        written += cursor.rowcount
        # what the receiver would have kept: when each logger spoke last, its counts, and the
        # hours of minute data waiting to be judged
        last = {lg.pk: end - dt.timedelta(minutes=1 if lg.pk != silent else 181) for lg in loggers}
        cursor.execute(
            """
            UPDATE monitoring_logger l SET last_seen = v.last, last_data_time = v.last, offline_since = NULL,
                   accepted = v.packets, duplicates = 0, rejected = 0
              FROM unnest(%s::integer[], %s::timestamptz[], %s::bigint[]) AS v(id, last, packets)
             WHERE l.id = v.id
            """,
            [list(last), list(last.values()), [n_hours + n_minutes] * len(last)],
        )
        cursor.execute(
            """
            INSERT INTO monitoring_pendinghour (logger_id, hour)
            SELECT id, h FROM unnest(%s::integer[]) AS id,
                   generate_series(%s::timestamptz, %s::timestamptz, interval '1 hour') AS h
            ON CONFLICT DO NOTHING
            """,
            [ids, minute_start, end],
        )
    summary = monitoring_tick(now=end)
    return written, f"{summary['exceeded']} exceeded recent hours, {summary['offline']} silent loggers"


def _row(logger_id, factor, period, start, step, origin, values: np.ndarray, flags: np.ndarray) -> str:
    vals = ",".join("NULL" if v != v else repr(float(v)) for v in values)
    return f"{logger_id}\t{factor}\t{period}\t{start.isoformat()}\t{step}\t{origin}\t{{{vals}}}\t{''.join(flags)}\n"
