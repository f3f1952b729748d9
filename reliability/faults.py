"""R2, faults: the R1 load while our PostGIS restarts twice and one gunicorn worker is killed.

The server is not restarted: persistent connections with health checks (CONN_MAX_AGE=60,
conn_health_checks=True) must reconnect by themselves, and gunicorn's master respawns the
worker. Clients retry with backoff; afterwards lost = duplicated = 0 and /healthz answers.
5xx during an outage are counted and shown, not failed on (the database is down); a 5xx
more than 5 s after the last fault began fails the run (no recovery).
"""

from __future__ import annotations

import time

from .load import Result, run_load


def run_faults(*, stack, clients: int, seconds: float) -> Result:
    cluster, server = stack.cluster, stack.server

    def inject(stop_at: float, fault_at: list[float]) -> list[str]:
        start = stop_at - seconds
        notes = []
        for frac, what in [(0.2, "pg_restart"), (0.45, "kill_worker"), (0.7, "pg_restart")]:
            time.sleep(max(0.0, start + seconds * frac - time.monotonic()))
            t0 = time.monotonic()
            fault_at.append(t0)
            if what == "pg_restart":
                cluster.restart()
            else:
                server.kill_worker()
            notes.append(f"{what}@{t0 - start:.0f}s")
        workers = len(server.worker_pids())
        notes.append(f"workers_after={workers}")
        return notes

    result = run_load(
        name="R2",
        label="faults",
        base=server.base,
        database_url=cluster.url,
        clients=clients,
        seconds=seconds,
        during=inject,
        # Requests wait out a restart (connections opened with backoff, idempotent writes
        # redone), so even during the faults no answer may be a 5xx.
        allow_5xx=False,
    )
    alive = server.proc.poll() is None and len(server.worker_pids()) == server.workers
    if not alive:
        result = Result(line=result.line.replace(" PASS", " FAIL") + " (gunicorn did not respawn)", ok=False)
    return result
