"""Ingest: minute packets per second through the real HJ 212 receiver into PostgreSQL.

Several hundred simulated loggers (monitoring.simulator, one TCP connection each, a window of
outstanding packets like a logger's send buffer) send minute data (2051, five factors) to the
production receiver (`manage.py hj212_receiver`, its own process) on loopback; a round lasts
until every packet is answered, and answers come only after the commit, so this is packets
stored per second. The baseline, in the same run with rounds interleaved, is a bare COPY of
the same rows straight into the store (no framing, CRC, parsing, checks, ledger or answers).

The data go to a scratch database on the same cluster (`gridgov_bench_monitoring`, migrated,
no demo); the development database is not touched. Goal: ≥ 5,000 packets/s sustained.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchlib import report, setup_django  # noqa: E402

LOGGERS = int(os.environ.get("BENCH_INGEST_LOGGERS", "400"))
PACKETS = int(os.environ.get("BENCH_INGEST_PACKETS", "40"))  # per logger per round
WINDOW = int(os.environ.get("BENCH_INGEST_WINDOW", "20"))
ROUNDS = int(os.environ.get("BENCH_INGEST_ROUNDS", "3"))
PROCESSES = int(os.environ.get("BENCH_INGEST_PROCESSES", "1"))
GOAL = 5000.0
NAME = "gridgov_bench_monitoring"


def scratch_url() -> str:
    """The URL of the scratch database, created and migrated when missing (no demo data)."""
    import psycopg

    base = os.environ.get("DATABASE_URL") or (ROOT / "var" / "database_url").read_text().strip()
    parts = urlsplit(base)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [NAME]).fetchone():
            conn.execute(f'CREATE DATABASE "{NAME}"')
    url = urlunsplit(parts._replace(path=f"/{NAME}"))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=sys.stderr,
        stderr=sys.stderr,
    )
    return url


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process and its children (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children")
    for child in children.read_text().split() if children.exists() else []:
        total += cpu_seconds(int(child))
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loggers(conn, n: int, prefix: str) -> dict[str, int]:
    rows = conn.execute(
        """
        INSERT INTO monitoring_logger (mn, password, kind, name, point, exceedance_rule, min_valid_minutes, active,
                                       synthetic, created_at, accepted, duplicates, rejected)
        SELECT %s || lpad(g::text, 6, '0'), '123456', 'outlet', '基准测试（合成）', ST_SetSRID(ST_MakePoint(120.1, 30.25), 4326),
               'mean', 45, true, true, now(), 0, 0, 0
          FROM generate_series(1, %s) g
        ON CONFLICT (mn) DO UPDATE SET active = true
        RETURNING mn, id
        """,
        [prefix, n],
    ).fetchall()
    return dict(rows)


def main() -> None:
    url = scratch_url()
    setup_django(url)
    import psycopg

    from monitoring import hj212, store
    from monitoring.simulator import Client, SimLogger

    conn = psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True)
    conn.execute("SET TIME ZONE 'Asia/Shanghai'")
    ids = loggers(conn, LOGGERS, "BENCHIN")
    id_list = list(ids.values())

    def clean() -> None:
        for table in ("monitoring_reading", "monitoring_packet", "monitoring_pendinghour"):
            conn.execute(f"DELETE FROM {table} WHERE logger_id = ANY(%s)", [id_list])
        conn.execute("VACUUM ANALYZE monitoring_packet")

    clean()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "0", "SECRET_KEY": "bench-only", "LOG_LEVEL": "WARNING"}
    receiver = subprocess.Popen(
        [sys.executable, "manage.py", "hj212_receiver", "--port", str(port), "--processes", str(PROCESSES)],
        cwd=ROOT,
        env=env,
        stdout=sys.stderr,
        stderr=sys.stderr,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        sims = [SimLogger(mn=mn) for mn in ids]
        start = dt.datetime.now().replace(second=0, microsecond=0) - dt.timedelta(days=2)
        rates, baselines = [], []
        for r in range(ROUNDS):
            first = start + dt.timedelta(minutes=r * PACKETS)
            frames = [[s.minute_frame(first + dt.timedelta(minutes=k)) for k in range(PACKETS)] for s in sims]
            # rows of the same packets, for the bare COPY
            rows = []
            for s, logger_frames in zip(sims, frames, strict=True):
                for k, (_qn, frame) in enumerate(logger_frames):
                    t = (first + dt.timedelta(minutes=k)).replace(tzinfo=store.LOCAL)
                    packet = hj212.parse_segment(frame[6:-6])
                    rows += [
                        (t, v, lo, hi, cou, ids[s.mn], "M", flag, code)
                        for code, v, lo, hi, cou, flag in packet.stored()
                    ]
            cpu0 = cpu_seconds(receiver.pid)
            rate = asyncio.run(send(Client, frames, port))
            cpu_per_packet = (cpu_seconds(receiver.pid) - cpu0) / (len(frames) * PACKETS)
            rates.append(rate)
            clean()
            t0 = time.perf_counter()
            with conn.cursor().copy(store.DIRECT_COPY_SQL) as copy:
                copy.write(store.copy_text(rows))  # the receiver's own COPY text: the floor is the database
            baselines.append(len(frames) * PACKETS / (time.perf_counter() - t0))
            clean()
            print(
                f"round {r + 1}: receiver {rate:.0f} packets/s ({cpu_per_packet * 1e6:.0f} µs of receiver CPU a "
                f"packet), bare COPY {baselines[-1]:.0f} packets/s",
                file=sys.stderr,
            )
    finally:
        receiver.terminate()
        receiver.wait(30)
        conn.close()
    value, baseline = statistics.median(rates), statistics.median(baselines)
    report(
        "monitoring_ingest",
        value=value,
        baseline=baseline,
        ratio=value / baseline,
        goal=f">={GOAL:.0f}packets/s",
        passed=value >= GOAL,
    )


async def send(Client, frames, port: int) -> float:
    clients = []
    for logger_frames in frames:
        client = Client("127.0.0.1", port, resend_after=30, window=WINDOW)
        client.submit(logger_frames)
        clients.append(client)
    total = sum(len(f) for f in frames)
    t0 = time.perf_counter()
    await asyncio.gather(*(c.run(until=time.monotonic() + 300) for c in clients))
    elapsed = time.perf_counter() - t0
    answered = sum(len(c.stats.answered) for c in clients)
    if answered != total:
        raise RuntimeError(f"only {answered} of {total} packets answered")
    return total / elapsed


if __name__ == "__main__":
    main()
