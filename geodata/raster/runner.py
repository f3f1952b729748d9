"""Run tile jobs on Dask and stream their results back (a bounded number in flight).

Tile jobs carry only plain data (a ``io.Pair`` of ``DateSource``s, thresholds, a window) and
run ``detect._process_tile``: everything a worker unpickles lives in ``geodata.raster``, which
imports no Django, so workers need only the project installed (``pip install -e .``), no
settings and no database. Before the first tile a distributed cluster is checked: reachable,
with workers, and running the same raster core (a fingerprint of its source files) and the
same numpy / rasterio / GDAL; otherwise ``ClusterError`` says what to fix.
"""

from __future__ import annotations

import collections
import hashlib
import itertools
import os
import sys
from pathlib import Path

import numpy
import rasterio

from .errors import RasterError

CONNECT_TIMEOUT_S = 10


class Cancelled(Exception):
    """``should_cancel()`` returned True between two batches of tiles."""


class ClusterError(RasterError):
    """The Dask cluster cannot run tiles: unreachable, no workers, or another code version."""


def core_fingerprint() -> dict[str, str]:
    """What a worker must share with the client: the raster core's source and the libraries
    whose results it depends on."""
    h = hashlib.sha256()
    for f in sorted(Path(__file__).resolve().parent.rglob("*.py")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return {
        "geodata.raster": h.hexdigest()[:16],
        "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
        "numpy": numpy.__version__,
        "rasterio": rasterio.__version__,
        "gdal": rasterio.__gdal_version__,
    }


def connect(address: str):
    """A ``distributed.Client`` on ``address``, checked (see the module docstring)."""
    from distributed import Client

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(address, "cluster_unreachable", detail=f"{type(exc).__name__}: {exc}") from None
    try:
        check_cluster(client, address)
    except BaseException:
        client.close()
        raise
    return client


def check_cluster(client, address: str) -> None:
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError):
        raise ClusterError(address, "cluster_no_workers") from None
    try:
        theirs = client.run(core_fingerprint)
    except Exception as exc:  # noqa: BLE001 - a worker's own error, e.g. ModuleNotFoundError
        raise ClusterError(address, "cluster_worker_broken", detail=f"{type(exc).__name__}: {exc}") from None
    mine = core_fingerprint()
    for worker, fp in theirs.items():
        diff = [f"{k} {fp.get(k)} (here {v})" for k, v in mine.items() if fp.get(k) != v]
        if diff:
            raise ClusterError(address, "cluster_mismatch", worker=str(worker), diff=", ".join(diff))


def split_runs(jobs: list, nthreads: dict[str, int]) -> dict[str, collections.deque]:
    """``jobs`` cut into one contiguous run per worker, in proportion to its threads."""
    total = sum(max(1, n) for n in nthreads.values()) or 1
    runs, start, acc = {}, 0, 0
    for addr, n in sorted(nthreads.items()):
        acc += max(1, n)
        end = round(len(jobs) * acc / total)
        runs[addr] = collections.deque(jobs[start:end])
        start = end
    return runs


def next_job(runs: dict[str, collections.deque], addr: str):
    """The next job of ``addr``'s run; when that is empty, the last job of the longest other
    run (the far end of it, away from where its own worker reads); None when all are done."""
    mine = runs.get(addr)
    if mine:
        return mine.popleft()
    other = max(runs.values(), key=len, default=None)
    return other.pop() if other else None


class Runner:
    """``scheduler``: None/"local"/"threads" (Dask threads), "processes", "sync", a
    ``distributed.Client`` or a scheduler address ("tcp://host:8786")."""

    def __init__(self, scheduler, workers: int | None):
        self.scheduler = scheduler
        self.workers = workers or os.cpu_count() or 1
        self.client = None
        self._own_client = False
        self._pool = None
        if scheduler is None or scheduler in ("local", "threads"):
            self.kind = "threads"
        elif scheduler in ("processes", "sync", "synchronous"):
            self.kind = "sync" if scheduler != "processes" else "processes"
        else:
            from distributed import Client

            self.kind = "distributed"
            if isinstance(scheduler, Client):
                self.client = scheduler
            else:
                self.client = connect(str(scheduler))
                self._own_client = True

    def run(self, fn, jobs, on_result, should_cancel=None) -> None:
        if self.kind == "distributed":
            return self._run_distributed(fn, jobs, on_result, should_cancel)
        import dask

        kwargs = {"scheduler": self.kind}
        if self.kind != "sync":
            kwargs["num_workers"] = self.workers
        if self.kind == "processes":
            if self._pool is None:
                import multiprocessing as mp
                from concurrent.futures import ProcessPoolExecutor

                self._pool = ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn"))
            kwargs["pool"] = self._pool
        batch = max(1, 2 * self.workers) if self.kind != "sync" else 1
        it = iter(jobs)
        while True:
            chunk = list(itertools.islice(it, batch))
            if not chunk:
                return
            if should_cancel is not None and should_cancel():
                raise Cancelled()
            results = dask.compute(*[dask.delayed(fn, pure=False)(j) for j in chunk], **kwargs)
            for r in results:
                on_result(r)

    def _run_distributed(self, fn, jobs, on_result, should_cancel) -> None:
        """Each worker takes a contiguous run of the (cache-friendly ordered) jobs, so the
        halo blocks a tile shares with the next are still in that worker's GDAL cache; a
        worker whose run is done takes jobs from the far end of the longest other run. Two
        jobs per worker thread are in flight; results come back as they complete."""
        from distributed import as_completed

        jobs = list(jobs)
        if not jobs:
            return
        nthreads = self.client.nthreads()
        runs = split_runs(jobs, nthreads)
        ac = as_completed()
        owner = {}

        def submit(addr: str) -> None:
            job = next_job(runs, addr)
            if job is not None:
                # loose restriction: should the worker leave, the scheduler runs it elsewhere
                fut = self.client.submit(fn, job, pure=False, workers=[addr], allow_other_workers=True)
                owner[fut.key] = addr
                ac.add(fut)

        for addr, n in nthreads.items():
            for _ in range(2 * max(1, n)):
                submit(addr)
        for fut in ac:
            if should_cancel is not None and should_cancel():
                for f in ac.futures:
                    f.cancel()
                raise Cancelled()
            on_result(fut.result())
            addr = owner.pop(fut.key)
            fut.release()
            submit(addr)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
        if self._own_client and self.client is not None:
            self.client.close()
