"""Fixtures for the receiver tests: the receiver in a thread on a free port, writing (and
committing) to the test database through its own connection, as in production; loggers
committed the same way and removed afterwards; a psycopg connection to read what was stored.
"""

from __future__ import annotations

import psycopg
import pytest

from monitoring.management.commands.hj212_receiver import database_dsn

from .receiving import ReceiverThread

LOGGER_SQL = """
INSERT INTO monitoring_logger (mn, password, kind, name, point, exceedance_rule, min_valid_minutes, active,
                               synthetic, created_at, accepted, duplicates, rejected, last_seen)
SELECT mn, %s, 'outlet', '接收测试（合成）' || mn, ST_SetSRID(ST_MakePoint(120.1, 30.25), 4326), 'mean', 45, true,
       true, now(), 0, 0, 0, NULL
  FROM unnest(%s::varchar[]) AS mn
RETURNING id, mn
"""


@pytest.fixture
def dsn(django_db_setup) -> str:
    return database_dsn()


@pytest.fixture
def pg(dsn):
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET TIME ZONE 'Asia/Shanghai'")
        yield conn


@pytest.fixture
def committed_loggers(pg):
    """make(mns, password="123456") → {mn: id}: loggers committed for the receiver to see."""
    made: list[int] = []
    mns_made: list[str] = []

    def make(mns: list[str], password: str = "123456") -> dict[str, int]:
        rows = pg.execute(LOGGER_SQL, [password, list(mns)]).fetchall()
        made.extend(r[0] for r in rows)
        mns_made.extend(mns)
        return {mn: i for i, mn in rows}

    yield make
    for table in ("monitoring_reading", "monitoring_packet", "monitoring_pendinghour", "monitoring_part"):
        pg.execute(f"DELETE FROM {table} WHERE logger_id = ANY(%s)", [made])
    pg.execute("DELETE FROM monitoring_rejection WHERE mn = ANY(%s) OR mn LIKE 'RCV-%%'", [mns_made])
    pg.execute("DELETE FROM monitoring_logger WHERE id = ANY(%s)", [made])


@pytest.fixture
def receiver(dsn, settings):
    """start(**settings) → a running ReceiverThread (MONITORING_* settings applied first)."""
    running: list[ReceiverThread] = []

    def start(**overrides) -> ReceiverThread:
        for name, value in overrides.items():
            setattr(settings, name, value)
        r = ReceiverThread(dsn).start()
        running.append(r)
        return r

    yield start
    for r in running:
        r.stop()
