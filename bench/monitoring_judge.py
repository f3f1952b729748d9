"""Judging: the last hour of 10,000 outlets × 5 factors, against a bare SQL GROUP BY.

The production judge (`monitoring.judging.judge_hours`, the statement the every-minute job
runs) reads the hour's minutes, counts the valid ones (flag N), takes the mean, compares it
with each factor's limit and writes the hour rows (valid minutes, limit, exceeded). The
baseline, measured in the same run with rounds interleaved, is a bare GROUP BY over the same
minute rows (count and mean of the N minutes per logger and factor), fetched. The data
(3 million minute rows, a few hours exceeding) live in the scratch database of the ingest
bench (`gridgov_bench_monitoring`), built once. Goal: ≤ 2× the GROUP BY.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchlib import report, setup_django  # noqa: E402
from monitoring_ingest import loggers, scratch_url  # noqa: E402

OUTLETS = int(os.environ.get("BENCH_JUDGE_OUTLETS", "10000"))
FACTORS = ["w01018", "w21003", "w21011", "w01001", "w00000"]
ROUNDS = int(os.environ.get("BENCH_JUDGE_ROUNDS", "3"))

BARE_SQL = """
SELECT logger_id, factor, count(*) FILTER (WHERE flag = 'N'), avg(value) FILTER (WHERE flag = 'N')
  FROM monitoring_reading
 WHERE period = 'M' AND time >= %s AND time < %s
 GROUP BY logger_id, factor
"""


def build(conn, ids: list[int], hour: dt.datetime) -> None:
    """One hour of minute data for every outlet and factor, once; limits that a few exceed."""
    have = conn.execute(
        "SELECT count(*) FROM monitoring_reading WHERE period = 'M' AND time >= %s AND time < %s AND logger_id = ANY(%s)",
        [hour, hour + dt.timedelta(hours=1), ids],
    ).fetchone()[0]
    if have == len(ids) * len(FACTORS) * 60:
        return
    print(f"building {len(ids) * len(FACTORS) * 60} minute rows …", file=sys.stderr)
    conn.execute("DELETE FROM monitoring_reading WHERE logger_id = ANY(%s)", [ids])
    conn.execute("DELETE FROM monitoring_limit WHERE logger_id = ANY(%s)", [ids])
    conn.execute(
        """
        INSERT INTO monitoring_limit (logger_id, factor, low, high)
        SELECT id, f, CASE WHEN f = 'w01001' THEN 6 END, CASE f WHEN 'w01001' THEN 9 WHEN 'w01018' THEN 50
                                                              WHEN 'w21003' THEN 5 WHEN 'w21011' THEN 0.5 ELSE 100 END
          FROM unnest(%s::integer[]) AS id, unnest(%s::varchar[]) AS f
        """,
        [ids, FACTORS],
    )
    # values around half the limit; every 500th outlet's COD above it; 3% of minutes flagged
    conn.execute(
        """
        INSERT INTO monitoring_reading (time, value, logger_id, period, flag, factor)
        SELECT %s::timestamptz + m * interval '1 minute',
               CASE WHEN f = 'w01001' THEN 7 + random() WHEN f = 'w01018' AND mod(id, 500) = 0 THEN 70 + random() * 10
                    ELSE (CASE f WHEN 'w01018' THEN 25 WHEN 'w21003' THEN 2 WHEN 'w21011' THEN 0.2 ELSE 50 END)
                         * (0.8 + random() * 0.4) END,
               id, 'M', CASE WHEN random() < 0.03 THEN 'D' ELSE 'N' END, f
          FROM unnest(%s::integer[]) AS id, unnest(%s::varchar[]) AS f, generate_series(0, 59) AS m
        """,
        [hour, ids, FACTORS],
    )
    conn.execute("VACUUM ANALYZE monitoring_reading_m")


def main() -> None:
    url = scratch_url()
    setup_django(url)
    import psycopg
    from django.db import connection, transaction

    from monitoring import judging, store

    conn = psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True)
    conn.execute("SET TIME ZONE 'Asia/Shanghai'")
    ids = sorted(loggers(conn, OUTLETS, "BENCHJU").values())
    hour = (dt.datetime.now(store.LOCAL) - dt.timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    with conn.cursor() as cur:
        store.ensure_partitions(cur, {("M", store.month_of(hour)), ("H", store.month_of(hour))})
    build(conn, ids, hour)
    pairs = [(i, hour) for i in ids]
    judged, bare, exceeded = [], [], 0
    for _ in range(ROUNDS):
        conn.execute(
            "DELETE FROM monitoring_reading WHERE period = 'H' AND time = %s AND logger_id = ANY(%s)", [hour, ids]
        )
        conn.execute("VACUUM ANALYZE monitoring_reading_h")
        with transaction.atomic(), connection.cursor() as c:  # the judge's own session settings
            c.execute("SET LOCAL jit = off")
            c.execute("SET LOCAL work_mem = '64MB'")
            t0 = time.perf_counter()
            c.execute(BARE_SQL, [hour, hour + dt.timedelta(hours=1)])
            groups = len(c.fetchall())
            bare.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        result = judging.judge_hours(pairs)
        judged.append(time.perf_counter() - t0)
        exceeded = len(result.exceeded)
        print(
            f"judge {judged[-1] * 1000:.0f} ms ({result.judged} hours, {exceeded} exceeded), "
            f"bare GROUP BY {bare[-1] * 1000:.0f} ms ({groups} groups)",
            file=sys.stderr,
        )
    conn.close()
    value, baseline = statistics.median(judged), statistics.median(bare)
    ok = (
        value <= 2 * baseline
        and result.judged == OUTLETS * len(FACTORS)
        and exceeded == sum(1 for i in ids if i % 500 == 0)
    )
    report("monitoring_judge", value=value, baseline=baseline, goal="<=2x", passed=ok)


if __name__ == "__main__":
    main()
