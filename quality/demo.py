"""Demo environmental quality (合成): air stations and water sections in the 13 districts, with a
year of plausible hourly data, as if it had arrived over HJ 212.

- Air: one station per district and a few township stations. PM2.5 follows a seasonal cycle
  (high in winter, low in summer) and a night-time peak, PM10 runs at about 1.6 × PM2.5, O₃
  peaks on summer afternoons, NO₂ at the rush hours; a few winter haze episodes (several days
  of PM2.5 at 120–250 µg/m³) and a spring dust day; about one hour in a hundred flagged (D, M
  or C), and a maintenance block now and then.
- Water: two sections per district (the 千岛湖 and 西湖 ones lakes), every four hours (as HJ
  915-2017's routine), mostly meeting their target, some drifting past it in the dry season;
  two sections off target over the last days, judged so that they open their cases.
- Districts differ (the rural south-west is cleaner) and each district's month has its own
  factor, so the monthly ranking differs across districts and changes from month to month.

Stations are registered through `quality.services` (their loggers through `monitoring`);
the data go into monitoring's store by COPY into a staging table of one row per series and
one INSERT … SELECT unnest(…) (set based, server side). Idempotent: a second run with the
same parameters does nothing; `--force` rewrites the data.
"""

from __future__ import annotations

import datetime as dt
import os
import time

import numpy as np
from django.db import connection, transaction
from django.utils import timezone
from scipy.signal import lfilter

from gridgov.models import AdminArea, AreaLevel, DemoLoad
from monitoring import store

from .models import Station, StationKind, WaterBody
from .offtarget import offtarget_judge
from .services import station_register

DAYS = int(os.environ.get("DEMO_QUALITY_DAYS", "365"))
PARAMS = {"version": 1, "seed": 20260301, "days": DAYS}
PASSWORD = "qa212demo"
# District pollution factors (air): the urban and industrial north-east above 1, the hills of
# the south-west below.
# fmt: off
AIR_FACTOR = {
    "330102": 1.05, "330105": 1.08, "330106": 0.98, "330108": 1.02, "330109": 1.15, "330110": 1.10,
    "330111": 0.92, "330112": 0.85, "330113": 1.12, "330114": 1.18, "330122": 0.80, "330127": 0.70,
    "330182": 0.78,
}
# fmt: on
LAKES = {"330127": "千岛湖", "330106": "西湖"}
TOWNSHIP_AIR = ["330109", "330110", "330113", "330114", "330102", "330111", "330182"]
AIR = {"a34004": "pm25", "a34002": "pm10", "a21026": "so2", "a21004": "no2", "a21005": "co", "a05024": "o3"}
WATER = ("w01009", "w01019", "w01018", "w01017", "w21003", "w21011")

STAGE_SQL = """
CREATE TEMP TABLE quality_demo_stage (
    logger_id integer, factor varchar(20), start timestamptz, step interval,
    vals double precision[], flags text
) ON COMMIT DROP
"""
SPREAD_SQL = """
INSERT INTO monitoring_reading (time, value, min, max, logger_id, period, flag, origin, factor)
SELECT s.start + s.step * (v.n - 1), v.value, v.value * 0.9, v.value * 1.1, s.logger_id, 'H', v.flag, 'L', s.factor
  FROM quality_demo_stage s
  CROSS JOIN LATERAL unnest(s.vals, string_to_array(s.flags, NULL)) WITH ORDINALITY AS v(value, flag, n)
 WHERE v.value IS NOT NULL
"""
# A point inside a township, reproducible: PostGIS's seeded random points.
POINT_SQL = """
SELECT ST_X(p), ST_Y(p)
  FROM (SELECT (ST_Dump(ST_GeneratePoints(geom, 1, %s))).geom AS p FROM gridgov_adminarea WHERE id = %s) q
"""


def load_demo(*, stdout, force: bool = False) -> None:
    districts = list(AdminArea.objects.filter(level=AreaLevel.DISTRICT).order_by("code"))
    if not districts:
        return
    if DemoLoad.objects.filter(name="quality", params=PARAMS).exists() and not force:
        stdout.write("quality demo already loaded; nothing to do")
        return
    t0 = time.monotonic()
    rng = np.random.default_rng(PARAMS["seed"])
    with transaction.atomic():
        stations = register_stations(districts, rng)
        rows = generate(stations, rng, now=timezone.now())
        yesterday = timezone.localdate() - dt.timedelta(days=1)
        judged = offtarget_judge(days=[yesterday - dt.timedelta(days=k) for k in range(6, -1, -1)])
        DemoLoad.objects.update_or_create(name="quality", defaults={"params": PARAMS})
    air = sum(1 for s in stations if s.kind == StationKind.AIR)
    stdout.write(
        f"quality demo: {air} air stations and {len(stations) - air} water sections (合成), {rows} hourly "
        f"readings over {DAYS} days, sections judged {judged}, in {time.monotonic() - t0:.1f}s"
    )


def _point(area: AdminArea, seed: int) -> tuple[float, float]:
    with connection.cursor() as cursor:
        cursor.execute(POINT_SQL, [seed, area.pk])
        return cursor.fetchone()


def _register(*, code: str, name: str, kind: str, area: AdminArea, seed: int, **extra) -> Station:
    existing = Station.objects.select_related("logger").filter(code=code).first()
    if existing is not None:
        return existing
    lon, lat = _point(area, seed)
    return station_register(
        actor=None,
        code=code,
        name=name,
        kind=kind,
        lat=lat,
        lon=lon,
        mn=f"QA{code}".ljust(24, "0"),
        password=PASSWORD,
        synthetic=True,
        **extra,
    )


def register_stations(districts: list[AdminArea], rng: np.random.Generator) -> list[Station]:
    """The demo's stations, registered once (a reload keeps them)."""
    out = []
    for i, district in enumerate(districts):
        towns = list(AdminArea.objects.filter(parent=district).order_by("code"))
        if not towns:
            continue
        short = district.name.rstrip("区县市")
        out.append(
            _register(
                code=f"{district.code}A01",
                name=f"{short}空气质量监测站（合成）",
                kind=StationKind.AIR,
                area=towns[0],
                seed=100 + i,
            )
        )
        if district.code in TOWNSHIP_AIR and len(towns) > 1:
            town = towns[len(towns) // 2]
            out.append(
                _register(
                    code=f"{town.code}A",
                    name=f"{town.name.split('（')[0]}空气站（合成）",
                    kind=StationKind.AIR,
                    area=town,
                    seed=200 + i,
                )
            )
        for k in (1, 2):
            town = towns[(k * len(towns)) // 3 % len(towns)]
            lake = district.code in LAKES and k == 1
            out.append(
                _register(
                    code=f"{district.code}W0{k}",
                    name=(f"{LAKES[district.code]}" if lake else f"{short}第{k}断面") + "（合成）",
                    kind=StationKind.WATER,
                    area=town,
                    seed=300 + 10 * i + k,
                    target_class="II" if lake or (i + k) % 5 == 0 else "III",
                    water_body=WaterBody.LAKE if lake else WaterBody.RIVER,
                )
            )
    return out


def _ar(rng: np.random.Generator, n: int, rho: float, sigma: float) -> np.ndarray:
    """AR(1) noise: values drift like a real process, not like white noise."""
    return lfilter([1.0], [1.0, -rho], rng.normal(0, sigma, n))


def _time_axes(start: dt.datetime, n: int, step_hours: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(local hour of day, day of year, month index since start, season) for each step; season
    is +1 in mid-January and −1 in mid-July."""
    local = timezone.localtime(start)
    hours = local.hour + np.arange(n) * step_hours
    days = np.datetime64(local.date()) + (hours // 24).astype("timedelta64[D]")
    doy = (days - days.astype("datetime64[Y]")).astype(int) + 1
    months = days.astype("datetime64[M]")
    month = (months - months[0]).astype(int)
    season = np.cos(2 * np.pi * (doy - 15) / 365.25)
    return hours % 24, doy, month, season


def _month_factors(rng: np.random.Generator, months: int, low: float, high: float) -> np.ndarray:
    return rng.uniform(low, high, months + 1)


def _air_series(rng, n: int, start: dt.datetime, district_factor: float) -> dict[str, np.ndarray]:
    hod, doy, month, season = _time_axes(start, n, 1)
    monthly = _month_factors(rng, int(month.max()), 0.8, 1.2)[month]
    level = district_factor * monthly
    night = 1 + 0.18 * np.cos(2 * np.pi * (hod - 22) / 24)
    pm25 = (29 + 14 * season) * level * night * np.exp(_ar(rng, n, 0.97, 0.05))
    # winter haze episodes: a ramp up over a day, two to four days high, a quick clear-out
    for _ in range(int(rng.integers(2, 5))):
        winter_days = np.flatnonzero((season > 0.6) & (hod == 0))
        if not len(winter_days):
            break
        at = int(rng.choice(winter_days))
        length = int(rng.integers(36, 84))
        shape = np.concatenate([np.linspace(1, 3.2, 24), np.full(length, 3.2), np.linspace(3.2, 1, 12)])
        end = min(n, at + len(shape))
        pm25[at:end] *= shape[: end - at] * rng.uniform(0.8, 1.2)
    pm10 = pm25 * (1.55 + 0.1 * _ar(rng, n, 0.9, 0.1))
    spring = np.flatnonzero((doy > 70) & (doy < 110) & (hod == 6))
    if len(spring):  # a dust day: coarse particles
        at = int(rng.choice(spring))
        pm10[at : at + 30] *= 3.2
    afternoon = np.maximum(0.15, 1 + 0.9 * np.cos(2 * np.pi * (hod - 15) / 24))
    o3 = (50 - 28 * season) * afternoon * (0.95 + 0.1 / district_factor) * np.exp(_ar(rng, n, 0.95, 0.07))
    rush = 1 + 0.3 * np.exp(-(((hod - 8) / 1.5) ** 2)) + 0.35 * np.exp(-(((hod - 19) / 2) ** 2))
    no2 = (30 + 10 * season) * level * rush * np.exp(_ar(rng, n, 0.9, 0.1))
    so2 = (7 + 3 * season) * level * np.exp(_ar(rng, n, 0.9, 0.12))
    co = (0.55 + 0.25 * season) * level + 0.004 * pm25
    values = {"pm25": pm25, "pm10": pm10, "so2": so2, "no2": no2, "co": co, "o3": o3}
    return {k: np.round(np.maximum(v, 0.1 if k == "co" else 1.0), 1 if k != "co" else 2) for k, v in values.items()}


def _water_series(rng, n: int, start: dt.datetime, *, target: str, lake: bool) -> dict[str, np.ndarray]:
    """Four-hourly values around a level that meets `target` most of the time."""
    _hod, _doy, month, season = _time_axes(start, n, 4)
    monthly = _month_factors(rng, int(month.max()), 0.8, 1.2)[month]
    strict = target in ("I", "II")
    nh3 = (0.24 if strict else 0.48) * (1 + 0.3 * season) * monthly * np.exp(_ar(rng, n, 0.9, 0.12))
    codmn = (2.6 if strict else 4.0) * (1 + 0.15 * season) * monthly**0.5 * np.exp(_ar(rng, n, 0.9, 0.06))
    tp_level = (0.015 if strict else 0.03) if lake else (0.05 if strict else 0.11)
    tp = tp_level * (1 + 0.25 * season) * monthly * np.exp(_ar(rng, n, 0.9, 0.1))
    do = (8.6 + 1.6 * season) - 0.8 * (monthly - 1) + _ar(rng, n, 0.9, 0.08)
    return {
        "w01009": np.round(np.maximum(do, 2.5), 2),
        "w01019": np.round(codmn, 2),
        "w01018": np.round(codmn * 2.9, 1),
        "w01017": np.round(codmn * 0.62, 2),
        "w21003": np.round(nh3, 3),
        "w21011": np.round(tp, 3),
    }


def _flags(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    flags = np.full(n, "N")
    faults = rng.random(n) < rate
    flags[faults] = rng.choice(list("DMC"), int(faults.sum()))
    return flags


def _maintenance(rng: np.random.Generator, n: int, clear: int) -> np.ndarray:
    """Blocks when the whole station is in maintenance (M), once or twice a year; the last
    `clear` steps are left alone (the demo's recent days have their AQI and class)."""
    down = np.zeros(n, dtype=bool)
    for _ in range(int(rng.integers(1, 3))):
        at = int(rng.integers(0, max(1, n - clear - 8)))
        down[at : at + int(rng.integers(3, 8))] = True
    return down


def generate(stations: list[Station], rng: np.random.Generator, *, now: dt.datetime) -> int:
    """Write the stations' data (replacing theirs); return the number of readings."""
    end = timezone.localtime(now).replace(minute=0, second=0, microsecond=0)  # the hour in progress is not in
    start = end - dt.timedelta(days=DAYS)
    water_start = start.replace(hour=start.hour - start.hour % 4)
    ids = [s.logger_id for s in stations]
    with connection.cursor() as cursor:
        for table in ("monitoring_reading", "monitoring_packet", "monitoring_pendinghour", "monitoring_part"):
            cursor.execute(f"DELETE FROM {table} WHERE logger_id = ANY(%s)", [ids])
        store.ensure_partitions(cursor, {("H", m) for m in store.months_between(start, end)})
        cursor.execute(STAGE_SQL)
        with cursor.copy("COPY quality_demo_stage (logger_id, factor, start, step, vals, flags) FROM STDIN") as copy:
            off_target = [s for s in stations if s.kind == StationKind.WATER][3::11]
            for station in stations:
                if station.kind == StationKind.AIR:
                    n = int((end - start).total_seconds() // 3600)
                    district = station.code[:6]
                    series = _air_series(rng, n, start, AIR_FACTOR.get(district, 1.0))
                    down = _maintenance(rng, n, 72)
                    for code, key in AIR.items():
                        flags = _flags(rng, n, 0.006)
                        flags[down] = "M"
                        copy.write(_row(station.logger_id, code, start, "1 hour", series[key], flags))
                else:
                    n = int((end - water_start).total_seconds() // (4 * 3600))
                    series = _water_series(
                        rng, n, water_start, target=station.target_class, lake=station.water_body == WaterBody.LAKE
                    )
                    if station in off_target:  # ammonia well past the target in the last days
                        series["w21003"][-30:] = np.round(rng.uniform(1.6, 2.4, 30), 3)
                    down = _maintenance(rng, n, 18)
                    for code in WATER:
                        flags = _flags(rng, n, 0.01)
                        flags[down] = "M"
                        copy.write(_row(station.logger_id, code, water_start, "4 hours", series[code], flags))
        cursor.execute(SPREAD_SQL)
        written = cursor.rowcount
        # what the receiver would have kept: each logger heard from at the last hour
        cursor.execute(
            "UPDATE monitoring_logger SET last_seen = %s, last_data_time = %s, offline_since = NULL, accepted = %s "
            "WHERE id = ANY(%s)",
            [end, end - dt.timedelta(minutes=1), DAYS * 24, ids],
        )
    return written


def _row(logger_id: int, factor: str, start: dt.datetime, step: str, values: np.ndarray, flags: np.ndarray) -> str:
    vals = ",".join(repr(float(v)) for v in values)
    return f"{logger_id}\t{factor}\t{start.isoformat()}\t{step}\t{{{vals}}}\t{''.join(flags)}\n"
