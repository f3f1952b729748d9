"""Imagery on a real Dask cluster: a `dask scheduler` and two `dask worker` processes started
as separate programs (as the README says), in a scratch folder without Django settings, so the
workers import the project only as the installed package (`pip install -e .`)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time

import numpy
import pytest
from distributed import Client

from geodata.raster import detect_changes
from geodata.raster import runner as runner_mod
from geodata.raster.cluster import free_port, spawn_cluster
from geodata.raster.runner import ClusterError
from geodata.raster.synth import cached_scene_pair

from .products_factory import make_stac

D21, D23 = dt.date(2021, 8, 14), dt.date(2023, 8, 15)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    d = tmp_path_factory.mktemp("dask")
    return make_stac(d / "b", D21), make_stac(d / "a", D23, changed=True, cloud=True)


@pytest.fixture(scope="module")
def cluster():
    with spawn_cluster(2) as spawned:
        yield spawned.address


CHILD = """
import json, pickle, sys
from geodata.raster import tiles
from geodata.raster.io import open_pair
from geodata.raster.window import WindowParams
pair = open_pair({b!r}, {a!r})
job = tiles.TileJob(run_id="x", pair=pair, params=WindowParams(pair.profile), stage="sample", row=0, col=0,
                    height=256, width=256, halo=0, scene_height=256, scene_width=256, min_pixels=20,
                    min_length_px=None, gdal_cachemax_mb=64)
out = tiles.process_tile(pickle.loads(pickle.dumps(job)))
print(json.dumps({{"django": any(m.split(".")[0] == "django" for m in sys.modules), "valid": out.valid_pixels}}))
"""


def test_tile_jobs_pickle_and_run_without_django(pair, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH")}
    code = CHILD.format(b=str(pair[0]), a=str(pair[1]))
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])
    # every pixel but the flagged cloud (50 x 60 px) grown by the 3-px dilation: 56 x 66
    assert out == {"django": False, "valid": 256 * 256 - 56 * 66}


def test_real_scheduler_and_two_workers(pair, cluster):
    local = detect_changes(*pair, None, min_area_m2=2000, tile_size=128)
    remote = detect_changes(*pair, None, min_area_m2=2000, tile_size=128, scheduler=cluster)
    assert remote.tiles == 4 and len(remote.records) == len(local.records) >= 1
    assert sorted(round(r.area_m2) for r in remote.records) == sorted(round(r.area_m2) for r in local.records)
    with Client(cluster, set_as_default=False) as c:
        assert len(c.nthreads()) == 2


def test_unreachable_cluster_is_a_clear_error(pair, monkeypatch):
    monkeypatch.setattr(runner_mod, "CONNECT_TIMEOUT_S", 2)
    address = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler"):
        detect_changes(*pair, None, scheduler=address)


def test_mismatched_cluster_is_a_clear_error(pair, cluster, monkeypatch):
    monkeypatch.setattr(numpy, "__version__", "0.0.0")  # here only: the workers report theirs
    with pytest.raises(ClusterError, match=r"runs other code: numpy .* \(here 0\.0\.0\)"):
        detect_changes(*pair, None, scheduler=cluster)


def test_runs_are_contiguous_in_proportion_to_threads_and_idle_workers_take_the_far_end():
    runs = runner_mod.split_runs(list(range(10)), {"tcp://b": 1, "tcp://a": 1})
    assert {k: list(v) for k, v in runs.items()} == {"tcp://a": [0, 1, 2, 3, 4], "tcp://b": [5, 6, 7, 8, 9]}
    runs = runner_mod.split_runs(list(range(9)), {"tcp://a": 2, "tcp://b": 1})
    assert [len(v) for v in runs.values()] == [6, 3]
    runs = runner_mod.split_runs(list(range(6)), {"tcp://a": 1, "tcp://b": 1})
    taken = [runner_mod.next_job(runs, "tcp://a") for _ in range(3)]
    assert taken == [0, 1, 2]
    # a's run is done: it takes b's last job, while b goes on from its first
    assert runner_mod.next_job(runs, "tcp://a") == 5
    assert runner_mod.next_job(runs, "tcp://b") == 3
    assert [runner_mod.next_job(runs, "tcp://a"), runner_mod.next_job(runs, "tcp://b")] == [4, None]


def _records(result) -> list[tuple]:
    """What must not depend on where or when tiles ran: each record's type, exact geometry and
    confidence, in the result's order."""
    return [(r.change_type, r.geometry.wkb, r.confidence) for r in result.records]


def test_same_records_on_one_thread_and_on_the_cluster(pair, cluster):
    """Results are merged in tile order, not completion order: the records (geometry and
    all) do not depend on where or when the tiles ran."""
    kw = dict(min_area_m2=2000, tile_size=128)
    sync = detect_changes(*pair, None, scheduler="sync", **kw)
    for remote in (detect_changes(*pair, None, scheduler=cluster, **kw), detect_changes(*pair, None, **kw)):
        assert remote.tiles == sync.tiles == 4
        assert _records(remote) == _records(sync)


def test_same_records_whatever_order_the_tiles_complete_in(tmp_path, monkeypatch):
    """A synthetic 1024² scene in 4 tiles, its results handed back in reverse: the same
    records, geometry for geometry (unioning the seam pieces in completion order did not)."""
    scene = cached_scene_pair(tmp_path, seed=3, size=1024)
    kw = dict(scheduler="sync", tile_size=256)
    in_order = detect_changes(scene.before, scene.after, "gf2", **kw)
    run = runner_mod.Runner.run

    def reversed_run(self, fn, jobs, on_result, should_cancel=None):
        done = []
        run(self, fn, jobs, done.append, should_cancel)
        for res in reversed(done):
            on_result(res)

    monkeypatch.setattr(runner_mod.Runner, "run", reversed_run)
    backwards = detect_changes(scene.before, scene.after, "gf2", **kw)
    assert in_order.tiles == 4 and len(in_order.records) >= 5
    assert _records(backwards) == _records(in_order)


def test_a_worker_that_leaves_mid_run_loses_no_job():
    results = []
    with spawn_cluster(2) as spawned:
        runner = runner_mod.Runner(spawned.address, None)
        try:
            killer = threading.Timer(1.0, spawned.workers[0].kill)
            killer.start()
            runner.run(time.sleep, [0.25] * 16, results.append)
            killer.join()
        finally:
            runner.close()
        assert spawned.workers[0].poll() is not None  # it did leave, mid-run
    assert results == [None] * 16
