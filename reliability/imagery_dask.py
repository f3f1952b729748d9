"""R7 Dask: change detection on a real cluster started as separate programs (`dask scheduler`,
two `dask worker` processes), one worker killed while tiles are in flight. The scheduler must
move its tiles to the survivor and the result must equal a local run's, tile for tile.

Line: `R7 dask workers=2 killed=1 tiles=… records=… same_as_local=yes seconds=… PASS`.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

from geodata.raster import detect_changes
from geodata.raster.cluster import spawn_cluster
from geodata.raster.synth import make_scene_pair

from .load import Result


def _signature(res) -> list[tuple]:
    return sorted((r.change_type, round(r.area_m2), r.pixel_count) for r in res.records)


def run_dask(*, quick: bool = False) -> Result:
    size = 768 if quick else 1536
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gridgov-r7-") as tmp:
        pair = make_scene_pair(Path(tmp), seed=77, width=size, height=size, n_changes=12)
        local = detect_changes(pair.before, pair.after, "gf2", tile_size=256, scheduler="threads")
        with spawn_cluster(2) as cluster:
            victim = cluster.workers[0]
            done = {"n": 0}

            def progress(n: int, total: int) -> None:
                done["n"] = n

            def kill_when_running() -> None:
                while done["n"] < 2 and victim.poll() is None:
                    time.sleep(0.05)
                victim.kill()

            killer = threading.Thread(target=kill_when_running, daemon=True)
            killer.start()
            remote = detect_changes(
                pair.before, pair.after, "gf2", tile_size=256, scheduler=cluster.address, progress=progress
            )
            killer.join(timeout=30)
            killed = victim.poll() is not None
    same = _signature(remote) == _signature(local)
    ok = same and killed and remote.tiles == local.tiles
    line = (
        f"R7 dask workers=2 killed={int(killed)} tiles={remote.tiles} records={len(remote.records)} "
        f"same_as_local={'yes' if same else 'NO'} seconds={time.monotonic() - t0:.0f} {'PASS' if ok else 'FAIL'}"
    )
    return Result(line=line, ok=ok)
