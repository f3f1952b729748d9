"""5,000 square cells over a 100 Mpix change raster: summarize_by_zones (method="auto": the
cells do not overlap, so rasterize-once + bincount; exactextract is the path for overlapping
or small zones) vs python-rasterstats zonal_stats(categorical=True) on the same data.
value = our median time, baseline = rasterstats' median time (rounds interleaved, ``ROUNDS``,
default 3), ratio = value/baseline, goal <= 0.2."""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
import rasterio  # noqa: E402
import shapely  # noqa: E402
from benchlib import report  # noqa: E402
from pyproj import Transformer  # noqa: E402
from rasterstats import zonal_stats  # noqa: E402

from geodata.raster.detect import detect_changes  # noqa: E402
from geodata.raster.synth import cached_scene_pair  # noqa: E402
from geodata.raster.zonal import summarize_by_zones  # noqa: E402


def change_raster() -> Path:
    p = cached_scene_pair(ROOT / "var" / "bench", seed=2024, size=10000)
    out = p.before.parent / "change.tif"
    if not out.exists():
        detect_changes(p.before, p.after, "gf2", change_raster_path=out)
    return out


def cells(path: Path, nx: int = 100, ny: int = 50):
    with rasterio.open(path) as ds:
        left, bottom, right, top = ds.bounds
        crs = ds.crs
    # square-ish cells in the raster CRS, slightly inset so every cell lies on the raster
    xs = np.linspace(left + 10, right - 10, nx + 1)
    ys = np.linspace(bottom + 10, top - 10, ny + 1)
    native = [shapely.box(xs[i], ys[j], xs[i + 1], ys[j + 1]) for j in range(ny) for i in range(nx)]
    tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    wgs = [shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))) for g in native]
    return native, wgs


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


if __name__ == "__main__":
    rounds = int(os.environ.get("ROUNDS", "3"))
    path = change_raster()
    native, wgs = cells(path)
    zones = list(enumerate(wgs))
    t_ours, t_rs = [], []
    for _ in range(rounds):
        t, ours = timed(summarize_by_zones, path, zones)
        t_ours.append(t)
        t, theirs = timed(zonal_stats, native, str(path), categorical=True, nodata=255)
        t_rs.append(t)
    m_ours, m_rs = statistics.median(t_ours), statistics.median(t_rs)
    a = sum(z.total_changed_m2 for z in ours)
    b = sum(sum(v for k, v in s.items() if k in (1, 2, 3)) for s in theirs) * 16.0
    print(
        f"cells={len(zones)} rounds={rounds} ours={m_ours:.2f}s rasterstats={m_rs:.2f}s changed_m2 ours={a:.0f} "
        f"rasterstats~{b:.0f} (pixel counts x 16 m2)",
        file=sys.stderr,
    )
    ratio = m_ours / m_rs
    report("imagery_grid_summary", value=m_ours, baseline=m_rs, ratio=ratio, goal="<=0.2", passed=ratio <= 0.2)
