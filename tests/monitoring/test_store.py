"""store.maintain, the daily job (monitoring.partitions): the monthly partitions made ahead, those
past retention dropped, the packet ledger and stale split parts pruned.

It runs inside the test's transaction: PostgreSQL DDL is transactional, so the partitions it
makes and drops come back as they were. What exists is read from the catalogue (pg_inherits,
pg_class) here, not through the store's own helpers.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from monitoring import store

pytestmark = pytest.mark.django_db
NOW = timezone.make_aware(dt.datetime(2031, 5, 15, 12, 0))  # months no other test writes
FAKE_LOGGER = -15  # the store's tables have no foreign key to the loggers

CHILDREN_SQL = """
SELECT p.relname, c.relname FROM pg_inherits i
  JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
 WHERE p.relname IN ('monitoring_reading_r', 'monitoring_reading_m', 'monitoring_reading_h', 'monitoring_reading_d')
"""


def children(cursor) -> set[tuple[str, str]]:
    """(parent, partition) of every monthly partition."""
    cursor.execute(CHILDREN_SQL)
    return set(cursor.fetchall())


def month(name: str) -> dt.date:
    return dt.date(int(name[-6:-2]), int(name[-2:]), 1)


def test_maintain_makes_months_ahead_drops_past_retention_and_prunes(settings):
    settings.MONITORING_PARTITIONS_AHEAD = 3
    settings.MONITORING_RETENTION_MONTHS = {"R": 1200, "M": 2, "H": 1200, "D": 1200}  # only minutes go
    settings.MONITORING_LEDGER_HOURS = 5
    settings.MONITORING_SPLIT_SECONDS = 600
    with connection.cursor() as c:
        store.ensure_partitions(c, {("M", dt.date(2031, 3, 1)), ("M", dt.date(2031, 4, 1))})
        c.execute(
            "INSERT INTO monitoring_reading (time, value, logger_id, period, flag, factor) VALUES (%s, 1, %s, 'M', 'N', 'w01018')",
            [timezone.make_aware(dt.datetime(2031, 3, 31, 23, 59)), FAKE_LOGGER],
        )
        for qn, age in [("OLD", dt.timedelta(hours=5, minutes=1)), ("YOUNG", dt.timedelta(hours=4, minutes=59))]:
            c.execute(
                "INSERT INTO monitoring_packet (logger_id, qn, cn, received_at) VALUES (%s, %s, '2051', %s)",
                [FAKE_LOGGER, qn, NOW - age],
            )
        for pno, age in [(1, dt.timedelta(seconds=601)), (2, dt.timedelta(seconds=599))]:
            c.execute(
                "INSERT INTO monitoring_part (logger_id, qn, pno, pnum, segment, received_at) VALUES (%s, 'SPLIT', %s, 3, '', %s)",
                [FAKE_LOGGER, pno, NOW - age],
            )
        before = children(c)

        result = store.maintain(c, now=NOW)

        after = children(c)
        c.execute("SELECT qn FROM monitoring_packet WHERE logger_id = %s", [FAKE_LOGGER])
        ledger = [qn for (qn,) in c.fetchall()]
        c.execute("SELECT pno FROM monitoring_part WHERE logger_id = %s", [FAKE_LOGGER])
        parts = [pno for (pno,) in c.fetchall()]
        c.execute("SELECT count(*) FROM monitoring_reading WHERE logger_id = %s", [FAKE_LOGGER])
        readings = c.fetchone()[0]

    # this month and the three after it, for every period; not a fourth
    ahead = {(f"monitoring_reading_{p}", f"monitoring_reading_{p}_2031{m:02d}") for p in "rmhd" for m in (5, 6, 7, 8)}
    assert ahead <= after
    assert not {name for _, name in after if name.endswith("_203109")}
    assert result["created"] == len(ahead - before)
    # minutes keep two months (April and May): March and everything before it is dropped
    assert ("monitoring_reading_m", "monitoring_reading_m_203104") in after
    old = {
        (parent, name)
        for parent, name in before
        if parent == "monitoring_reading_m" and month(name) < dt.date(2031, 4, 1)
    }
    assert ("monitoring_reading_m", "monitoring_reading_m_203103") in old
    assert not old & after and result["dropped"] == len(old)
    assert readings == 0  # the dropped month's rows went with it
    # the other periods keep what they had
    assert {x for x in before if x[0] != "monitoring_reading_m"} <= after
    # the ledger keeps MONITORING_LEDGER_HOURS, split parts MONITORING_SPLIT_SECONDS
    assert ledger == ["YOUNG"] and result["ledger_pruned"] >= 1
    assert parts == [2] and result["parts_expired"] >= 1
