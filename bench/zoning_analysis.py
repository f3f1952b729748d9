"""Site analysis of a 1 km² polygon against 10,000 control units: the service vs bare SQL.

value = median seconds of zoning.analysis.site_analyze (no HTTP); baseline = median seconds of
the bare intersection query (codes and overlap areas) on the same table, same sites, same
connection. The 10,000 units are made inside a transaction that is rolled back, so the dev
database keeps its demo units. Goal: ≤ 1.5× the floor.
"""

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402

N_UNITS = 10_000
ROUNDS = 300


class Rollback(Exception):
    pass


def main() -> None:
    benchlib.setup_django()
    from django.contrib.gis.geos import Polygon
    from django.db import connection, transaction

    from zoning.analysis import site_analyze

    # A 100 × 100 grid of units over 119.6–120.6°E, 29.8–30.4°N (≈ 0.97 km × 0.67 km each).
    make = """
        INSERT INTO zoning_controlunit (code, name, category, geom, access_list, version, synthetic, updated_at)
        SELECT 'ZH330127' || '3' || lpad(((i * 100 + j))::text, 4, '0'), 'bench unit', 'general',
               ST_Multi(ST_MakeEnvelope(119.6 + i * 0.01, 29.8 + j * 0.006, 119.61 + i * 0.01, 29.806 + j * 0.006, 4326)),
               '[{"dimension": "spatial", "text": "bench"}]'::jsonb, 1, true, now()
          FROM generate_series(0, 99) i, generate_series(0, 99) j
    """
    sites = []
    for k in range(ROUNDS):
        x = 119.7 + (k * 0.0137) % 0.8
        y = 29.85 + (k * 0.0071) % 0.5
        # ≈ 1 km × 1 km at 30°N: 0.0104° of longitude, 0.009° of latitude.
        sites.append(Polygon.from_bbox((x, y, x + 0.0104, y + 0.009)))
        sites[-1].srid = 4326
    bare = """SELECT code, ST_Area(ST_Intersection(geom, g)::geography)
                FROM zoning_controlunit, (SELECT %s::geometry g) s WHERE ST_Intersects(geom, g)"""
    try:
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute("DELETE FROM zoning_controlunit")
                cur.execute("DELETE FROM zoning_zone")
                cur.execute(make)
                cur.execute("ANALYZE zoning_controlunit")
                cur.execute("SELECT count(*) FROM zoning_controlunit")
                units = cur.fetchone()[0]
            print(f"zoning analysis bench: {units} units, {len(sites)} 1-km² sites", file=sys.stderr)
            service_t, sql_t = [], []
            for _ in range(2):  # warm both paths, then interleave so noise hits both alike
                for s in sites[:20]:
                    site_analyze(s)
            for s in sites:
                t0 = time.perf_counter()
                site_analyze(s)
                service_t.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                with connection.cursor() as cur:
                    cur.execute(bare, [s.hexewkb.decode()])
                    cur.fetchall()
                sql_t.append(time.perf_counter() - t0)
            raise Rollback
    except Rollback:
        pass
    value, baseline = statistics.median(service_t), statistics.median(sql_t)
    ratio = value / baseline
    benchlib.report("zoning_analysis", value=value, baseline=baseline, goal="<=1.5x", passed=ratio <= 1.5, ratio=ratio)


if __name__ == "__main__":
    main()
