"""Import of 10,000 control units from a GeoPackage: the zoning import vs ogr2ogr into PostGIS.

value = seconds of zoning.exchange.units_import_path (read with pyogrio, validate every feature:
code, name, polygon, validity, inside the city, no overlaps inside the file or with stored
units, then write units and one version each), run in a transaction that is rolled back so the
dev database keeps its demo units; baseline = seconds of `ogr2ogr -f PostgreSQL` loading the
same file into a scratch schema that is dropped afterwards. Three interleaved rounds, the median
of each side (the machine is shared and noisy). Goal: ≤ 2×.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402

N = 10_000
ROUNDS = int(os.environ.get("ZONING_IMPORT_ROUNDS", "3"))
SCHEMA = "zoning_bench_ogr"


class Rollback(Exception):
    pass


def pg_dsn(url: str) -> str:
    p = urlsplit(url)
    return (
        f"host={p.hostname} port={p.port or 5432} dbname={p.path.lstrip('/')} "
        f"user={unquote(p.username or '')} password={unquote(p.password or '')}"
    )


def main() -> None:
    benchlib.setup_django()
    import geopandas as gpd
    import numpy as np
    import pyogrio
    import shapely
    from django.conf import settings
    from django.db import connection, transaction

    from gridgov.models import AdminArea, User
    from zoning.imports import units_import_path

    city = shapely.from_wkb(bytes(AdminArea.objects.get(code=settings.GRIDGOV_CITY_CODE).geom.wkb))
    shapely.prepare(city)
    xs, ys = np.meshgrid(np.arange(118.9, 120.3, 0.004), np.arange(29.4, 30.2, 0.004))
    boxes = shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + 0.004, ys.ravel() + 0.004)
    boxes = boxes[shapely.covered_by(boxes, city)][:N]
    assert len(boxes) == N, len(boxes)
    frame = gpd.GeoDataFrame(
        {
            "HJZHGKDYBM": [f"ZH3301273{i:04d}" for i in range(N)],
            "HJZHGKDYMC": [f"基准单元{i}" for i in range(N)],
            "ZHGKDYFL": ["一般管控单元"] * N,
            "KJBJYS": ["合理布局"] * N,
            "PWWPFGK": ["达标排放"] * N,
        },
        geometry=boxes,
        crs="EPSG:4490",
    )
    actor = User.objects.filter(is_superuser=True).first() or User.objects.get(username="planner")
    url = (
        os.environ.get("DATABASE_URL")
        or (Path(__file__).resolve().parent.parent / "var" / "database_url").read_text().strip()
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "units.gpkg"
        pyogrio.write_dataframe(frame, path, driver="GPKG", layer="units")
        print(f"import bench: {N} polygons in {path.stat().st_size / 1e6:.1f} MB GeoPackage", file=sys.stderr)

        def run_ogr2ogr() -> float:
            """Baseline: ogr2ogr into a scratch schema (dropped afterwards)."""
            with connection.cursor() as cur:
                cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}")
            try:
                t0 = time.perf_counter()
                subprocess.run(
                    [
                        "ogr2ogr",
                        "-f",
                        "PostgreSQL",
                        f"PG:{pg_dsn(url)}",
                        str(path),
                        "-nln",
                        f"{SCHEMA}.units",
                        "-nlt",
                        "MULTIPOLYGON",
                        "-t_srs",
                        "EPSG:4326",
                        "-lco",
                        "SPATIAL_INDEX=GIST",
                    ],
                    check=True,
                    stdout=sys.stderr,
                    stderr=sys.stderr,
                )
                return time.perf_counter() - t0
            finally:
                with connection.cursor() as cur:
                    cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")

        def run_import() -> float:
            """The product's import, in a transaction rolled back so the dev database keeps its units."""
            try:
                with transaction.atomic():
                    with connection.cursor() as cur:
                        cur.execute("DELETE FROM zoning_controlunit")
                    t0 = time.perf_counter()
                    result = units_import_path(path=path, reason="基准测试导入", dry_run=False, actor=actor)
                    elapsed = time.perf_counter() - t0
                    assert not result.errors and len(result.created) + len(result.updated) == N, result.errors[:3]
                    raise Rollback(elapsed)
            except Rollback as done:
                return done.args[0]

        # Interleaved rounds so load spikes on a shared machine hit both sides; the median of each.
        baselines, values = [], []
        for _ in range(ROUNDS):
            baselines.append(run_ogr2ogr())
            values.append(run_import())
        print(
            f"ogr2ogr {[round(b, 3) for b in baselines]} s, import {[round(v, 3) for v in values]} s", file=sys.stderr
        )
        baseline, value = statistics.median(baselines), statistics.median(values)
    ratio = value / baseline
    benchlib.report("zoning_import", value=value, baseline=baseline, goal="<=2x", passed=ratio <= 2.0, ratio=ratio)


if __name__ == "__main__":
    main()
