"""Fixtures for the receiver tests: the receiver in a thread on a free port, writing (and
committing) to the test database through its own connection, as in production; loggers
committed the same way and removed afterwards; a psycopg connection to read what was stored.
"""

from __future__ import annotations

import psycopg
import pytest

from gridgov.models import GridCell
from monitoring.management.commands.hj212_receiver import database_dsn
from monitoring.services import logger_register

from .receiving import ReceiverThread, committed

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
    _forget(pg, made, mns_made)
    pg.execute("DELETE FROM monitoring_rejection WHERE mn LIKE 'RCV-%%'")


def _forget(pg, ids: list[int], mns: list[str]) -> None:
    """Remove committed loggers and everything stored for them."""
    tables = (
        "monitoring_reading",
        "monitoring_packet",
        "monitoring_pendinghour",
        "monitoring_part",
        "monitoring_limit",
    )
    for table in tables:
        pg.execute(f"DELETE FROM {table} WHERE logger_id = ANY(%s)", [ids])
    pg.execute("DELETE FROM monitoring_rejection WHERE mn = ANY(%s)", [mns])
    pg.execute("DELETE FROM monitoring_logger WHERE id = ANY(%s)", [ids])


@pytest.fixture
def placed_loggers(pg, db):
    """make(mns, limits=None, password="123456") → {mn: Logger}: loggers registered through
    `logger_register` at a point of a 西湖区 cell that is none of the demo officer's (so the
    district's staff see them, the officer does not), committed for the receiver to see."""
    cell = (
        GridCell.objects.filter(township__code="330106001")
        .exclude(assignments__user__username="officer")
        .order_by("code")
        .first()
    )
    made: list[int] = []
    mns_made: list[str] = []

    def make(mns: list[str], *, limits=None, password: str = "123456") -> dict:
        def register():
            return [
                logger_register(
                    mn=mn,
                    password=password,
                    kind="outlet",
                    name=f"接口测试（合成）{mn}",
                    point=cell.geom.point_on_surface,
                    limits=limits,
                    synthetic=True,
                )
                for mn in mns
            ]

        loggers = committed(register)
        made.extend(lg.pk for lg in loggers)
        mns_made.extend(mns)
        return {lg.mn: lg for lg in loggers}

    yield make
    _forget(pg, made, mns_made)


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
