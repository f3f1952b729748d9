"""A city-wide 双随机 draw over 20,000 sources and 500 inspectors vs a bare SQL selection of the same pools.

The sources, credit levels, roster and grid assignments live in copies of their tables in a
scratch schema (bench_sj), found first on the search_path of this connection only, dropped
afterwards: the demo's data is never touched. Timed: freezing the plan's inputs (pool
membership by management class and credit level, the default inspector pool, avoidance from
own grid cells, the previous plan and declared conflicts) and running gridgov-draw-1 on them
(HMAC ranking of every pool, pairing under avoidance). Not timed: saving the drawn rows.
Baseline: one SQL SELECT of the same sources with their class and level. Rounds interleaved,
median of rounds. Goal: ≤ 3× the bare SELECT.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from benchlib import report, setup_django  # noqa: E402

setup_django()  # production settings (DEBUG off: no query log in the timed path)

from django.db import connection, transaction  # noqa: E402

SOURCES = int(os.environ.get("SJ_BENCH_SOURCES", "20000"))
INSPECTORS = int(os.environ.get("SJ_BENCH_INSPECTORS", "500"))
ROUNDS = 5
SCHEMA = "bench_sj"
TABLES = [
    "sources_enterprise",
    "credit_creditstanding",
    "gridgov_user",
    "gridgov_gridassignment",
    "inspections_inspectorduty",
    "inspections_declaredconflict",
    "inspections_plan",
    "inspections_plan_scope",
    "inspections_plan_inspectors",
    "inspections_pool",
    "inspections_inspection",
    "inspections_inspectioninspector",
]
POOLS = [("", ["yellow", "red", "black"], "1"), ("key", [], "0.25"), ("", [], "0.05")]
BARE_SQL = """
SELECT e.credit_code, e.management_class, COALESCE(s.level, 'green')
  FROM sources_enterprise e LEFT JOIN credit_creditstanding s ON s.credit_code = e.credit_code
 WHERE e.district_id = ANY(%s) OR e.township_id = ANY(%s)
 ORDER BY e.credit_code
"""


def setup(c) -> int:
    c.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    c.execute(f"CREATE SCHEMA {SCHEMA}")
    for t in TABLES:
        c.execute(f"CREATE TABLE {SCHEMA}.{t} (LIKE public.{t} INCLUDING ALL)")
    c.execute("SELECT id FROM gridgov_adminarea WHERE level = 'district' ORDER BY code")
    districts = [r[0] for r in c.fetchall()]
    c.execute("SELECT count(*) FROM gridgov_gridcell")
    if not c.fetchone()[0]:
        raise SystemExit("no grid cells: load the demo first (manage.py load_demo)")
    s = SCHEMA
    # Synthetic sources (合成) spread over the city's cells (about four a cell, as in a city of
    # 20,000 sources and 5,000 cells): 20 % key, 50 % simplified, 30 % registration.
    c.execute(
        f"""
        WITH cells AS (SELECT c.id, c.code, c.township_id, t.parent_id AS district_id,
                              row_number() OVER (ORDER BY c.code) - 1 AS n
                         FROM gridgov_gridcell c JOIN gridgov_adminarea t ON t.id = c.township_id),
             k AS (SELECT count(*) AS total FROM cells)
        INSERT INTO {s}.sources_enterprise (credit_code, name, industry_code, management_class, point, crs_note,
                district_id, township_id, grid_cell_id, grid_cell_code, zone_hits, organization_id, synthetic,
                created_at, updated_at)
        SELECT '91330106B' || lpad(g::text, 9, '0'), '基准企业' || g || '（合成）', '2614',
               CASE WHEN g %% 10 < 2 THEN 'key' WHEN g %% 10 < 7 THEN 'simplified' ELSE 'registration' END,
               ST_SetSRID(ST_MakePoint(120.1, 30.25), 4326), 'wgs84', cells.district_id, cells.township_id, cells.id,
               cells.code,
               '[]', 100000000 + g, true, now(), now()
          FROM generate_series(1, %s) AS g, k JOIN cells ON true
         WHERE cells.n = g %% k.total
        """,
        [SOURCES],
    )
    c.execute(
        f"""INSERT INTO {s}.credit_creditstanding (credit_code, score, level, level_since, updated_at)
            SELECT credit_code, 4, CASE WHEN random() < 0.5 THEN 'yellow' ELSE 'red' END, now()::date, now()
              FROM {s}.sources_enterprise WHERE random() < 0.05"""
    )
    c.execute(
        f"""INSERT INTO {s}.gridgov_user (password, is_superuser, username, first_name, last_name, email, is_staff,
                is_active, date_joined, role, phone)
            SELECT '!', false, 'bench_i' || lpad(g::text, 4, '0'), '执法员' || g || '（合成）', '', '', false, true, now(),
                   'grid_officer', '' FROM generate_series(1, %s) AS g""",
        [INSPECTORS],
    )
    c.execute(
        f"""INSERT INTO {s}.inspections_inspectorduty (user_id, area_id, certificate, active)
            SELECT u.id, d, '', true FROM {s}.gridgov_user u, unnest(%s::bigint[]) AS d""",
        [districts],
    )
    # Each inspector works two cells that hold sources (own-cell avoidance), some declared a conflict.
    c.execute(
        f"""INSERT INTO {s}.gridgov_gridassignment (cell_id, user_id, duty)
            SELECT DISTINCT ON (e.grid_cell_id, u.id) e.grid_cell_id, u.id, 'officer'
              FROM {s}.gridgov_user u CROSS JOIN generate_series(1, 2) AS r
              JOIN {s}.sources_enterprise e
                ON e.id = (SELECT min(id) FROM {s}.sources_enterprise) + (u.id * 7 + r * 1013) %% %s""",
        [SOURCES],
    )
    c.execute(
        f"""INSERT INTO {s}.inspections_declaredconflict (user_id, credit_code, reason, declared_at)
            SELECT u.id, e.credit_code, '基准（合成）', now()
              FROM {s}.gridgov_user u JOIN {s}.sources_enterprise e
                ON e.id = (SELECT min(id) FROM {s}.sources_enterprise) + (u.id * 37) %% %s
             WHERE u.id %% 5 = 0""",
        [SOURCES],
    )
    c.execute(
        f"""INSERT INTO {s}.inspections_plan (name, period_start, period_end, per_inspection, publish_days, status,
                created_by_id, created_at, updated_at, algorithm, seed, seed_sha256, inputs_sha256, synthetic)
            SELECT '基准计划（合成）', now()::date, now()::date + 90, 2, 20, 'draft', min(id), now(), now(), '', '', '', '',
                   true FROM {s}.gridgov_user RETURNING id"""
    )
    plan = c.fetchone()[0]
    for district in districts:
        c.execute(f"INSERT INTO {s}.inspections_plan_scope (plan_id, adminarea_id) VALUES (%s, %s)", [plan, district])
    for n, (management_class, levels, ratio) in enumerate(POOLS):
        c.execute(
            f"INSERT INTO {s}.inspections_pool (plan_id, position, management_class, credit_levels, ratio) VALUES (%s, %s, %s, %s, %s)",
            [plan, n, management_class, levels, ratio],
        )
    for t in TABLES:
        c.execute(f"ANALYZE {s}.{t}")
    return plan


def main() -> None:
    from inspections import draw as algorithm
    from inspections.models import Plan
    from inspections.services import plan_inputs

    seed = "bench-" + "0" * 58
    with transaction.atomic(), connection.cursor() as c:
        c.execute(f"SET LOCAL search_path = {SCHEMA}, public")
        try:
            plan_id = setup(c)
            plan = Plan.objects.get(pk=plan_id)
            district = [a.pk for a in plan.scope.all()]
            ours, bare, drawn, rows = [], [], 0, 0
            for _ in range(ROUNDS):
                t0 = time.perf_counter()
                c.execute(BARE_SQL, [district, []])
                rows = len(c.fetchall())
                bare.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                inputs, _keys = plan_inputs(Plan.objects.get(pk=plan_id))
                drawn = len(algorithm.draw(seed, inputs))
                ours.append(time.perf_counter() - t0)
            sources = sum(len(p["sources"]) for p in inputs["pools"])
            avoid = len(inputs["avoid"])
        finally:
            c.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    value, baseline = statistics.median(ours), statistics.median(bare)
    print(
        f"draw: {sources} sources, {len(inputs['inspectors'])} inspectors, {avoid} avoidance pairs, {drawn} drawn in "
        f"{value * 1000:.0f} ms; bare SELECT of {rows} rows in {baseline * 1000:.0f} ms (median of {ROUNDS} interleaved rounds)",
        file=sys.stderr,
    )
    ratio = value / baseline if baseline else float("inf")
    ok = ratio <= 3.0 and sources == rows == SOURCES
    report("inspections_draw", value=value, baseline=baseline, ratio=ratio, goal="<=3x", passed=ok)


if __name__ == "__main__":
    main()
