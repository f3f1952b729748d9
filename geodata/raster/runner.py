"""Run tile jobs on Dask and stream their results back (a bounded number in flight)."""

from __future__ import annotations

import itertools
import os


class Cancelled(Exception):
    """``should_cancel()`` returned True between two batches of tiles."""


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
                self.client = Client(scheduler)
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
        from distributed import as_completed

        nthreads = sum(self.client.nthreads().values()) or 1
        it = iter(jobs)
        first = [self.client.submit(fn, j, pure=False) for j in itertools.islice(it, 2 * nthreads)]
        ac = as_completed(first)
        for fut in ac:
            if should_cancel is not None and should_cancel():
                for f in ac.futures:
                    f.cancel()
                raise Cancelled()
            on_result(fut.result())
            fut.release()
            nxt = next(it, None)
            if nxt is not None:
                ac.add(self.client.submit(fn, nxt, pure=False))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
        if self._own_client and self.client is not None:
            self.client.close()
