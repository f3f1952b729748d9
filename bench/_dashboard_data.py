"""Scratch database for the dashboard benchmarks: the demo grid plus 1,000,000 synthetic cases.

Built on benchlib.bench_database_url (a scratch database of its own, never the dev
database) and filled once through `manage.py load_demo --cases N`; later runs find the
DemoLoad marker and skip. Used by bench/dashboard_*.py (which put bench/ on sys.path first).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import benchlib
import psycopg

GRID_SCALE = 5000  # the demo grid (grid cells); cases are what scale here
CASES = 1_000_000


def scale_database_url(cases: int = CASES) -> str:
    root = Path(__file__).resolve().parent.parent
    url = benchlib.bench_database_url(GRID_SCALE)
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT params FROM gridgov_demoload WHERE name = 'dashboard-cases'").fetchone()
    if not row or row[0].get("cases") != cases:
        env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
        subprocess.run(
            [sys.executable, "manage.py", "load_demo", "--no-accounts", "--cases", str(cases), "-v", "0"],
            cwd=root,
            env=env,
            check=True,
            stdout=sys.stderr,
            stderr=sys.stderr,
        )
    return url
