"""The dashboard's demo data: a year of case history, and scale data for benchmarks (合成).

`manage.py load_demo` (and so `make run`) writes the demo history, twelve months of cases
across the city with their whole loop (`dashboard.demo_history`, written by
`dashboard.demo_load`), and tops it up to the present on later runs.

Scale data: `manage.py load_demo --cases N` calls `load_demo(cases=N)`: N synthetic cases over
two years, clustered like real ones, without audit rows (benchmarks need a million). Points are drawn with numpy from a
mixture of Gaussian clusters around township centres (towns) and along a few synthetic
polylines (roads and rivers), then routed to their grid cell, township and district with one
SQL join against the subdivided cell table, and inserted with COPY. A million cases load in a
few minutes.

These rows bypass `patrol.actions` on purpose: the services write one case per transaction
with its audit rows, which would take hours for a million cases. The bulk rows respect
patrol's database constraints (no `duplicate` status, escalation level ≤ 2) but carry no
`IssueEvent` audit rows (the append-only trigger is untouched); they are marked synthetic by the
description prefix "（合成）" and `content_digest = SYNTHETIC_DIGEST`, and only they are ever
deleted by this loader.
"""

from __future__ import annotations

import time

import numpy as np
from django.db import connection, transaction

from gridgov.models import DemoLoad

from .demo_load import load_history

SYNTHETIC_DIGEST = "dashboard-synthetic"
MARKER = "dashboard-cases"
VERSION = 1
SEED = 20260601
DAYS = 730

CATEGORIES = [
    # code, weight, (normal, high, urgent) calendar days to the deadline (working days × 7/5)
    ("air.open_burning", 6, (4, 3, 1)),
    ("air.straw_burning", 3, (4, 3, 1)),
    ("air.dust", 14, (10, 7, 3)),
    ("air.catering_fumes", 12, (14, 7, 4)),
    ("air.vocs", 4, (14, 7, 4)),
    ("water.illegal_discharge", 7, (7, 4, 1)),
    ("water.black_odorous", 5, (21, 14, 7)),
    ("water.river_litter", 9, (7, 4, 3)),
    ("solid_waste.illegal_dumping", 12, (7, 4, 3)),
    ("solid_waste.hazardous", 2, (4, 3, 1)),
    ("noise.construction", 8, (7, 4, 1)),
    ("noise.industrial", 3, (14, 7, 4)),
    ("soil.contamination", 1, (21, 14, 7)),
    ("ecology.red_line_encroachment", 1, (14, 7, 3)),
    ("ecology.illegal_logging", 2, (14, 7, 3)),
    ("ecology.illegal_sand_mining", 1, (7, 4, 1)),
    ("small_polluters.workshop", 6, (21, 14, 7)),
    ("other", 4, (14, 7, 3)),
]
# River litter, discharge and sand mining sit along rivers; dust and noise along roads.
RIVER_CATEGORIES = {1: [5, 6, 7, 15], 0: [2, 8, 10]}
SOURCES = (["patrol", "citizen", "imagery", "online_monitoring", "inspection"], [0.55, 0.25, 0.08, 0.05, 0.07])
PRIORITIES = (["normal", "high", "urgent"], [0.75, 0.2, 0.05])


def load_demo(*, stdout, force: bool, cases: int | None = None) -> None:
    """The demo history (always; it needs the demo accounts), and `cases` scale cases once."""
    load_history(stdout=stdout)
    if cases is None:
        return
    params = {"cases": int(cases), "version": VERSION, "seed": SEED}
    if DemoLoad.objects.filter(name=MARKER, params=params).exists() and not force:
        stdout.write(f"dashboard: {cases} synthetic cases already loaded; nothing to do")
        return
    t0 = time.monotonic()
    with transaction.atomic():
        made = generate_cases(int(cases), seed=SEED)
        DemoLoad.objects.update_or_create(name=MARKER, defaults={"params": params})
    stdout.write(f"dashboard: {made} synthetic cases (合成) loaded in {time.monotonic() - t0:.1f}s")


def _polyline(rng: np.random.Generator, start: np.ndarray, heading: float, steps: int, step: float) -> np.ndarray:
    """A wandering line (road or river) as an array of vertices."""
    angles = heading + np.cumsum(rng.normal(0, 0.25, steps))
    moves = np.stack([np.cos(angles), np.sin(angles)], axis=1) * step
    return start + np.vstack([[0, 0], np.cumsum(moves, axis=0)])


def _along(rng: np.random.Generator, line: np.ndarray, n: int, spread: float) -> np.ndarray:
    seg = rng.integers(0, len(line) - 1, n)
    t = rng.random(n)[:, None]
    pts = line[seg] + (line[seg + 1] - line[seg]) * t
    return pts + rng.normal(0, spread, (n, 2))


def sample_points(n: int, rng: np.random.Generator, towns: np.ndarray, weights: np.ndarray, bbox) -> tuple:
    """Return (lon, lat, kind) for n points: 0 road, 1 river, 2 town cluster, 3 scattered."""
    x0, y0, x1, y1 = bbox
    kinds = rng.choice(4, size=n, p=[0.2, 0.15, 0.57, 0.08])
    pts = np.empty((n, 2))
    # Towns: clusters around township centres, busier towns weighted up.
    idx = np.flatnonzero(kinds == 2)
    which = rng.choice(len(towns), size=len(idx), p=weights)
    spread = rng.choice([0.006, 0.015, 0.03], size=len(idx), p=[0.5, 0.35, 0.15])[:, None]
    pts[idx] = towns[which] + rng.normal(0, 1, (len(idx), 2)) * spread
    # Roads and rivers: a few long wandering polylines across the city.
    line_rng = np.random.default_rng(7)
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    for kind, count, step, width in ((0, 6, 0.03, 0.004), (1, 4, 0.025, 0.002)):
        lines = [
            _polyline(line_rng, centre + line_rng.normal(0, 0.25, 2), line_rng.uniform(0, 2 * np.pi), 60, step)
            for _ in range(count)
        ]
        idx = np.flatnonzero(kinds == kind)
        part = rng.integers(0, count, len(idx))
        for i, line in enumerate(lines):
            sel = idx[part == i]
            pts[sel] = _along(rng, line, len(sel), width)
    idx = np.flatnonzero(kinds == 3)
    pts[idx] = np.stack([rng.uniform(x0, x1, len(idx)), rng.uniform(y0, y1, len(idx))], axis=1)
    return pts[:, 0], pts[:, 1], kinds


def _attributes(n: int, rng: np.random.Generator, kinds: np.ndarray, now: float, town_factor: np.ndarray) -> dict:
    """Category, source, priority, status and stage timestamps (epoch seconds, NaN = none)."""
    cat_w = np.array([w for _, w, _ in CATEGORIES], dtype=float)
    cat = rng.choice(len(CATEGORIES), size=n, p=cat_w / cat_w.sum())
    for kind, choices in RIVER_CATEGORIES.items():
        sel = np.flatnonzero((kinds == kind) & (rng.random(n) < 0.6))
        cat[sel] = rng.choice(choices, size=len(sel))
    source = rng.choice(len(SOURCES[0]), size=n, p=SOURCES[1])
    prio = rng.choice(3, size=n, p=PRIORITIES[1])
    day = 86400.0
    # More cases lately (platform adoption) and on weekdays; none in the future.
    age = DAYS * day * (rng.random(n) ** 1.3)
    reported = now - age
    verified = reported + rng.exponential(0.6 * day, n)
    rejected = rng.random(n) < 0.05
    dispatched = verified + rng.exponential(0.4 * day, n)
    limits = np.array([d for _, _, d in CATEGORIES], dtype=float)
    deadline = dispatched + limits[cat, prio] * day
    # Rectification takes a share of the time allowed; slower townships take longer.
    rect = dispatched + limits[cat, prio] * day * rng.gamma(2.0, 0.38, n) * town_factor
    # A few cases stall for months (the ones 督办 exists for).
    rect = rect + (rng.random(n) < 0.03) * rng.exponential(90 * day, n)
    accepted = rect + rng.exponential(1.5 * day, n)
    fails = rng.random(n) < 0.08  # sent back once: a second round of rectification
    accepted = np.where(fails, accepted + rng.exponential(4 * day, n), accepted)

    status = np.full(n, "reported", dtype=object)
    status[verified <= now] = "verified"
    status[dispatched <= now] = "dispatched"
    started = dispatched + (rect - dispatched) * 0.3
    status[started <= now] = "rectifying"
    status[rect <= now] = "submitted"
    status[accepted <= now] = "accepted"
    status[rejected & (verified <= now)] = "rejected"

    def keep(t, ok):
        return np.where(ok, t, np.nan)

    is_rej = status == "rejected"
    v_at = keep(verified, (verified <= now) & ~is_rej)
    d_at = keep(dispatched, (dispatched <= now) & ~rejected)
    r_at = keep(rect, (rect <= now) & ~rejected)
    a_at = keep(accepted, (accepted <= now) & ~rejected)
    closed = np.where(is_rej, verified, a_at)
    dl = keep(deadline, ~np.isnan(d_at))
    # 督办 once the deadline passed with the work still with the unit; a second level a week on.
    done = np.where(np.isnan(r_at), now, r_at)
    late = ~np.isnan(dl) & (dl < done)
    esc_at = keep(deadline + 0.5 * day, late & (deadline + 0.5 * day <= now))
    level = np.where(~np.isnan(esc_at), np.where(done - deadline > 7 * day, 2, 1), 0)
    published = keep(dispatched + 2 * day, (rng.random(n) < 0.01) & (dispatched + 2 * day <= now) & ~rejected)
    return {
        "category": np.array([c for c, _, _ in CATEGORIES], dtype=object)[cat],
        "source": np.array(SOURCES[0], dtype=object)[source],
        "priority": np.array(PRIORITIES[0], dtype=object)[prio],
        "status": status,
        "reported_at": reported,
        "verified_at": v_at,
        "dispatched_at": d_at,
        "rectified_at": r_at,
        "accepted_at": a_at,
        "closed_at": closed,
        "deadline": dl,
        "escalated_at": esc_at,
        "escalation_level": level,
        "published_at": published,
    }


STAGE_COLUMNS = [
    "reported_at",
    "verified_at",
    "dispatched_at",
    "rectified_at",
    "accepted_at",
    "closed_at",
    "deadline",
    "escalated_at",
    "published_at",
]


def generate_cases(n: int, *, seed: int = SEED) -> int:
    """Replace the synthetic dashboard cases by `n` new ones; return how many were inserted."""
    rng = np.random.default_rng(seed)
    with connection.cursor() as cur:
        cur.execute("DELETE FROM patrol_issue WHERE content_digest = %s", [SYNTHETIC_DIGEST])
        if n <= 0:
            return 0
        cur.execute(
            """SELECT ST_X(c), ST_Y(c), ST_Area(geom::geography) FROM (
                   SELECT ST_PointOnSurface(geom) c, geom FROM gridgov_adminarea WHERE level = 'township'
                   ORDER BY code) t"""
        )
        rows = cur.fetchall()
        if not rows:
            return 0
        towns = np.array([(r[0], r[1]) for r in rows])
        # Small (urban) townships are denser: weight by inverse area, with a heavy tail.
        area = np.array([r[2] for r in rows])
        weights = (1 / np.sqrt(area)) * rng.pareto(2.5, len(rows)).clip(0.05, 8)
        weights /= weights.sum()
        cur.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            "(SELECT ST_Extent(geom) e FROM gridgov_adminarea WHERE level = 'city') t"
        )
        bbox = cur.fetchone()
        cur.execute("SELECT EXTRACT(EPOCH FROM now())")
        now = float(cur.fetchone()[0])

        # Points outside the city find no cell and are dropped: draw more, keep the first n.
        m = int(n * 1.25) + 100
        lon, lat, kinds = sample_points(m, rng, towns, weights, bbox)
        # How fast units work varies smoothly over the city, so areas rank differently.
        factor = np.exp(0.45 * np.sin(lon * 23.0 + 1.3) * np.cos(lat * 19.0 + 0.4))
        attrs = _attributes(m, rng, kinds, now, factor)

        cur.execute(
            """CREATE TEMP TABLE dashboard_synth (
                   seq integer, lon double precision, lat double precision, category text, source text,
                   priority text, status text, escalation_level smallint,
                   reported_at double precision, verified_at double precision, dispatched_at double precision,
                   rectified_at double precision, accepted_at double precision, closed_at double precision,
                   deadline double precision, escalated_at double precision, published_at double precision
               ) ON COMMIT DROP"""
        )
        cols = ["category", "source", "priority", "status", "escalation_level", *STAGE_COLUMNS]
        raw = cur.cursor if hasattr(cur, "cursor") else cur
        with raw.copy(f"COPY dashboard_synth (seq, lon, lat, {', '.join(cols)}) FROM STDIN") as copy:
            chunk = 50_000
            for start in range(0, m, chunk):
                stop = min(m, start + chunk)
                lines = []
                for i in range(start, stop):
                    vals = [str(i), repr(float(lon[i])), repr(float(lat[i]))]
                    for c in cols:
                        v = attrs[c][i]
                        if isinstance(v, float) and np.isnan(v):
                            vals.append("\\N")
                        else:
                            vals.append(str(int(v)) if c == "escalation_level" else str(v))
                    lines.append("\t".join(vals))
                copy.write("\n".join(lines) + "\n")
        ts = {c: f"to_timestamp(s.{c})" for c in STAGE_COLUMNS}
        # One set-based routing join: the lowest cell code wins on a shared edge, like locate().
        cur.execute(
            f"""
            INSERT INTO patrol_issue (
                client_uuid, content_digest, token, source, description, point, accuracy_m, crs_note, contact,
                grid_cell_code, zone_hits, status, priority, deadline, deadline_overridden, escalation_level,
                next_escalation_at, is_public, public_description, reported_at, verified_at, dispatched_at,
                rectified_at, accepted_at, escalated_at, published_at, closed_at, updated_at, category,
                district_id, duplicate_of_id, grid_cell_id, reporter_id, responsible_unit_id, township_id)
            SELECT gen_random_uuid(), %(digest)s, gen_random_uuid(), s.source,
                   '（合成）' || cat.name || '问题（演示数据）', ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326),
                   NULL, '', '{{}}'::jsonb, r.cell_code, '[]'::jsonb, s.status, s.priority, {ts["deadline"]},
                   false, s.escalation_level, NULL, s.published_at IS NOT NULL,
                   CASE WHEN s.published_at IS NOT NULL THEN '（合成）典型案例' ELSE '' END,
                   {ts["reported_at"]}, {ts["verified_at"]}, {ts["dispatched_at"]}, {ts["rectified_at"]},
                   {ts["accepted_at"]}, {ts["escalated_at"]}, {ts["published_at"]}, {ts["closed_at"]}, now(),
                   s.category, d.id, NULL, c.id, NULL, NULL, t.id
              FROM (SELECT * FROM dashboard_synth) s
              JOIN LATERAL (
                   SELECT p.cell_code, p.township_code, p.district_code FROM gridgov_gridcellpart p
                    WHERE ST_Covers(p.geom, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326))
                    ORDER BY p.cell_code LIMIT 1) r ON true
              JOIN gridgov_gridcell c ON c.code = r.cell_code
              JOIN gridgov_adminarea t ON t.code = r.township_code
              JOIN gridgov_adminarea d ON d.code = r.district_code
              JOIN patrol_category cat ON cat.code = s.category
             ORDER BY s.seq
             LIMIT %(n)s
            """,
            {"digest": SYNTHETIC_DIGEST, "n": n},
        )
        made = cur.rowcount
        cur.execute("DROP TABLE dashboard_synth")
        cur.execute("ANALYZE patrol_issue")
    return made
