"""Submission throughput: POST /api/patrol/issues/ vs a bare Django view inserting the same row.

Both are served the same way: gunicorn, 2 sync workers, on loopback, DEBUG off, hit by 32
concurrent keep-alive clients. The two alternate in rounds (ROUNDS of SECONDS / ROUNDS each,
the order swapped every round) so that a change of load on the shared machine hits both; each
side's figure is the median of its rounds. The case rows go to copies of the patrol tables in a
scratch schema (bench_patrol), dropped afterwards. Goal: ≥ 0.6 of the baseline.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import benchlib  # noqa: E402

benchlib.setup_django()  # the development database, DEBUG off

from django.db import connection  # noqa: E402

report = benchlib.report

CLIENTS = int(os.environ.get("PATROL_BENCH_CLIENTS", "32"))
SECONDS = float(os.environ.get("PATROL_BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("PATROL_BENCH_ROUNDS", "5"))
SCHEMA = "bench_patrol"
TABLES = ["patrol_issue", "patrol_issueevent", "patrol_issue_photos", "patrol_notification"]


def scratch_schema_create() -> None:
    with connection.cursor() as c:
        c.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        c.execute(f"CREATE SCHEMA {SCHEMA}")
        for t in TABLES:
            c.execute(f"CREATE TABLE {SCHEMA}.{t} (LIKE public.{t} INCLUDING ALL)")


def scratch_schema_drop() -> None:
    with connection.cursor() as c:
        c.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


def sample_points(n: int = 400) -> list[tuple[float, float]]:
    from gridgov.models import GridCell

    cells = list(GridCell.objects.filter(township__parent__code="330106").order_by("code")[:n])
    return [(c.geom.point_on_surface.y, c.geom.point_on_surface.x) for c in cells]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "_patrol_settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "PYTHONPATH": f"{ROOT / 'bench'}:{ROOT}",
        "LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "gridgov.wsgi:application",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--keep-alive",
            "30",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(ROOT / "var" / "bench-patrol-gunicorn.log", "w"),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("gunicorn did not start; see var/bench-patrol-gunicorn.log")


def run_load(port: int, path: str, headers: dict, points, seconds: float) -> tuple[float, float, int]:
    """Return (requests/s, p99 seconds, errors) for `seconds` of 32 concurrent clients."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    start_barrier = threading.Barrier(CLIENTS)

    def client(i: int) -> None:
        rng = random.Random(i)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        start_barrier.wait()
        while time.monotonic() < stop:
            lat, lon = rng.choice(points)
            body = json.dumps(
                {
                    "client_uuid": str(uuid.uuid4()),
                    "lat": round(lat, 7),
                    "lon": round(lon, 7),
                    "accuracy_m": 8.0,
                    "category": "air.dust",
                    "description": "基准测试（合成）",
                }
            )
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
                resp = conn.getresponse()
                resp.read()
                ok = resp.status in (200, 201)
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - t0)
            if not ok:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    t_start = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t_start
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else float("inf")
    return (len(latencies) - errors[0]) / elapsed, p99, errors[0]


def main() -> None:
    from rest_framework.authtoken.models import Token

    from gridgov.models import User

    officer = User.objects.get(username="officer")
    token, token_created = Token.objects.get_or_create(user=officer)
    points = sample_points()
    scratch_schema_create()
    port = free_port()
    proc = start_server(port)
    try:
        auth = {"Authorization": f"Token {token.key}"}
        run_load(port, "/api/patrol/issues/", auth, points, 2)  # warm both workers
        run_load(port, "/bench/bare-issue/", {}, points, 2)
        sides = {"api": ("/api/patrol/issues/", auth), "bare": ("/bench/bare-issue/", {})}
        runs: dict[str, list[tuple[float, float, int]]] = {"api": [], "bare": []}
        for r in range(ROUNDS):
            for side in ("api", "bare") if r % 2 == 0 else ("bare", "api"):
                path, headers = sides[side]
                runs[side].append(run_load(port, path, headers, points, SECONDS / ROUNDS))
        (api_rps, api_p99, api_err), (base_rps, base_p99, base_err) = (
            (
                statistics.median(r[0] for r in runs[s]),
                statistics.median(r[1] for r in runs[s]),
                sum(r[2] for r in runs[s]),
            )
            for s in ("api", "bare")
        )
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        scratch_schema_drop()
        if token_created:
            token.delete()
    print(
        f"patrol submit: {api_rps:.1f} req/s p99 {api_p99 * 1000:.0f} ms ({api_err} errors); "
        f"bare view: {base_rps:.1f} req/s p99 {base_p99 * 1000:.0f} ms ({base_err} errors); "
        f"medians of {ROUNDS} alternating rounds",
        file=sys.stderr,
    )
    ratio = api_rps / base_rps if base_rps else 0.0
    report(
        "patrol_submit",
        value=api_rps,
        baseline=base_rps,
        ratio=ratio,
        goal=">=0.6",
        passed=ratio >= 0.6 and api_err == 0 and base_err == 0,
    )


if __name__ == "__main__":
    main()
