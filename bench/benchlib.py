"""Shared helpers for benchmarks: timing and the one-line report every bench prints.

Each benchmark measures its own baseline in the same run, because our machines are shared
and noisy: only ratios are comparable between runs.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def report(name: str, *, value: float, baseline: float, goal: str, passed: bool, ratio: float | None = None) -> str:
    """Print the single BENCH line and return it."""
    if ratio is None:
        ratio = value / baseline if baseline else float("inf")
    line = (
        f"BENCH {name} value={value:.6g} baseline={baseline:.6g} ratio={ratio:.3f} "
        f"goal={goal} {'PASS' if passed else 'FAIL'}"
    )
    print(line, flush=True)
    return line


def best_of(fn: Callable[[], object], *, repeat: int = 5) -> float:
    """Return the fastest wall time of `repeat` calls, in seconds (least disturbed by noise)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def p50(samples: list[float]) -> float:
    return statistics.median(samples)
