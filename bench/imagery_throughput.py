"""Detection on a 100 Mpix pair delivered as per-band files, on Dask worker processes started
as separate programs (``dask scheduler`` / ``dask worker --nthreads 1``), against merely reading
those files: one worker's detection time / the read floor; goal <= 3. (Two workers against
one: ``imagery_dask_speedup.py``.)

The floor reads exactly the band files detection needs (B, G, R, NIR of both dates, one
GeoTIFF per band, as a STAC item or a Landsat folder delivers them), each block-aligned tile
once, in this process, with the GDAL cache detection uses: the cheapest possible read.
Detection reads more (a 16-px halo, the 1-px co-registration shift, the threshold sample tiles
twice) and ships tiles to and from the workers, which counts against it. Rounds are
interleaved (read, one worker) and the medians compared; ``ROUNDS`` (default 3)
and ``SIZE`` (default 10000 px a side) change the run."""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import rasterio  # noqa: E402
from benchlib import report  # noqa: E402
from rasterio.windows import Window  # noqa: E402

from geodata.raster.cluster import spawn_cluster  # noqa: E402
from geodata.raster.constants import sensor_profile  # noqa: E402
from geodata.raster.detect import DEFAULT_TILE, detect_changes, plan_tiles  # noqa: E402
from geodata.raster.heap import keep_freed_memory  # noqa: E402
from geodata.raster.products import BandFile, DateSource  # noqa: E402
from geodata.raster.synth import cached_scene_pair  # noqa: E402

CACHE_MB = 256


def per_band(stack: Path) -> DateSource:
    """The stack's reflectance bands as one tiled GeoTIFF each (written once, cached)."""
    prof = sensor_profile("gf2")
    bands = {}
    with rasterio.open(stack) as src:
        for role in prof.reflectance_roles:
            i = prof.bands[role]
            out = stack.with_name(f"{stack.stem}_B{i}.tif")
            if not out.exists():
                meta = {**src.profile, "count": 1}
                tmp = out.with_suffix(".partial.tif")
                with rasterio.open(tmp, "w", **meta) as dst:
                    for _, win in src.block_windows(1):
                        dst.write(src.read(i, window=win), 1, window=win)
                tmp.rename(out)
            bands[role] = BandFile(str(out), scale=prof.scale, offset=prof.offset, nodata=prof.nodata)
    return DateSource(str(stack), "bands", "gf2", None, bands, synthetic=True)


def read_floor(before: DateSource, after: DateSource) -> float:
    keep_freed_memory()  # the same allocator settings as the workers (``geodata.raster.heap``)
    t0 = time.perf_counter()
    with rasterio.Env(GDAL_CACHEMAX=CACHE_MB * 1024 * 1024):
        for src in (before, after):
            for bf in src.bands.values():
                with rasterio.open(bf.path) as ds:
                    for r, c, h, w in plan_tiles(ds.height, ds.width, ds.block_shapes[0], DEFAULT_TILE):
                        ds.read(1, window=Window(c, r, w, h))
    return time.perf_counter() - t0


def detect(before: DateSource, after: DateSource, address: str) -> float:
    t0 = time.perf_counter()
    detect_changes(before, after, "gf2", scheduler=address, gdal_cachemax_mb=CACHE_MB)
    return time.perf_counter() - t0


def bench_pair(size: int) -> tuple[DateSource, DateSource]:
    """The ``size``² synthetic pair as per-band files."""
    p = cached_scene_pair(ROOT / "var" / "bench", seed=2024, size=size)
    return per_band(p.before), per_band(p.after)


def warm_up(address: str) -> None:
    """Workers load the numba kernels once, outside the timed rounds."""
    warm = cached_scene_pair(ROOT / "var" / "bench", seed=7, size=512)
    detect_changes(warm.before, warm.after, "gf2", scheduler=address)


if __name__ == "__main__":
    size = int(os.environ.get("SIZE", "10000"))
    rounds = int(os.environ.get("ROUNDS", "3"))
    before, after = bench_pair(size)
    t_read, t1 = [], []
    with spawn_cluster(1, gdal_cachemax_mb=CACHE_MB) as c1:
        warm_up(c1.address)
        read_floor(before, after)  # warm the OS page cache
        for _ in range(rounds):
            t_read.append(read_floor(before, after))
            t1.append(detect(before, after, c1.address))
    m_read, m1 = statistics.median(t_read), statistics.median(t1)
    print(
        f"{size * size / 1e6:.0f} Mpix per-band pair, {rounds} rounds: read={m_read:.2f}s 1 worker={m1:.2f}s",
        file=sys.stderr,
    )
    ratio = m1 / m_read
    report("imagery_throughput", value=m1, baseline=m_read, ratio=ratio, goal="ratio<=3", passed=ratio <= 3)
