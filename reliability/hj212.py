"""R6, HJ 212: 2,000 simulated data loggers for 60 s while the receiver is killed and PostGIS restarts.

Each logger keeps one TCP connection and sends one minute packet (2051, five factors, answer
wanted) a second, resending what is not answered within a few seconds and reconnecting when
its connection drops, as a 数采仪 does. A third of the way in the receiver is killed (SIGKILL,
no chance to flush) and started again; two thirds in, our PostGIS restarts. Afterwards the
database is read: every distinct packet sent is stored exactly once (five readings each, one
ledger row), nothing is stored twice, and every packet that was answered is stored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import socket
import statistics
import subprocess
import threading
import time

import psycopg

from monitoring.simulator import Client, SimLogger

from .cluster import PY, ROOT, free_port
from .load import Result

LOGGERS = 2000
FACTORS = 5
PREFIX = "R6HJ212"


def _wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the receiver did not listen on {port} within {timeout:.0f}s")


class Receiver:
    """manage.py hj212_receiver on a fixed loopback port, against our cluster."""

    def __init__(self, database_url: str, var_dir: str) -> None:
        self.port = free_port()
        self.env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "0", "GRIDGOV_VAR_DIR": var_dir}
        self.env.setdefault("SECRET_KEY", "reliability-only")
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [PY, "manage.py", "hj212_receiver", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def run_hj212(*, stack, loggers: int = LOGGERS, seconds: float = 60) -> Result:
    url = stack.cluster.url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as conn:
        ids = dict(
            conn.execute(
                """
                INSERT INTO monitoring_logger (mn, password, kind, name, point, exceedance_rule, min_valid_minutes,
                                               active, synthetic, created_at, accepted, duplicates, rejected)
                SELECT %s || lpad(g::text, 6, '0'), 'r6pw', 'outlet', 'R6（合成）',
                       ST_SetSRID(ST_MakePoint(120.1, 30.25), 4326), 'mean', 45, true, true, now(), 0, 0, 0
                  FROM generate_series(1, %s) g
                RETURNING mn, id
                """,
                [PREFIX, loggers],
            ).fetchall()
        )
    receiver = Receiver(stack.cluster.url, stack.var)
    receiver.start()
    # minute data of two days ago, one minute a second for each logger
    base = dt.datetime.now().replace(second=0, microsecond=0) - dt.timedelta(days=2)
    per_logger = int(seconds)
    sims = [SimLogger(mn=mn, pw="r6pw") for mn in ids]
    sent: dict[str, set[str]] = {}
    clients = []
    for sim in sims:
        frames = [sim.minute_frame(base + dt.timedelta(minutes=k)) for k in range(per_logger)]
        sent[sim.mn] = {qn for qn, _ in frames}
        client = Client("127.0.0.1", receiver.port, resend_after=3.0)
        client.submit(frames)
        clients.append((sim.mn, client))
    notes: list[str] = []
    start = time.monotonic()

    def faults() -> None:
        time.sleep(seconds / 3)
        receiver.kill()
        notes.append(f"receiver_killed@{time.monotonic() - start:.0f}s")
        receiver.start()
        time.sleep(max(0.0, start + 2 * seconds / 3 - time.monotonic()))
        notes.append(f"pg_restart@{time.monotonic() - start:.0f}s")
        stack.cluster.restart()

    injector = threading.Thread(target=faults)
    injector.start()

    async def drive() -> None:
        until = time.monotonic() + seconds + 90  # the grace to resend what went unanswered
        await asyncio.gather(*(c.run(until=until, interval=1.0) for _, c in clients))

    try:
        asyncio.run(drive())
        injector.join()
    finally:
        receiver.stop()
    elapsed = time.monotonic() - start

    with psycopg.connect(url, autocommit=True) as conn:
        id_list = list(ids.values())
        ledger = conn.execute(
            "SELECT logger_id, qn FROM monitoring_packet WHERE logger_id = ANY(%s)", [id_list]
        ).fetchall()
        per_minute = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE n <> %s) FROM (SELECT count(*) AS n FROM monitoring_reading "
            "WHERE logger_id = ANY(%s) AND period = 'M' GROUP BY logger_id, time) t",
            [FACTORS, id_list],
        ).fetchone()
        counted = conn.execute(
            "SELECT sum(accepted), sum(duplicates) FROM monitoring_logger WHERE id = ANY(%s)", [id_list]
        ).fetchone()
    by_id = {i: mn for mn, i in ids.items()}
    stored = {(by_id[i], qn) for i, qn in ledger}
    distinct = {(mn, qn) for mn, qns in sent.items() for qn in qns}
    answered = {(mn, qn) for mn, c in clients for qn in c.stats.answered}
    frames_sent = sum(c.stats.sent for _, c in clients)
    resent = sum(c.stats.resent for _, c in clients)
    missing = len(distinct - stored)
    answered_not_stored = len(answered - stored)
    minutes_stored, wrong_rows = per_minute
    duplicated = len(ledger) - len(stored) + wrong_rows + max(0, minutes_stored - len(distinct))
    unanswered = len(distinct - answered)
    lat = sorted(x for _, c in clients for x in c.stats.latencies) or [0.0]
    p50, p99 = statistics.median(lat) * 1000, lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
    ok = (
        missing == 0
        and duplicated == 0
        and answered_not_stored == 0
        and minutes_stored == len(distinct)
        and unanswered == 0
        and int(counted[0] or 0) == len(distinct)
        and len(notes) == 2
    )
    line = (
        f"R6 hj212 loggers={loggers} secs={seconds:g} distinct={len(distinct)} frames_sent={frames_sent} "
        f"resent={resent} stored={len(stored)} readings_ok={minutes_stored - wrong_rows} missing={missing} "
        f"duplicated={duplicated} answered={len(answered)} answered_not_stored={answered_not_stored} "
        f"unanswered={unanswered} counted_accepted={counted[0]} counted_duplicates={counted[1]} "
        f"p50_ms={p50:.0f} p99_ms={p99:.0f} {' '.join(notes)} took={elapsed:.0f}s {'PASS' if ok else 'FAIL'}"
    )
    return Result(line=line, ok=ok)
