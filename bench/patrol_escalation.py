"""Escalation run over 100,000 open cases with 10% overdue vs the bare SQL UPDATE.

The cases live in copies of the patrol tables in a scratch schema (bench_patrol), found first
on the search_path of this connection only; the schema is dropped afterwards, so the demo's
cases and their append-only audit rows are never touched. The escalation service does more
than the bare UPDATE (audit rows, notices to supervisors, the next escalation time) in one
statement. Goal: ≤ 3× the bare UPDATE.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import benchlib  # noqa: E402

benchlib.setup_django()  # the development database, DEBUG off

from django.db import connection, transaction  # noqa: E402

report = benchlib.report

N = int(os.environ.get("PATROL_BENCH_CASES", "100000"))
OVERDUE = 0.10
SCHEMA = "bench_patrol_esc"
TABLES = ["patrol_issue", "patrol_issueevent", "patrol_notification"]
REPEAT = 3

BARE_SQL = """
UPDATE patrol_issue SET escalation_level = escalation_level + 1, escalated_at = now()
 WHERE deadline < now() AND status IN ('dispatched', 'rectifying') AND escalation_level < 2
"""


def setup() -> None:
    with connection.cursor() as c:
        c.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        c.execute(f"CREATE SCHEMA {SCHEMA}")
        for t in TABLES:
            c.execute(f"CREATE TABLE {SCHEMA}.{t} (LIKE public.{t} INCLUDING ALL)")
        c.execute("SELECT id, parent_id FROM gridgov_adminarea WHERE code = '330106001'")
        township_id, district_id = c.fetchone()
        # Synthetic open cases spread over 西湖区; every tenth one is past its deadline.
        c.execute(
            f"""
            INSERT INTO {SCHEMA}.patrol_issue (
                client_uuid, content_digest, token, source, category, description, point, accuracy_m, crs_note,
                contact, grid_cell_code, zone_hits, township_id, district_id, status, priority, deadline,
                deadline_overridden, escalation_level, is_public, public_description, reported_at, updated_at)
            SELECT gen_random_uuid(), '', gen_random_uuid(), 'patrol', 'air.dust', '基准测试（合成）',
                   ST_SetSRID(ST_MakePoint(120.05 + random() * 0.1, 30.2 + random() * 0.1), 4326), 10, '',
                   '{{}}', '', '[]', %s, %s, CASE WHEN mod(g, 2) = 0 THEN 'dispatched' ELSE 'rectifying' END, 'normal',
                   CASE WHEN mod(g, 10) = 0 THEN now() - interval '1 day' ELSE now() + interval '5 days' END,
                   false, 0, false, '', now() - interval '10 days', now()
              FROM generate_series(1, %s) AS g
            """,
            [township_id, district_id, N],
        )
        c.execute(f"ANALYZE {SCHEMA}.patrol_issue")


def reset() -> None:
    with connection.cursor() as c:
        c.execute(
            f"UPDATE {SCHEMA}.patrol_issue SET escalation_level = 0, escalated_at = NULL, "
            "next_escalation_at = NULL WHERE escalation_level > 0"
        )
        c.execute(f"TRUNCATE {SCHEMA}.patrol_issueevent, {SCHEMA}.patrol_notification")


def timed(fn) -> tuple[float, int]:
    reset()
    with transaction.atomic(), connection.cursor() as c:
        c.execute(f"SET LOCAL search_path = {SCHEMA}, public")
        t0 = time.perf_counter()
        n = fn(c)
        elapsed = time.perf_counter() - t0
    return elapsed, n


def main() -> None:
    from patrol.actions.escalation import issues_escalate_overdue

    setup()
    try:

        def service(c):
            return issues_escalate_overdue()

        def bare(c):
            c.execute(BARE_SQL)
            return c.rowcount

        service_t, bare_t = [], []
        n_service = n_bare = 0
        for _ in range(REPEAT):  # interleaved rounds; the median of each side
            t, n_bare = timed(bare)
            bare_t.append(t)
            t, n_service = timed(service)
            service_t.append(t)
        service_p50, bare_p50 = statistics.median(service_t), statistics.median(bare_t)
        with connection.cursor() as c:
            c.execute(f"SELECT count(*) FROM {SCHEMA}.patrol_issueevent")
            events = c.fetchone()[0]
    finally:
        with connection.cursor() as c:
            c.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    print(
        f"escalation: {n_service} cases escalated ({events} audit rows) in {service_p50 * 1000:.0f} ms; "
        f"bare UPDATE: {n_bare} rows in {bare_p50 * 1000:.0f} ms (median of {REPEAT} rounds, {N} open cases)",
        file=sys.stderr,
    )
    ratio = service_p50 / bare_p50 if bare_p50 else float("inf")
    ok = ratio <= 3.0 and n_service == n_bare == int(N * OVERDUE)
    report("patrol_escalation", value=service_p50, baseline=bare_p50, ratio=ratio, goal="<=3x", passed=ok)


if __name__ == "__main__":
    main()
