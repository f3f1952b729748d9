"""Judging hours: valid hourly values from minute data (or the logger's own), against limits.

An hour of a logger's factor is valid when it has at least `Logger.min_valid_minutes` (45)
minutes flagged N (HJ 212: only N is valid data), or when the logger sent the hour itself
(2061) flagged N. A valid hour is exceeded when its mean (our default; `Logger.exceedance_rule`
may say the hour's maximum) is above the factor's upper limit or below its lower limit (pH).
An hour that is not valid is never an exceedance: one with D, F, M or C flags is a
data-quality gap, one with too few minutes simply not judged (exceeded is NULL).

The result is the hour row of the store (period H): computed from minutes (origin C) or the
logger's own (origin L, whose value is kept), with `valid_minutes`, the limit it was judged
against and `exceeded`. Hours are judged once they are complete: when the logger has sent
data for the hour's last minute (or the hour itself), or MONITORING_HOUR_GRACE_MINUTES after
the hour's end by the clock. Late data put an hour back on the list and it is judged again.

One set-based statement judges the due loggers of each hour (benchmarked in
bench/monitoring_judge.py against a bare GROUP BY over the same minutes): raw SQL, every
value bound.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from . import store
from .conf import setting
from .selectors import online_cutoff

DUE_SQL = """
DELETE FROM monitoring_pendinghour p
 USING monitoring_logger l
 WHERE l.id = p.logger_id
   AND (p.hour + interval '1 hour' <= l.last_data_time + interval '1 minute' OR p.hour + interval '1 hour' <= %s)
RETURNING p.logger_id, p.hour
"""

# One hour at a time (the due hours are nearly always the latest one, with a few stragglers):
# the minutes of that hour are one range of the partition, grouped by logger and factor.
_MINUTES_SQL = """
SELECT m.logger_id, m.factor,
       count(*) FILTER (WHERE m.flag = 'N') AS valid,
       -- the mean as avg() computes it (the sum over the count), without avg's sum of squares
       sum(m.value) FILTER (WHERE m.flag = 'N') / nullif(count(*) FILTER (WHERE m.flag = 'N'), 0) AS mean,
       min(coalesce(m.min, m.value)) FILTER (WHERE m.flag = 'N') AS low,
       max(coalesce(m.max, m.value)) FILTER (WHERE m.flag = 'N') AS high,
       -- the commonest gap flag, counted plainly so that the aggregate can be hashed
       -- (an ordered-set aggregate such as mode() would force a sort of every minute)
       count(*) FILTER (WHERE m.flag = 'D') AS d, count(*) FILTER (WHERE m.flag = 'F') AS f,
       count(*) FILTER (WHERE m.flag = 'M') AS mm, count(*) FILTER (WHERE m.flag = 'C') AS c
  FROM monitoring_reading m
 WHERE m.period = 'M' AND m.time >= %(hour)s AND m.time < %(end)s {loggers}
 GROUP BY m.logger_id, m.factor
"""
# When most loggers are due (the minute after the hour) the whole range is read and grouped,
# as a bare GROUP BY would, and joined to the due loggers afterwards. That grouping is staged
# in a temporary table first: a statement that writes (the INSERT below) never gets a parallel
# plan, a CREATE TABLE AS does, so the scan of millions of minutes runs on every core the
# server allows, and only the join and the write of the hour rows are serial. For a few
# stragglers {loggers} narrows the read to index probes of theirs inside the one statement.
# (Left to itself the planner probes the key once per logger even for thousands: it cannot
# estimate an array of ids.)
STAGE_MINUTES_SQL = "CREATE TEMPORARY TABLE judge_minutes ON COMMIT DROP AS " + _MINUTES_SQL.format(loggers="")
_JUDGE_SQL = """
WITH due AS (
    SELECT id AS logger_id, min_valid_minutes, exceedance_rule FROM monitoring_logger WHERE id = ANY(%(ids)s)
), minutes AS ({minutes}), own AS (
    SELECT h.logger_id, h.factor, h.value, h.min, h.max, h.flag
      FROM monitoring_reading h
     WHERE h.period = 'H' AND h.origin = 'L' AND h.time = %(hour)s AND h.logger_id = ANY(%(ids)s)
), hour AS (
    SELECT coalesce(o.logger_id, m.logger_id) AS logger_id, coalesce(o.factor, m.factor) AS factor,
           o.logger_id IS NOT NULL AS own,
           coalesce(o.value, m.mean) AS value, coalesce(o.min, m.low) AS min, coalesce(o.max, m.high) AS max,
           m.valid, o.flag AS own_flag,
           CASE greatest(m.d, m.f, m.mm, m.c) WHEN 0 THEN NULL WHEN m.d THEN 'D' WHEN m.f THEN 'F'
                WHEN m.mm THEN 'M' ELSE 'C' END::"char" AS gap_flag
      FROM own o FULL JOIN minutes m ON m.logger_id = o.logger_id AND m.factor = o.factor
), judged AS (
    SELECT h.*, d.exceedance_rule, lim.low AS limit_low, lim.high AS limit_high,
           CASE WHEN h.own THEN h.own_flag
                WHEN coalesce(h.valid, 0) >= d.min_valid_minutes THEN 'N'
                ELSE coalesce(h.gap_flag, 'N') END AS flag,
           CASE WHEN h.own THEN h.own_flag = 'N' ELSE coalesce(h.valid, 0) >= d.min_valid_minutes END AS ok
      FROM hour h
      JOIN due d ON d.logger_id = h.logger_id
      LEFT JOIN monitoring_limit lim ON lim.logger_id = h.logger_id AND lim.factor = h.factor
), ins AS (
    INSERT INTO monitoring_reading AS r (time, value, min, max, limit_low, limit_high, logger_id, valid_minutes,
                                         period, flag, origin, exceeded, factor)
    SELECT %(hour)s, value, min, max, limit_low, limit_high, logger_id, valid, 'H', flag, 'C',
           CASE WHEN NOT ok OR (limit_low IS NULL AND limit_high IS NULL) THEN NULL
                WHEN exceedance_rule = 'max' THEN coalesce(max > limit_high, false) OR coalesce(min < limit_low, false)
                ELSE coalesce(value > limit_high, false) OR coalesce(value < limit_low, false) END,
           factor
      FROM judged
    ON CONFLICT (logger_id, period, time, factor) DO UPDATE
       SET valid_minutes = excluded.valid_minutes, limit_low = excluded.limit_low,
           limit_high = excluded.limit_high, exceeded = excluded.exceeded,
           value = CASE WHEN r.origin = 'C' THEN excluded.value ELSE r.value END,
           min = CASE WHEN r.origin = 'C' THEN excluded.min ELSE r.min END,
           max = CASE WHEN r.origin = 'C' THEN excluded.max ELSE r.max END,
           flag = CASE WHEN r.origin = 'C' THEN excluded.flag ELSE r.flag END
    RETURNING r.logger_id, r.factor, r.time, r.value, r.min, r.max, r.flag, r.valid_minutes, r.exceeded,
              r.limit_low, r.limit_high, r.origin
)
SELECT (SELECT count(*) FROM ins), x.*
  FROM (SELECT 1) AS one
  LEFT JOIN (SELECT logger_id, factor, time, value, min, max, flag, valid_minutes, limit_low, limit_high, origin
               FROM ins WHERE exceeded) AS x ON true
"""
JUDGE_ALL_SQL = _JUDGE_SQL.format(minutes="SELECT * FROM judge_minutes")
JUDGE_FEW_SQL = _JUDGE_SQL.format(minutes=_MINUTES_SQL.format(loggers="AND m.logger_id = ANY(%(ids)s)"))
FEW = 500

# A logger silent past the threshold goes offline (once); one that spoke since comes back.
OFFLINE_SQL = """
UPDATE monitoring_logger SET offline_since = coalesce(last_seen, created_at)
 WHERE active AND offline_since IS NULL AND coalesce(last_seen, created_at) < %s
RETURNING id, offline_since
"""
ONLINE_SQL = """
WITH back AS (
    SELECT id, offline_since, last_seen FROM monitoring_logger
     WHERE offline_since IS NOT NULL AND last_seen > offline_since FOR UPDATE
)
UPDATE monitoring_logger l SET offline_since = NULL FROM back WHERE l.id = back.id
RETURNING l.id, back.offline_since, back.last_seen
"""


@dataclass(frozen=True)
class ExceededHour:
    logger_id: int
    factor: str
    hour: dt.datetime
    value: float
    min: float | None
    max: float | None
    flag: str
    valid_minutes: int | None  # None for a logger's own hour without minute data
    limit_low: float | None
    limit_high: float | None
    from_logger: bool


@dataclass(frozen=True)
class Judgement:
    judged: int  # hour rows written (every factor of every due hour)
    exceeded: list[ExceededHour]


def judge_due(*, now: dt.datetime | None = None) -> Judgement:
    """Judge every hour that is due; return what was judged and the exceeded hours."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(minutes=int(setting("MONITORING_HOUR_GRACE_MINUTES")))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(DUE_SQL, [cutoff])
        due = cursor.fetchall()
        if not due:
            return Judgement(0, [])
        return _judge(cursor, _by_hour(due))


def judge_hours(pairs: list[tuple[int, dt.datetime]]) -> Judgement:
    """Judge the given (logger id, hour start) pairs now, due or not (tests, tools, the demo)."""
    if not pairs:
        return Judgement(0, [])
    by_hour = _by_hour(pairs)
    with transaction.atomic(), connection.cursor() as cursor:
        for hour, ids in by_hour.items():
            cursor.execute("DELETE FROM monitoring_pendinghour WHERE hour = %s AND logger_id = ANY(%s)", [hour, ids])
        return _judge(cursor, by_hour)


def _by_hour(pairs) -> dict[dt.datetime, list[int]]:
    by_hour: dict[dt.datetime, list[int]] = {}
    for logger_id, hour in pairs:
        by_hour.setdefault(hour, []).append(logger_id)
    return by_hour


def _judge(cursor, by_hour: dict[dt.datetime, list[int]]) -> Judgement:
    store.ensure_partitions(cursor, {("H", store.month_of(h)) for h in by_hour})
    # A set-based statement over thousands of rows: JIT compilation would cost more than it
    # saves, and the aggregate should stay in memory.
    cursor.execute("SET LOCAL jit = off")
    cursor.execute("SET LOCAL work_mem = '64MB'")
    judged, exceeded = 0, []
    for hour, ids in sorted(by_hour.items()):
        params = {"ids": sorted(ids), "hour": hour, "end": hour + dt.timedelta(hours=1)}
        if len(ids) < FEW:
            cursor.execute(JUDGE_FEW_SQL, params)
            rows = cursor.fetchall()
        else:
            cursor.execute(STAGE_MINUTES_SQL, params)
            cursor.execute(JUDGE_ALL_SQL, params)
            rows = cursor.fetchall()
            cursor.execute("DROP TABLE judge_minutes")
        judged += rows[0][0]
        exceeded += [
            ExceededHour(
                logger_id=r[1],
                factor=r[2],
                hour=r[3],
                value=r[4],
                min=r[5],
                max=r[6],
                flag=r[7],
                valid_minutes=r[8],
                limit_low=r[9],
                limit_high=r[10],
                from_logger=r[11] == "L",
            )
            for r in rows
            if r[1] is not None
        ]
    return Judgement(judged, exceeded)


def loggers_offline(*, now: dt.datetime | None = None) -> list[tuple[int, dt.datetime]]:
    """Mark loggers silent past MONITORING_OFFLINE_MINUTES offline; return (id, silent since)."""
    with connection.cursor() as cursor:
        cursor.execute(OFFLINE_SQL, [online_cutoff(now)])
        return cursor.fetchall()


def loggers_back_online() -> list[tuple[int, dt.datetime, dt.datetime]]:
    """Clear the outage of loggers heard from again; return (id, silent since, back at)."""
    with connection.cursor() as cursor:
        cursor.execute(ONLINE_SQL)
        return cursor.fetchall()
