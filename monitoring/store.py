"""The store of monitoring data: one PostgreSQL table, partitioned by period, then by month.

`monitoring_reading` holds one row per logger, factor, period and time: realtime (R, CN
2011), minute (M, 2051), hour (H, 2061 or computed from minutes) and day (D, 2031) values
with their HJ 212 flag. It is declared LIST-partitioned by period and each period
RANGE-partitioned by local calendar month (Asia/Shanghai), so that each period keeps its own
retention (a month of realtime data is worth less than three years of hourly means) and old
data leave by dropping a partition, never by a DELETE.

This is raw SQL on purpose: Django neither declares partitioned tables nor copies rows in
bulk, and the receiver writes tens of thousands of rows a second. The receiver writes with
psycopg's COPY into a temporary staging table and moves the rows with one
``INSERT … ON CONFLICT DO NOTHING`` (the primary key makes a resent packet store nothing
new); hour rows computed from minutes (origin C) give way to the logger's own 2061 hour
(origin L). Every value is bound; identifiers are built only from our own period letters and
dates.

The tables are declared in migration monitoring/0002. Beside the readings:
`monitoring_packet`, the ledger of packets taken (logger, QN): a resent packet is answered
again but counted and stored once; `monitoring_pendinghour`, hours that got data and wait to
be judged (`monitoring.judging`); `monitoring_part`, parts of split packets waiting for their
siblings. No foreign keys from these to `monitoring_logger`: an insert must not pay a look-up
per row, and a logger's history outlives it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from psycopg.errors import UniqueViolation

from . import hj212
from .conf import setting

PERIODS = {"R": "realtime", "M": "minute", "H": "hour", "D": "day"}
CN_PERIOD = {"2011": "R", "2051": "M", "2061": "H", "2031": "D"}
PERIOD_LENGTH = {
    "R": dt.timedelta(0),
    "M": dt.timedelta(minutes=1),
    "H": dt.timedelta(hours=1),
    "D": dt.timedelta(days=1),
}
LOCAL = ZoneInfo(settings.TIME_ZONE)

# Columns in storage order: fixed-width first, so rows pack without padding.
COLUMNS = (
    "time",
    "value",
    "min",
    "max",
    "cou",
    "limit_low",
    "limit_high",
    "logger_id",
    "valid_minutes",
    "period",
    "flag",
    "origin",
    "exceeded",
    "factor",
)


# --- Partitions --------------------------------------------------------------------------------


def month_of(moment: dt.datetime) -> dt.date:
    """The first day of the local month that holds `moment`."""
    local = moment.astimezone(LOCAL) if moment.tzinfo else moment
    return dt.date(local.year, local.month, 1)


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def partition_name(period: str, month: dt.date) -> str:
    return f"monitoring_reading_{period.lower()}_{month:%Y%m}"


# DDL through the owner's functions (monitoring migration 0003): the runtime role that the
# receiver and the worker use may not create or drop tables itself.
CREATE_PARTITION_SQL = "SELECT monitoring_partition_create(%s, %s)"
DROP_PARTITION_SQL = "SELECT monitoring_partition_drop(%s, %s)"


def partition_create(period: str, month: dt.date) -> tuple[str, list]:
    """The statement and parameters that make `period`'s partition for `month` if it is missing."""
    assert period in PERIODS
    return CREATE_PARTITION_SQL, [period, month]


EXISTING_SQL = """
SELECT c.relname FROM pg_inherits i
  JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
 WHERE p.relname = ANY(%s)
"""
PARENTS = [f"monitoring_reading_{p.lower()}" for p in PERIODS]


def parse_partition(name: str) -> tuple[str, dt.date] | None:
    parts = name.rsplit("_", 2)
    if len(parts) != 3 or parts[0] != "monitoring_reading" or parts[1].upper() not in PERIODS:
        return None
    stamp = parts[2]
    return parts[1].upper(), dt.date(int(stamp[:4]), int(stamp[4:6]), 1)


def existing_partitions(cursor) -> set[tuple[str, dt.date]]:
    cursor.execute(EXISTING_SQL, [PARENTS])
    return {p for (name,) in cursor.fetchall() if (p := parse_partition(name))}


def ensure_partitions(cursor, needed: Iterable[tuple[str, dt.date]], existing: set | None = None) -> int:
    """Create the monthly partitions in `needed` that do not exist yet; return how many."""
    existing = existing_partitions(cursor) if existing is None else existing
    made = 0
    for period, month in sorted(set(needed) - existing):
        cursor.execute(*partition_create(period, month))
        existing.add((period, month))
        made += 1
    return made


def retention_cutoff(period: str, now: dt.datetime) -> dt.date:
    """The first month still kept for `period`; data before it are gone or refused."""
    return add_months(month_of(now), -int(setting("MONITORING_RETENTION_MONTHS")[period]) + 1)


def maintain(cursor, *, now: dt.datetime) -> dict[str, int]:
    """Make the partitions of this month and the next few, drop those past retention, and
    prune the ledger, stale split parts and judged-hour leftovers. Run daily (and at start)."""
    existing = existing_partitions(cursor)
    ahead = int(setting("MONITORING_PARTITIONS_AHEAD"))
    this = month_of(now)
    needed = {(p, add_months(this, k)) for p in PERIODS for k in range(ahead + 1)}
    made = ensure_partitions(cursor, needed, existing)
    dropped = 0
    for period, month in sorted(existing):
        if month < retention_cutoff(period, now):
            cursor.execute(DROP_PARTITION_SQL, [period, month])
            dropped += 1
    cursor.execute(
        "DELETE FROM monitoring_packet WHERE received_at < %s",
        [now - dt.timedelta(hours=int(setting("MONITORING_LEDGER_HOURS")))],
    )
    pruned = cursor.rowcount
    cursor.execute(
        "DELETE FROM monitoring_part WHERE received_at < %s",
        [now - dt.timedelta(seconds=int(setting("MONITORING_SPLIT_SECONDS")))],
    )
    return {"created": made, "dropped": dropped, "ledger_pruned": pruned, "parts_expired": cursor.rowcount}


def months_between(start: dt.datetime, end: dt.datetime) -> list[dt.date]:
    months, month = [], month_of(start)
    while month <= month_of(end):
        months.append(month)
        month = add_months(month, 1)
    return months


# --- Writing -----------------------------------------------------------------------------------


@dataclass
class Upload:
    """An accepted packet, ready to be stored: its logger, its key (QN) and its readings."""

    logger_id: int
    key: str
    cn: str
    data_time: dt.datetime | None  # aware
    # (time, value, min, max, cou, period, flag, factor); numbers as decimal text or floats
    rows: list[tuple] = field(default_factory=list)
    received_at: dt.datetime | None = None

    @property
    def period(self) -> str | None:
        return CN_PERIOD.get(self.cn)


@dataclass
class BatchCounts:
    """What a batch adds to the counters: per logger id, and per (claimed MN, reason)."""

    rejected_loggers: dict[int, int] = field(default_factory=dict)
    rejections: dict[tuple[str, str], int] = field(default_factory=dict)
    last_rejection: dt.datetime | None = None

    def reject(self, *, mn: str, reason: str, logger_id: int | None = None, at: dt.datetime) -> None:
        key = (mn[:64], reason)
        self.rejections[key] = self.rejections.get(key, 0) + 1
        if logger_id is not None:
            self.rejected_loggers[logger_id] = self.rejected_loggers.get(logger_id, 0) + 1
        self.last_rejection = at


STAGE_SQL = """
CREATE TEMP TABLE IF NOT EXISTS monitoring_stage (
    time timestamptz, value double precision, min double precision, max double precision,
    cou double precision, logger_id integer, period "char", flag "char", factor varchar(20)
) ON COMMIT DELETE ROWS
"""
COPY_SQL = "COPY monitoring_stage (time, value, min, max, cou, logger_id, period, flag, factor) FROM STDIN"
LEDGER_SQL = """
INSERT INTO monitoring_packet (logger_id, qn, cn, data_time, received_at)
SELECT * FROM unnest(%s::integer[], %s::varchar[], %s::varchar[], %s::timestamptz[], %s::timestamptz[])
ON CONFLICT DO NOTHING RETURNING logger_id, qn
"""
MOVE_SQL = """
INSERT INTO monitoring_reading (time, value, min, max, cou, logger_id, period, flag, factor)
SELECT time, value, min, max, cou, logger_id, period, flag, factor FROM monitoring_stage WHERE period <> 'H'
ON CONFLICT DO NOTHING
"""
# The logger's own hour replaces one we computed from its minutes (and is judged again).
MOVE_HOURS_SQL = """
INSERT INTO monitoring_reading AS r (time, value, min, max, cou, logger_id, period, flag, factor, origin)
SELECT DISTINCT ON (logger_id, period, time, factor) time, value, min, max, cou, logger_id, period, flag, factor, 'L'
  FROM monitoring_stage WHERE period = 'H'
ON CONFLICT (logger_id, period, time, factor) DO UPDATE
   SET value = excluded.value, min = excluded.min, max = excluded.max, cou = excluded.cou, flag = excluded.flag,
       origin = 'L', exceeded = NULL
 WHERE r.origin = 'C'
"""
PENDING_SQL = """
INSERT INTO monitoring_pendinghour (logger_id, hour)
SELECT * FROM unnest(%s::integer[], %s::timestamptz[]) ON CONFLICT DO NOTHING
"""
DIRECT_COPY_SQL = "COPY monitoring_reading (time, value, min, max, cou, logger_id, period, flag, factor) FROM STDIN"
COUNTERS_SQL = """
UPDATE monitoring_logger l
   SET accepted = l.accepted + v.accepted, duplicates = l.duplicates + v.duplicates,
       rejected = l.rejected + v.rejected,
       last_seen = CASE WHEN v.seen IS NULL THEN l.last_seen ELSE greatest(l.last_seen, v.seen) END,
       last_data_time = CASE WHEN v.data_through IS NULL THEN l.last_data_time
                             ELSE greatest(l.last_data_time, v.data_through) END
  FROM unnest(%s::integer[], %s::bigint[], %s::bigint[], %s::bigint[], %s::timestamptz[], %s::timestamptz[])
       AS v(id, accepted, duplicates, rejected, seen, data_through)
 WHERE l.id = v.id
"""
REJECTIONS_SQL = """
INSERT INTO monitoring_rejection (mn, reason, count, last_at)
SELECT * FROM unnest(%s::varchar[], %s::varchar[], %s::bigint[], %s::timestamptz[])
ON CONFLICT (mn, reason) DO UPDATE
   SET count = monitoring_rejection.count + excluded.count,
       last_at = greatest(monitoring_rejection.last_at, excluded.last_at)
"""


def needed_partitions(uploads: Iterable[Upload]) -> set[tuple[str, dt.date]]:
    """The partitions a batch writes to, and for minutes the hours judged from them."""
    needed = {(row[5], month_of(row[0])) for u in uploads for row in u.rows}
    return needed | {("H", month) for period, month in needed if period == "M"}


def counter_rows(uploads: list[Upload], new: set[tuple[int, str]], counts: BatchCounts) -> list[list]:
    """The parameters of COUNTERS_SQL for one batch."""
    per: dict[int, list] = {}
    counted: set[tuple[int, str]] = set()
    for u in uploads:
        c = per.setdefault(u.logger_id, [0, 0, 0, None, None])
        key = (u.logger_id, u.key)
        c[0 if key in new and key not in counted else 1] += 1
        counted.add(key)
        if u.received_at and (c[3] is None or u.received_at > c[3]):
            c[3] = u.received_at
        through = data_through(u)
        if through and (c[4] is None or through > c[4]):
            c[4] = through
    for logger_id, n in counts.rejected_loggers.items():
        per.setdefault(logger_id, [0, 0, 0, None, None])[2] += n
    ids = sorted(per)
    return [ids, [per[i][0] for i in ids], [per[i][1] for i in ids], [per[i][2] for i in ids]] + [
        [per[i][3] for i in ids],
        [per[i][4] for i in ids],
    ]


def data_through(upload: Upload) -> dt.datetime | None:
    """The end of the last minute the upload's data cover (an hour packet covers its hour)."""
    period = upload.period
    if upload.data_time is None or period is None:
        return None
    length = PERIOD_LENGTH[period]
    return upload.data_time + length - dt.timedelta(minutes=1) if length else upload.data_time


def rejection_rows(counts: BatchCounts) -> list[list]:
    keys = sorted(counts.rejections)
    at = counts.last_rejection
    return [[k[0] for k in keys], [k[1] for k in keys], [counts.rejections[k] for k in keys], [at for _ in keys]]


PARTS_SQL = """
INSERT INTO monitoring_part (logger_id, qn, pno, pnum, segment, received_at)
SELECT v.* FROM unnest(%s::integer[], %s::varchar[], %s::smallint[], %s::smallint[], %s::text[], %s::timestamptz[])
       AS v(logger_id, qn, pno, pnum, segment, received_at)
 WHERE NOT EXISTS (SELECT 1 FROM monitoring_packet k WHERE k.logger_id = v.logger_id AND k.qn = v.qn)
ON CONFLICT DO NOTHING
"""
COMPLETE_PARTS_SQL = """
DELETE FROM monitoring_part p
 USING (SELECT logger_id, qn FROM monitoring_part
         WHERE (logger_id, qn) IN (SELECT * FROM unnest(%s::integer[], %s::varchar[]))
         GROUP BY logger_id, qn HAVING count(*) >= max(pnum)) AS done
 WHERE p.logger_id = done.logger_id AND p.qn = done.qn
RETURNING p.logger_id, p.qn, p.pno, p.segment, p.received_at
"""


def _aligned(moment: dt.datetime, period: str) -> dt.datetime:
    """The start of the minute, hour or day a minute, hour or day value belongs to."""
    if period == "M":
        return moment.replace(second=0, microsecond=0)
    if period == "H":
        return moment.replace(minute=0, second=0, microsecond=0)
    if period == "D":
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment


def time_window(now: dt.datetime) -> tuple[dict[str, dt.datetime], dt.datetime]:
    """What data times are kept at `now`: the first moment per period, and the latest."""
    first = {p: dt.datetime.combine(retention_cutoff(p, now), dt.time(), LOCAL) for p in PERIODS}
    return first, now + dt.timedelta(minutes=int(setting("MONITORING_FUTURE_MINUTES")))


def upload_of(
    packet: hj212.Packet,
    *,
    logger_id: int,
    received_at: dt.datetime,
    now: dt.datetime,
    window: tuple[dict[str, dt.datetime], dt.datetime] | None = None,
) -> tuple[Upload | None, str]:
    """The upload to store for an authenticated packet, or (None, the reason to refuse it).
    `window` is `time_window(now)`, computed once per batch."""
    period = CN_PERIOD.get(packet.cn)
    local = packet.data_time
    aware = local.replace(tzinfo=LOCAL) if local is not None else None
    rows: list[tuple] = []
    if period is not None:
        if aware is None:
            return None, hj212.Reject.MALFORMED
        aware = _aligned(aware, period)
        first, last = window or time_window(now)
        if aware < first[period] or aware > last:
            return None, hj212.Reject.BAD_TIME
        rows = [
            (aware, value, low, high, cou, period, flag, code) for code, value, low, high, cou, flag in packet.stored()
        ]
    return Upload(logger_id, packet.key[:48], packet.cn, aware, rows, received_at), ""


async def _take_parts(cur, parts, counts: BatchCounts, *, now: dt.datetime) -> list[Upload]:
    """Keep the parts of split packets; return the uploads of the packets now complete."""
    await cur.execute(
        PARTS_SQL,
        [
            [lid for lid, *_ in parts],
            [p.key[:48] for _, p, *_ in parts],
            [p.pno for _, p, *_ in parts],
            [p.pnum for _, p, *_ in parts],
            [seg.decode("latin-1") for _, _, seg, _ in parts],
            [at for *_, at in parts],
        ],
    )
    await cur.execute(COMPLETE_PARTS_SQL, [[lid for lid, *_ in parts], [p.key[:48] for _, p, *_ in parts]])
    groups: dict[tuple[int, str], list] = {}
    for logger_id, qn, _pno, text, received_at in await cur.fetchall():
        groups.setdefault((logger_id, qn), []).append((text, received_at))
    uploads = []
    for (logger_id, _qn), members in groups.items():
        packet = hj212.merge_parts(hj212.parse_segment(text) for text, _ in members)
        upload, why = upload_of(packet, logger_id=logger_id, received_at=max(at for _, at in members), now=now)
        if upload is None:
            counts.reject(mn=packet.mn, reason=why, logger_id=logger_id, at=now)
        else:
            uploads.append(upload)
    return uploads


def _text(value) -> str:
    """A value for COPY text: checked decimal text as it came, a float, or NULL."""
    return "\\N" if value is None else value if isinstance(value, str) else repr(value)


def copy_text(rows) -> str:
    """Rows (time, value, min, max, cou, logger id, period, flag, factor) as COPY text.

    Written by hand because it is the receiver's hot path: psycopg's write_row costs more than
    the rest of a packet. Safe as text: factor codes are letters and digits, flags one letter
    or digit, numbers decimal text checked by hj212 (or floats), times ISO 8601."""
    out = []
    stamp, stamp_text = None, ""
    for t, value, low, high, cou, logger_id, period, flag, factor in rows:
        if t is not stamp:
            stamp, stamp_text = t, t.isoformat()
        numbers = "\t".join(_text(v) for v in (value, low, high, cou))
        out.append(f"{stamp_text}\t{numbers}\t{logger_id}\t{period}\t{flag}\t{factor}\n")
    return "".join(out)


async def _copy(cur, sql: str, rows) -> None:
    async with cur.copy(sql) as copy:
        await copy.write(copy_text(rows))


async def _store_rows(conn, cur, fresh: list[Upload]) -> None:
    """Readings of new packets into the store. Minutes and the like go straight in by COPY: the
    ledger already kept resent packets out, and only a minute sent again under another QN
    could collide, in which case (a unique violation, rolled back to the savepoint) they go
    through the staging table, whose INSERT skips what is stored. Hours always go through it
    (a logger's hour replaces one computed from minutes)."""
    direct, staged = [], []
    pending: set[tuple[int, dt.datetime]] = set()
    for u in fresh:
        logger_id = u.logger_id
        for t, value, low, high, cou, period, flag, factor in u.rows:
            (staged if period == "H" else direct).append((t, value, low, high, cou, logger_id, period, flag, factor))
        if u.period in ("M", "H") and u.data_time is not None:  # the rows of an upload share its time
            pending.add((logger_id, u.data_time.replace(minute=0, second=0, microsecond=0)))
    if direct:
        try:
            async with conn.transaction():
                await _copy(cur, DIRECT_COPY_SQL, direct)
        except UniqueViolation:
            staged += direct
    if staged:
        await cur.execute(STAGE_SQL)
        await _copy(cur, COPY_SQL, staged)
        await cur.execute(MOVE_SQL)
        await cur.execute(MOVE_HOURS_SQL)
    if pending:
        keys = sorted(pending)  # one order for every writer: concurrent batches never deadlock
        await cur.execute(PENDING_SQL, [[k[0] for k in keys], [k[1] for k in keys]])


async def write_batch(
    conn,
    uploads: list[Upload],
    counts: BatchCounts,
    *,
    parts: list[tuple[int, hj212.Packet, bytes, dt.datetime]] = (),
    now: dt.datetime,
    partitions: set[tuple[str, dt.date]],
) -> set[tuple[int, str]]:
    """Store a batch in one transaction on an async psycopg connection.

    `parts` are the parts of split packets (logger id, packet, its segment, when received):
    they are kept until their siblings arrive, and a packet whose parts are all in is stored
    like any upload. Returns the (logger, key) pairs that were new; the other uploads were
    resends, stored before. `partitions` are those known to exist (kept up to date).
    """
    new: set[tuple[int, str]] = set()
    async with conn.transaction():
        cur = conn.cursor()
        if parts:
            merged = await _take_parts(cur, parts, counts, now=now)
            for period, month in sorted(needed_partitions(merged) - partitions):
                await cur.execute(*partition_create(period, month))
                partitions.add((period, month))
            uploads = uploads + merged
        # one order of keys for every writer, so that concurrent batches never deadlock
        uploads = sorted(uploads, key=lambda u: (u.logger_id, u.key))
        if uploads:
            await cur.execute(
                LEDGER_SQL,
                [
                    [u.logger_id for u in uploads],
                    [u.key for u in uploads],
                    [u.cn for u in uploads],
                    [u.data_time for u in uploads],
                    [u.received_at for u in uploads],
                ],
            )
            new = {(r[0], r[1]) for r in await cur.fetchall()}
            staged: set[tuple[int, str]] = set()
            fresh = []
            for u in uploads:
                key = (u.logger_id, u.key)
                if key in new and key not in staged and u.rows:
                    staged.add(key)
                    fresh.append(u)
            if fresh:
                await _store_rows(conn, cur, fresh)
        params = counter_rows(uploads, new, counts)
        if params[0]:
            await cur.execute(COUNTERS_SQL, params)
        if counts.rejections:
            await cur.execute(REJECTIONS_SQL, rejection_rows(counts))
    return new
