"""Fixtures of the quality tests.

- `station`: a station registered inside the test's transaction (rolled back), and `put_hours`
  to store its hourly values directly in monitoring's store (the receiver is not needed to
  test what is computed from stored hours).
- `committed_station`: a station committed (on a connection of its own) so that the HJ 212
  receiver sees its logger; `send_hours` sends its hours to the receiver over TCP as the
  station's logger would (2061 packets, ST 22 air / ST 21 water). What the receiver stored is
  committed too, and removed afterwards; the station's audit rows stay (append-only).
The receiver fixtures are the monitoring tests' own.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from monitoring import hj212, store
from monitoring.simulator import Client
from quality.models import Station
from quality.services import station_register
from tests.monitoring.conftest import dsn, pg, receiver  # noqa: F401  (fixtures)
from tests.monitoring.receiving import committed, run_async

LOCAL = ZoneInfo("Asia/Shanghai")


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8].upper()}"


@pytest.fixture
def inside():
    """A point inside a township of the demo grid: inside("330106") → {"lat", "lon"}."""

    def point(district: str = "330106") -> dict:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT ST_Y(p), ST_X(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM gridgov_adminarea "
                "WHERE level = 'township' AND code LIKE %s ORDER BY code LIMIT 1) q",
                [district + "%"],
            )
            lat, lon = cursor.fetchone()
        return {"lat": lat, "lon": lon}

    return point


@pytest.fixture
def station(db, inside):
    """make(kind="air", **fields) → a Station registered in this test's transaction."""

    def make(kind: str = "air", district: str = "330106", **fields) -> Station:
        code = fields.pop("code", unique("T"))
        return station_register(
            actor=None,
            code=code,
            name=fields.pop("name", f"测试站点{code}（合成）"),
            kind=kind,
            mn=fields.pop("mn", unique("QT")),
            password="pw212",
            synthetic=True,
            **{**inside(district), **fields},
        )

    return make


def local(day: dt.date, hour: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), LOCAL)


@pytest.fixture
def put_hours(db):
    """put(station, {hour start (aware): {factor: value or (value, flag)}}) in this transaction."""

    def put(st: Station, hours: dict[dt.datetime, dict]) -> int:
        rows = []
        for t, values in hours.items():
            for factor, v in values.items():
                value, flag = v if isinstance(v, tuple) else (v, "N")
                rows.append((t, float(value), st.logger_id, factor, flag))
        with connection.cursor() as cursor:
            store.ensure_partitions(cursor, {("H", store.month_of(t)) for t in hours})
            cursor.execute(
                "INSERT INTO monitoring_reading (time, value, logger_id, period, flag, origin, factor) "
                "SELECT t, v, l, 'H', f, 'L', c FROM unnest(%s::timestamptz[], %s::float8[], %s::int[], %s::text[], "
                "%s::text[]) AS u(t, v, l, c, f)",
                [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows]]
                + [[r[4] for r in rows]],
            )
        return len(rows)

    return put


@pytest.fixture(scope="session")
def _committed_stations(django_db_setup, django_db_blocker):
    """The stations committed by tests, removed at the end of the session: a test's own
    transaction may still refer to them when its fixtures are torn down."""
    made: list[Station] = []
    yield made
    if made:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM quality_station WHERE id = ANY(%s)", [[s.pk for s in made]])
            cursor.execute("DELETE FROM monitoring_logger WHERE id = ANY(%s)", [[s.logger_id for s in made]])


@pytest.fixture
def committed_station(_committed_stations, pg, inside):  # noqa: F811
    """make(kind, district="330106", **fields) → a committed Station (its logger visible to the
    receiver); what the receiver stored for it is removed afterwards, the station at the end."""
    made: list[Station] = []

    def make(kind: str = "air", district: str = "330106", **fields) -> Station:
        code = fields.pop("code", unique("TC"))
        where = inside(district)
        st = committed(
            lambda: station_register(
                actor=None,
                code=code,
                name=f"接收测试{code}（合成）",
                kind=kind,
                mn=fields.pop("mn", unique("QTC")),
                password="pw212",
                synthetic=True,
                **where,
                **fields,
            )
        )
        made.append(st)
        _committed_stations.append(st)
        return st

    yield make
    ids = [s.logger_id for s in made]
    for table in ("monitoring_reading", "monitoring_packet", "monitoring_pendinghour", "monitoring_part"):
        pg.execute(f"DELETE FROM {table} WHERE logger_id = ANY(%s)", [ids])


def send_hours(port: int, st: Station, st_code: str, hours: dict[dt.datetime, dict]) -> Client:
    """Send each hour as one 2061 packet (Flag=5: answer wanted) over TCP; return the client
    once every packet was answered (9014)."""
    frames = []
    for i, (t, values) in enumerate(sorted(hours.items())):
        items = []
        for factor, v in values.items():
            value, flag = v if isinstance(v, tuple) else (v, "N")
            items.append((factor, {"Avg": value, "Flag": flag}))
        naive = t.astimezone(LOCAL).replace(tzinfo=None)
        qn = f"{naive:%Y%m%d%H%M%S}{i % 1000:03d}"
        cp = hj212.data_cp(naive, items)
        segment = hj212.segment(qn=qn, st=st_code, cn="2061", pw="pw212", mn=st.logger.mn, flag=5, cp=cp)
        frames.append((qn, hj212.encode_frame(segment)))
    client = Client("127.0.0.1", port, resend_after=5)
    client.submit(frames)
    run_async(client.run(until=time.monotonic() + 60))
    assert client.done and len(client.stats.answered) == len(frames), client.stats
    return client
