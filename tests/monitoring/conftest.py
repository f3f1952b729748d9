"""Fixtures for the receiver tests: the receiver in a thread on a free port, writing (and
committing) to the test database through its own connection, as in production; loggers
committed the same way and removed afterwards; a psycopg connection to read what was stored.
"""

from __future__ import annotations

import asyncio
import threading

import psycopg
import pytest

from monitoring.management.commands.hj212_receiver import database_dsn
from monitoring.receiver import Receiver

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


class ReceiverThread:
    """The production receiver on its own event loop in a thread (port 0: a free one)."""

    def __init__(self, dsn: str) -> None:
        self.receiver = Receiver(dsn=dsn, host="127.0.0.1", port=0)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.started = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def main():
            self.loop = asyncio.get_running_loop()
            task = asyncio.create_task(self.receiver.run())
            await self.receiver.ready.wait()
            self.started.set()
            await task

        try:
            asyncio.run(main())
        except BaseException as exc:  # shown by the test that waits for it
            self.error = exc
            self.started.set()

    def start(self) -> ReceiverThread:
        self.thread.start()
        assert self.started.wait(30), "receiver did not start"
        if self.error:
            raise self.error
        return self

    @property
    def port(self) -> int:
        return self.receiver.port

    def stop(self) -> None:
        if self.loop is not None and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.receiver.stop)
        self.thread.join(30)


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
