"""GridGov's OGC API and tiles against tipg, the peer PostGIS server, on the same rows.

Both serve the 100,000-cell benchmark database (benchlib.bench_database_url) on loopback under
gunicorn with two workers: GridGov as in production (sync WSGI, gthread with 2 threads a worker,
DEBUG off), tipg 1.6.1 (pinned in requirements-dev.txt) with its uvicorn workers, limited to the
two tables compared. Clients send what a browser or MapLibre sends (`Accept-Encoding: gzip,
deflate, br`), keep their connections, and run 4 at a time. Each round runs every measure on
both servers, in alternating order; a measure's value is the median over rounds of each round's
median latency. One BENCH line per measure, value = GridGov, baseline = tipg, ratio = GridGov /
tipg (lower is better):

  ogc_tiles_z12/13/14   grid-cell tiles, same attributes (tipg: properties=code,level,synthetic)  ≤ 0.6
  ogc_units_page        control units, limit=100 (all 52 large polygons)                         ≤ 0.8
  ogc_units_bbox        control units in 40 boxes of 0.05°                                        ≤ 0.8
  ogc_item              one control unit, 60 different ones                                       ≤ 0.8
  ogc_cells_page        grid cells, limit=100 at 30 offsets, same attributes                      ≤ 0.8
  ogc_tile_bytes        compressed bytes of the z12 tiles, same attributes                        ≤ 1.0

OGC_BENCH_ROUNDS (default 5) sets the rounds. The bare-SQL floors are bench/zoning_tiles.py.
"""

from __future__ import annotations

import math
import os
import random
import secrets
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402

SCALE = 100_000
ROUNDS = int(os.environ.get("OGC_BENCH_ROUNDS", "5"))
CONCURRENCY = 4
HEADERS = {"Accept-Encoding": "gzip, deflate, br", "Accept": "application/geo+json, application/json, */*"}
TILE_PROPS = "code,level,synthetic"
CELL_PROPS = "code,name,level,township_id,synthetic"  # what GridGov's grid-cells items carry
UNIT_PROPS = "code,name,category,version,synthetic,updated_at"
# gridgov_gridcell has two geometry columns: `geom` (EPSG:4490/4326, what the table is) and the
# generated Web Mercator copy that GridGov's tiles read (gridgov migration 0004). tipg is told
# to use `geom`, as it would serve the table to a user who did not know of the copy.
TIPG_GEOM = "geom-column=geom"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180.0) / 360.0 * n), int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)


def workload(url: str) -> dict[str, tuple[list[str], list[str]]]:
    """Per measure: (GridGov paths, tipg paths), the same rows in the same order."""
    import psycopg

    rng = random.Random(18)
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as conn:
        points = conn.execute(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM gridgov_gridcell "
            "ORDER BY md5(code) LIMIT 400) s"
        ).fetchall()
        units = conn.execute(
            "SELECT id, code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM zoning_controlunit"
        ).fetchall()
        cells = conn.execute("SELECT count(*) FROM gridgov_gridcell").fetchone()[0]
    work: dict[str, tuple[list[str], list[str]]] = {}
    for z in (12, 13, 14):
        tiles = list(dict.fromkeys(tile_of(*rng.choice(points), z) for _ in range(200)))[:40]
        work[f"ogc_tiles_z{z}"] = (
            [f"/tiles/grid-cells/{z}/{x}/{y}.pbf" for x, y in tiles],
            [
                f"/collections/public.gridgov_gridcell/tiles/WebMercatorQuad/{z}/{x}/{y}?properties={TILE_PROPS}&{TIPG_GEOM}"
                for x, y in tiles
            ],
        )
    work["ogc_units_page"] = (
        ["/ogc/collections/control-units/items?limit=100"] * 12,
        [f"/collections/public.zoning_controlunit/items?limit=100&properties={UNIT_PROPS}"] * 12,
    )
    boxes = []
    for _ in range(40):
        _, _, x, y = rng.choice(units)
        x, y = x + rng.uniform(-0.05, 0.05), y + rng.uniform(-0.05, 0.05)
        boxes.append(f"{x - 0.025:.5f},{y - 0.025:.5f},{x + 0.025:.5f},{y + 0.025:.5f}")
    work["ogc_units_bbox"] = (
        [f"/ogc/collections/control-units/items?limit=100&bbox={b}" for b in boxes],
        [f"/collections/public.zoning_controlunit/items?limit=100&bbox={b}&properties={UNIT_PROPS}" for b in boxes],
    )
    chosen = [rng.choice(units) for _ in range(60)]
    work["ogc_item"] = (
        [f"/ogc/collections/control-units/items/{code}" for _, code, _, _ in chosen],
        [f"/collections/public.zoning_controlunit/items/{pk}?properties={UNIT_PROPS}" for pk, _, _, _ in chosen],
    )
    offsets = [rng.randrange(0, cells - 100) for _ in range(30)]
    work["ogc_cells_page"] = (
        [f"/ogc/collections/grid-cells/items?limit=100&offset={o}" for o in offsets],
        [
            f"/collections/public.gridgov_gridcell/items?limit=100&offset={o}&properties={CELL_PROPS}&{TIPG_GEOM}"
            for o in offsets
        ],
    )
    return work


def start_servers(url: str) -> tuple:
    gridgov_port, tipg_port = benchlib.free_port(), benchlib.free_port()
    gridgov = benchlib.start_gunicorn(
        "gridgov.wsgi:application",
        port=gridgov_port,
        log_name="bench-ogc-gridgov.log",
        extra=("-k", "gthread", "--threads", "2"),
        env={
            "DATABASE_URL": url,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
        },
    )
    tipg = benchlib.start_gunicorn(
        "tipg.main:app",
        port=tipg_port,
        log_name="bench-ogc-tipg.log",
        extra=("-k", "uvicorn_worker.UvicornWorker"),
        env={
            "DATABASE_URL": url.replace("postgres://", "postgresql://", 1),
            "TIPG_DB_SCHEMAS": '["public"]',
            "TIPG_DB_TABLES": '["public.gridgov_gridcell", "public.zoning_controlunit"]',
            "TIPG_DB_EXCLUDE_FUNCTION_SCHEMAS": '["public"]',
            "TIPG_MAX_FEATURES_PER_QUERY": "10000",
        },
    )
    return (gridgov, gridgov_port), (tipg, tipg_port)


def p50_ms(results) -> float:
    bad = [r for r in results if r[1] != 200]
    if bad:
        raise RuntimeError(f"{len(bad)} failed requests (status {bad[0][1]})")
    return statistics.median(r[0] for r in results) * 1000


def main() -> None:
    url = benchlib.bench_database_url(SCALE)
    work = workload(url)
    (gridgov, gport), (tipg, tport) = start_servers(url)
    try:
        for ours, theirs in work.values():  # warm both: caches, connections, plans
            benchlib.fetch_all(gport, ours, headers=HEADERS, concurrency=CONCURRENCY)
            benchlib.fetch_all(tport, theirs, headers=HEADERS, concurrency=CONCURRENCY)
        rounds: dict[str, list[tuple[float, float]]] = {m: [] for m in work}
        for r in range(ROUNDS):
            for measure, (ours, theirs) in work.items():
                order = [("g", gport, ours), ("t", tport, theirs)]
                if r % 2:
                    order.reverse()
                got = {
                    key: p50_ms(benchlib.fetch_all(port, paths, headers=HEADERS, concurrency=CONCURRENCY))
                    for key, port, paths in order
                }
                rounds[measure].append((got["g"], got["t"]))
        z12 = work["ogc_tiles_z12"]
        sizes = {}
        for label, headers in (("br", HEADERS), ("gzip", {**HEADERS, "Accept-Encoding": "gzip"})):
            ours = sum(r[2] for r in benchlib.fetch_all(gport, z12[0], headers=headers, concurrency=CONCURRENCY))
            theirs = sum(r[2] for r in benchlib.fetch_all(tport, z12[1], headers=headers, concurrency=CONCURRENCY))
            sizes[label] = (ours, theirs)
    finally:
        benchlib.stop(gridgov)
        benchlib.stop(tipg)
    print(
        f"ogc peers: {ROUNDS} rounds, concurrency {CONCURRENCY}; z12 tile bytes gzip-only GridGov {sizes['gzip'][0]} "
        f"tipg {sizes['gzip'][1]}",
        file=sys.stderr,
    )
    goals = {"ogc_tiles_z12": 0.6, "ogc_tiles_z13": 0.6, "ogc_tiles_z14": 0.6}
    for measure, pairs in rounds.items():
        value = statistics.median(g for g, _ in pairs)
        baseline = statistics.median(t for _, t in pairs)
        ratio = value / baseline
        goal = goals.get(measure, 0.8)
        print(f"  {measure}: rounds GridGov/tipg ms " + " ".join(f"{g:.1f}/{t:.1f}" for g, t in pairs), file=sys.stderr)
        benchlib.report(measure, value=value, baseline=baseline, ratio=ratio, goal=f"<={goal}x", passed=ratio <= goal)
    ours, theirs = sizes["br"]
    benchlib.report("ogc_tile_bytes", value=ours, baseline=theirs, goal="<=1.0x", passed=ours <= theirs)


if __name__ == "__main__":
    main()
