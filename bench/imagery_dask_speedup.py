"""Detection of the ``imagery_throughput`` pair (100 Mpix as per-band files) on one Dask worker
against two, each a separate program (``dask scheduler`` / ``dask worker --nthreads 1``).
value = two workers' median time, baseline = one worker's (rounds interleaved, ``ROUNDS``,
default 3; ``SIZE``, default 10000 px a side), ratio = baseline / value; goal >= 1.6 (a quiet
2-core machine)."""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchlib import report  # noqa: E402
from imagery_throughput import CACHE_MB, bench_pair, detect, warm_up  # noqa: E402

from geodata.raster.cluster import spawn_cluster  # noqa: E402

if __name__ == "__main__":
    size = int(os.environ.get("SIZE", "10000"))
    rounds = int(os.environ.get("ROUNDS", "3"))
    before, after = bench_pair(size)
    t1, t2 = [], []
    with spawn_cluster(1, gdal_cachemax_mb=CACHE_MB) as c1, spawn_cluster(2, gdal_cachemax_mb=CACHE_MB) as c2:
        warm_up(c1.address)
        warm_up(c2.address)
        for _ in range(rounds):
            t1.append(detect(before, after, c1.address))
            t2.append(detect(before, after, c2.address))
    m1, m2 = statistics.median(t1), statistics.median(t2)
    print(f"{size * size / 1e6:.0f} Mpix, {rounds} rounds: 1 worker={m1:.2f}s 2 workers={m2:.2f}s", file=sys.stderr)
    speedup = m1 / m2
    report("imagery_dask_speedup", value=m2, baseline=m1, ratio=speedup, goal="ratio>=1.6", passed=speedup >= 1.6)
