"""Shared helpers for benchmarks: timing and the one-line report every bench prints.

Each benchmark measures its own baseline in the same run, because our machines are shared
and noisy: only ratios are comparable between runs.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def report(name: str, *, value: float, baseline: float, goal: str, passed: bool, ratio: float | None = None) -> str:
    """Print the single BENCH line and return it."""
    if ratio is None:
        ratio = value / baseline if baseline else float("inf")
    line = (
        f"BENCH {name} value={value:.6g} baseline={baseline:.6g} ratio={ratio:.3f} "
        f"goal={goal} {'PASS' if passed else 'FAIL'}"
    )
    print(line, flush=True)
    return line


def best_of(fn: Callable[[], object], *, repeat: int = 5) -> float:
    """Return the fastest wall time of `repeat` calls, in seconds (least disturbed by noise)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def bench_database_url(scale: int = 100_000) -> str:
    """Return the URL of a scratch database holding the demo grid at `scale` cells.

    Built once (migrate + load_demo --scale) and reused by later runs; the development
    database is never touched. Named after the scale so benches of different sizes coexist.
    """
    import os
    import subprocess
    import sys
    from pathlib import Path
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    root = Path(__file__).resolve().parent.parent
    base = os.environ.get("DATABASE_URL") or (root / "var" / "database_url").read_text().strip()
    parts = urlsplit(base)
    name = f"gridgov_bench_{scale}"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    for args in (
        ["migrate", "--noinput", "-v", "0"],
        ["createcachetable"],
        ["load_demo", "--scale", str(scale), "--no-accounts", "-v", "0"],
    ):
        subprocess.run(
            [sys.executable, "manage.py", *args], cwd=root, env=env, check=True, stdout=sys.stderr, stderr=sys.stderr
        )
    return url


def setup_django(database_url: str | None = None) -> None:
    """Configure Django for a bench script (optionally against another database)."""
    import os
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    # Production settings: DEBUG on would record every query and slow the hot paths.
    os.environ["DEBUG"] = "0"
    if not os.environ.get("SECRET_KEY"):
        import secrets

        os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgov.settings")
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()


# --- servers and load for HTTP benchmarks (ogc_peers, patrol_submit) --------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(app: str, *, port: int, env: dict, log_name: str, workers: int = 2, extra: tuple = ()):
    """Start `gunicorn <app>` on loopback and wait until it answers; return the process."""
    import http.client
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    log = open(root / "var" / log_name, "w")
    cmd = [str(root / ".venv/bin/gunicorn"), app, "-w", str(workers), "-b", f"127.0.0.1:{port}"]
    cmd += ["--log-level", "warning", "--keep-alive", "30", *extra]
    proc = subprocess.Popen(cmd, cwd=root, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{app} exited; see var/{log_name}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/")
            if conn.getresponse().status < 500:
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"{app} did not start; see var/{log_name}")


def stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except Exception:  # noqa: BLE001  (a stuck worker: make sure it goes)
        proc.kill()
        proc.wait(timeout=10)


def fetch_all(port: int, paths: list[str], *, headers: dict, concurrency: int) -> list[tuple[float, int, int]]:
    """GET every path once with `concurrency` keep-alive clients: (seconds, status, body bytes) each."""
    import http.client
    import threading

    results: list[tuple[float, int, int]] = []
    lock = threading.Lock()
    queue = list(reversed(paths))

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                if not queue:
                    break
                path = queue.pop()
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                body, status = b"", 599
            with lock:
                results.append((time.perf_counter() - t0, status, len(body)))
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
