"""`python -m reliability [r1 … r7] [--quick]`: one line per scenario, non-zero exit if any fails.

Everything runs against our own throwaway PostGIS cluster and gunicorn on 127.0.0.1, never
the shared dev cluster; both are torn down at the end.
"""

from __future__ import annotations

import argparse
import sys
import time

from .cluster import Stack
from .faults import run_faults
from .hj212 import run_hj212
from .hostile import run_hostile
from .imagery_dask import run_dask
from .load import run_load
from .matrix import run_matrix
from .offline import run_offline

SCENARIOS = ["r1", "r2", "r3", "r4", "r5", "r6", "r7"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability")
    parser.add_argument("scenarios", nargs="*", help="r1..r7 (default: all)")
    parser.add_argument("--quick", action="store_true", help="short runs (8 clients x 10 s, fewer R5 reports)")
    parser.add_argument("--clients", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args(argv)
    chosen = [s.lower() for s in args.scenarios] or SCENARIOS
    bad = [s for s in chosen if s not in SCENARIOS]
    if bad:
        parser.error(f"unknown scenario {bad[0]!r}; choose among {' '.join(SCENARIOS)}")
    clients = args.clients or (8 if args.quick else 64)
    seconds = args.seconds or (10 if args.quick else 60)

    ok = True
    t0 = time.monotonic()
    try:
        stack = Stack().__enter__()  # tears itself down if it fails half-way
    except Exception as exc:  # still one line per scenario, saying why none ran
        why = str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else type(exc).__name__
        for name in chosen:
            print(f"{name.upper()} ERROR server stack did not start: {why} FAIL", flush=True)
        return 1
    try:
        base, db = stack.server.base, stack.cluster.url
        for name in chosen:
            try:
                result = run_one(
                    name, stack=stack, base=base, db=db, clients=clients, seconds=seconds, quick=args.quick
                )
            except Exception as exc:  # one broken scenario must not hide the others' lines
                line = f"{name.upper()} ERROR {type(exc).__name__}: {str(exc)[:300]} FAIL"
                print(line, flush=True)
                ok = False
                continue
            print(result.line, flush=True)
            ok = ok and result.ok
    finally:
        stack.__exit__(None, None, None)
    print(f"# reliability {'PASS' if ok else 'FAIL'} in {time.monotonic() - t0:.0f}s", file=sys.stderr)
    return 0 if ok else 1


def run_one(name: str, *, stack, base: str, db: str, clients: int, seconds: float, quick: bool):
    runs = {
        "r1": lambda: run_load(name="R1", label="load", base=base, database_url=db, clients=clients, seconds=seconds),
        "r2": lambda: run_faults(stack=stack, clients=clients, seconds=seconds),
        "r3": lambda: run_hostile(base=base, database_url=db, media_root=stack.media, quick=quick),
        "r4": lambda: run_matrix(base=base, database_url=db, media_root=stack.media),
        "r5": lambda: run_offline(base=base, database_url=db, reports=20 if quick else 100),
        "r6": lambda: run_hj212(stack=stack, loggers=200 if quick else 2000, seconds=seconds),
        "r7": lambda: run_dask(quick=quick),
    }
    return runs[name]()


if __name__ == "__main__":
    sys.exit(main())
