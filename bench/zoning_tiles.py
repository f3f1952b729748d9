"""Vector tiles of `grid-cells` at zoom 12–14 on 100,000 cells: render_tile vs bare ST_AsMVT.

value = p50 seconds of gridgov.tiles.render_tile (the code behind /tiles/…, no HTTP);
baseline = p50 seconds of the same ST_AsMVT/ST_AsMVTGeom query (rows chosen by && and then
ST_Intersects with the tile), prepared, through psycopg, same tiles. Rounds alternate the two
(the order swapped each round); each side's figure is the median of its rounds' medians. The
100k-cell grid lives in the shared scratch database of bench/benchlib.py (`gridgov_bench_100000`,
built once and reused by the locate bench), never the dev database. Goal: ≤ 1.3× the floor.
The comparison with a peer server (tipg) is bench/ogc_peers.py.
"""

import math
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402

SCALE = 100_000
TILES_PER_ZOOM = 60
ROUNDS = 5


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


BARE = """
    SELECT ST_AsMVT(t, 'grid-cells', 4096, 'geom') FROM (
        SELECT ST_AsMVTGeom(ST_Transform(c.geom, 3857), e.merc, 4096, 64, true) AS geom, c.code, c.level, c.synthetic
          FROM (SELECT ST_TileEnvelope(%(z)s::int, %(x)s::int, %(y)s::int) AS merc,
                       ST_Transform(ST_TileEnvelope(%(z)s::int, %(x)s::int, %(y)s::int), 4326) AS wgs OFFSET 0) e,
               gridgov_gridcell c
         WHERE c.geom && e.wgs AND (c.geom @ e.wgs OR ST_Intersects(c.geom, e.wgs))
        OFFSET 0  -- each feature clipped once (gridgov/tiles.py says why)
    ) AS t WHERE t.geom IS NOT NULL
"""


def main() -> None:
    url = benchlib.bench_database_url(SCALE)
    benchlib.setup_django(url)
    import psycopg
    from django.db import connection

    from gridgov.tiles import render_tile

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM gridgov_gridcell")
        cells = cur.fetchone()[0]
        cur.execute(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM gridgov_gridcell "
            "ORDER BY md5(code) LIMIT 400) s"
        )
        points = cur.fetchall()
    rng = random.Random(11)
    tiles = []
    for z in (12, 13, 14):
        chosen = {tile_of(*rng.choice(points), z) for _ in range(TILES_PER_ZOOM * 3)}
        tiles += [(z, x, y) for x, y in list(chosen)[:TILES_PER_ZOOM]]
    print(f"tiles bench: {cells} cells, {len(tiles)} tiles at z12–14", file=sys.stderr)
    raw = psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True)
    for z, x, y in tiles[:20]:  # warm caches for both
        render_tile("grid-cells", z, x, y)
        raw.execute(BARE, {"z": z, "x": x, "y": y}, prepare=True).fetchone()

    def service_round() -> float:
        times = []
        for z, x, y in tiles:
            t0 = time.perf_counter()
            render_tile("grid-cells", z, x, y)
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    def bare_round() -> float:
        times = []
        for z, x, y in tiles:
            t0 = time.perf_counter()
            raw.execute(BARE, {"z": z, "x": x, "y": y}, prepare=True).fetchone()
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    service_t, bare_t = [], []
    for r in range(ROUNDS):
        if r % 2:
            bare_t.append(bare_round())
            service_t.append(service_round())
        else:
            service_t.append(service_round())
            bare_t.append(bare_round())
    raw.close()
    value, baseline = statistics.median(service_t), statistics.median(bare_t)
    ratio = value / baseline
    benchlib.report("zoning_tiles", value=value, baseline=baseline, goal="<=1.3x", passed=ratio <= 1.3, ratio=ratio)


if __name__ == "__main__":
    main()
