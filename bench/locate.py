"""Locate throughput on 100,000 grid cells: the service vs the bare ST_Covers query.

value = points/s through gridgov.selectors.locate_lonlat (no HTTP; the API's path), baseline = points/s of the
bare `ST_Covers` lookup on the grid-cell table through psycopg, same points, same run.
Goal: the service reaches at least 0.8 of the SQL floor.
"""

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402

N_POINTS = 2000
SCALE = 100_000


def main() -> None:
    url = benchlib.bench_database_url(SCALE)
    benchlib.setup_django(url)
    import psycopg
    from django.db import connection

    from gridgov.selectors import locate_lonlat

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM gridgov_gridcell")
        cells = cur.fetchone()[0]
        # Sample points inside random cells (ST_PointOnSurface), so every lookup succeeds.
        cur.execute(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM gridgov_gridcell "
            "ORDER BY md5(code) LIMIT %s) s",
            [N_POINTS],
        )
        points = cur.fetchall()
    random.Random(7).shuffle(points)
    print(f"locate bench: {cells} cells, {len(points)} points", file=sys.stderr)

    def run_service():
        t0 = time.perf_counter()
        for x, y in points:
            locate_lonlat(x, y)
        return time.perf_counter() - t0

    raw = psycopg.connect(url.replace("postgres://", "postgresql://", 1))
    sql = "SELECT id FROM gridgov_gridcell WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) LIMIT 1"

    def run_sql():
        t0 = time.perf_counter()
        with raw.cursor() as cur:
            for x, y in points:
                cur.execute(sql, (x, y))
                cur.fetchone()
        return time.perf_counter() - t0

    run_service(), run_sql()  # warm caches on both paths
    # Interleave rounds so drift on a shared machine hits both sides alike; the median of each.
    service_t, sql_t = [], []
    for _ in range(5):
        service_t.append(run_service())
        sql_t.append(run_sql())
    service_rate = len(points) / statistics.median(service_t)
    sql_rate = len(points) / statistics.median(sql_t)
    ratio = service_rate / sql_rate
    benchlib.report("locate", value=service_rate, baseline=sql_rate, ratio=ratio, goal=">=0.8", passed=ratio >= 0.8)


if __name__ == "__main__":
    main()
