"""Imagery on a real Dask cluster: a `dask scheduler` and two `dask worker` processes started
as separate programs (as the README says), in a scratch folder without Django settings, so the
workers import the project only as the installed package (`pip install -e .`)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import numpy
import pytest
from distributed import Client

from geodata.raster import detect_changes
from geodata.raster import runner as runner_mod
from geodata.raster.cluster import free_port, spawn_cluster
from geodata.raster.runner import ClusterError

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
