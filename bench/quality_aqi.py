"""Daily AQI of 500 air stations × 365 days from hourly data, against a bare SQL aggregation.

The production path (`quality.series.air_days`, what the station pages, the maps and the
districts' monthly figures read) groups the stations' hour rows by station and local day in one
statement (24 h means with their valid hours; the O₃ rows in a second grouped scan, with the
day's 24 valid hours) and then, for all station-days at once with numpy, finds the daily
maximum 8 h O₃ and computes IAQI and AQI (HJ 633-2012 before 2026-03-01, HJ 633-2026 from
then: the year below spans the switch), building the same `AirDay` objects as before. The
baseline, measured in the same run with rounds interleaved, is a bare GROUP BY over the same
rows (mean of the valid values per station, local day and factor), fetched; it converts each
row's time to the zone, which production avoids where the zone keeps one offset (see
`quality.series`). Goal (issue 17): ≤ 2× the bare aggregation.

Data: hourly rows of the six AQI items for every station (about 26 million rows at full
size: 500 × 365 × 24 × 6), ~1 % flagged, a seasonal PM2.5 cycle; built once in the scratch
database of the monitoring benches (`gridgov_bench_monitoring`) and reused. The stations are
bare loggers there (the bench's own, prefix BENCHQA): `air_days` reads by logger id only.
BENCH_QUALITY_STATIONS / BENCH_QUALITY_DAYS / BENCH_QUALITY_ROUNDS scale it down for a quick
check; the goal is for the full size.
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

STATIONS = int(os.environ.get("BENCH_QUALITY_STATIONS", "500"))
DAYS = int(os.environ.get("BENCH_QUALITY_DAYS", "365"))
ROUNDS = int(os.environ.get("BENCH_QUALITY_ROUNDS", "3"))
LAST_DAY = dt.date(2026, 11, 30)  # fixed, so that a later run reuses the rows

BARE_SQL = """
SELECT logger_id, (time AT TIME ZONE 'Asia/Shanghai')::date, factor, avg(value) FILTER (WHERE flag = 'N')
  FROM monitoring_reading
 WHERE period = 'H' AND logger_id = ANY(%s) AND time >= %s AND time < %s AND value >= 0
 GROUP BY 1, 2, 3
"""

# typical level of each item (µg/m³, CO mg/m³); PM2.5 and PM10 follow a winter-high cycle
LEVELS = {"a21026": 8, "a21004": 30, "a21005": 0.7, "a05024": 70, "a34002": 60, "a34004": 35}


def build(conn, ids: list[int], start: dt.datetime, end: dt.datetime) -> None:
    from monitoring import store

    expected = len(ids) * DAYS * 24 * len(LEVELS)
    have = conn.execute(
        "SELECT count(*) FROM monitoring_reading WHERE period = 'H' AND logger_id = ANY(%s) AND time >= %s AND time < %s",
        [ids, start, end],
    ).fetchone()[0]
    if have == expected:
        return
    print(f"building {expected} hour rows …", file=sys.stderr)
    conn.execute("DELETE FROM monitoring_reading WHERE logger_id = ANY(%s)", [ids])
    months, m = set(), store.month_of(start)
    while m < end.date():
        months.add(("H", m))
        m = store.add_months(m, 1)
    with conn.cursor() as cur:
        store.ensure_partitions(cur, months)
    for logger_id in ids:  # one statement per station: steady progress, bounded memory
        conn.execute(
            """
            INSERT INTO monitoring_reading (time, value, logger_id, period, flag, origin, factor)
            SELECT t, round((lvl * (CASE WHEN f IN ('a34004', 'a34002')
                                        THEN 1 + 0.6 * cos(2 * pi() * extract(doy FROM t) / 365.0) ELSE 1 END)
                             * (0.6 + random() * 0.8))::numeric, 3)::float8,
                   %s, 'H', CASE WHEN random() < 0.01 THEN 'M' ELSE 'N' END, 'L', f
              FROM generate_series(%s::timestamptz, %s::timestamptz - interval '1 hour', interval '1 hour') AS t,
                   unnest(%s::varchar[], %s::float8[]) AS u(f, lvl)
            """,
            [logger_id, start, end, list(LEVELS), [float(v) for v in LEVELS.values()]],
        )
    conn.execute("VACUUM ANALYZE monitoring_reading_h")


def main() -> None:
    url = scratch_url()
    setup_django(url)
    import psycopg

    from quality import series

    first = LAST_DAY - dt.timedelta(days=DAYS - 1)
    start, end = series.day_start(first), series.day_start(LAST_DAY + dt.timedelta(days=1))
    conn = psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True)
    ids = sorted(loggers(conn, STATIONS, "BENCHQA").values())
    build(conn, ids, start, end)
    ours, bare = [], []
    days = {}
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        groups = len(conn.execute(BARE_SQL, [ids, start, end]).fetchall())
        bare.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        days = series.air_days(ids, first, LAST_DAY)
        ours.append(time.perf_counter() - t0)
        print(
            f"air_days {ours[-1]:.2f} s ({len(days)} station-days), bare GROUP BY {bare[-1]:.2f} s ({groups} groups)",
            file=sys.stderr,
        )
    conn.close()
    with_aqi = sum(1 for d in days.values() if d.result.aqi is not None)
    print(f"{with_aqi} of {len(days)} station-days have an AQI", file=sys.stderr)
    value, baseline = statistics.median(ours), statistics.median(bare)
    ok = value <= 2 * baseline and len(days) == STATIONS * DAYS and with_aqi > 0.9 * len(days)
    report("quality_aqi", value=value, baseline=baseline, goal="<=2x", passed=ok)


if __name__ == "__main__":
    main()
