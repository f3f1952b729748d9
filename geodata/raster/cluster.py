"""A Dask cluster on this machine started as separate programs, exactly as the README's recipe
does (``dask scheduler``, then ``dask worker <address>``): for the tests, the throughput
benchmark and single-machine deployments. The workers run in a scratch folder with no Django
settings and no ``PYTHONPATH``, so they import the project only as an installed package."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .runner import ClusterError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise ClusterError(f"tcp://127.0.0.1:{port}", "scheduler_exited", returncode=proc.returncode)
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise ClusterError(f"tcp://127.0.0.1:{port}", "scheduler_not_listening")


@dataclass
class SpawnedCluster:
    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen]


@contextmanager
def spawn_cluster(n_workers: int, *, nthreads: int = 1, gdal_cachemax_mb: int = 256, timeout: float = 60):
    """Yield a ``SpawnedCluster``: a scheduler with ``n_workers`` single-process workers; stop
    them (only these processes) on exit."""
    dask = str(Path(sys.executable).with_name("dask"))
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH")}
    env["GDAL_CACHEMAX"] = str(gdal_cachemax_mb)
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="gridgov-dask-") as scratch:
        quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=scratch, env=env)
        try:
            procs.append(
                subprocess.Popen(
                    [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], **quiet
                )
            )
            _wait_port(port, procs[0], timeout)
            for _ in range(n_workers):
                cmd = [dask, "worker", address, "--nthreads", str(nthreads), "--no-nanny", "--no-dashboard"]
                procs.append(subprocess.Popen([*cmd, "--memory-limit", "0"], **quiet))
            from distributed import Client

            with Client(address, timeout=timeout, set_as_default=False) as c:
                c.wait_for_workers(n_workers, timeout=timeout)
            yield SpawnedCluster(address, procs[0], procs[1:])
        finally:
            for p in reversed(procs):
                p.terminate()
            for p in reversed(procs):
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
