"""Aggregation by township at city extent over 1,000,000 cases: the selector vs bare SQL.

value = seconds of `dashboard.selectors.aggregate(level="township")` (GROUP BY in SQL plus the
area lookup and the Python result), baseline = seconds of the bare `GROUP BY township_id` with
the same four metrics through psycopg. Interleaved rounds, the median of each side's rounds. Goal: ≤ 1.5×.
"""

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import benchlib  # noqa: E402

ROUNDS = 5
BARE_SQL = """
SELECT township_id, count(*),
       count(*) FILTER (WHERE status IN ('reported','verified','dispatched','rectifying','submitted')
                          AND deadline < now()),
       count(*) FILTER (WHERE status NOT IN ('rejected','duplicate')),
       count(*) FILTER (WHERE status = 'accepted'),
       avg(closed_at - reported_at) FILTER (WHERE status = 'accepted')
  FROM patrol_issue GROUP BY township_id
"""


def main() -> None:
    from _dashboard_data import scale_database_url

    url = scale_database_url()
    benchlib.setup_django(url)
    import psycopg

    from dashboard import selectors
    from dashboard.filters import CaseFilter
    from dashboard.report import SystemUser

    user = SystemUser()
    raw = psycopg.connect(url)

    def run_selector():
        t0 = time.perf_counter()
        out = selectors.aggregate(user=user, level="township", metric="count", filters=CaseFilter())
        assert len(out["areas"]) > 100
        return time.perf_counter() - t0

    def run_sql():
        t0 = time.perf_counter()
        with raw.cursor() as cur:
            cur.execute(BARE_SQL)
            cur.fetchall()
        return time.perf_counter() - t0

    run_selector(), run_sql()  # warm caches
    sel, base = [], []
    for _ in range(ROUNDS):
        sel.append(run_selector())
        base.append(run_sql())
    value, baseline = statistics.median(sel), statistics.median(base)
    ratio = value / baseline
    benchlib.report(
        "dashboard_aggregate_township_1M", value=value, baseline=baseline, goal="<=1.5x", passed=ratio <= 1.5
    )


if __name__ == "__main__":
    main()
