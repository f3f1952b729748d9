"""The air quality index (AQI) of HJ 633: pure functions, no Django.

Two editions apply, by the date of the data:

- **HJ 633-2026** (in force from 2026-03-01) with the breakpoints of issue 17;
- **HJ 633-2012** for data before 2026-03-01: the same table except PM10 (100 ↔ 150 µg/m³)
  and PM2.5 (100 ↔ 75 µg/m³). Its breakpoints as published in HJ 633-2012 Table 1, checked
  against hrbonz/python-aqi `aqi/algos/mep.py` (the "MEP" algorithm) and the standard's text
  (e.g. doc.wtbworld.com/doc/32317.html); its notes (2) and (3) give the rules above 800:
  SO₂ 1 h above 800 µg/m³ is not indexed, SO₂ is reported by its 24 h index instead; O₃ 8 h
  above 800 µg/m³ is not indexed, O₃ is reported by its 1 h index instead.
  HJ 633-2026 (issue 17): above 800 the SO₂ 1 h index counts as 200 and the O₃ 8 h index as 300.

Rules of both editions, as implemented here:

- IAQI = IAQI_lo + (IAQI_hi − IAQI_lo)(C − BP_lo)/(BP_hi − BP_lo), rounded **up** to an
  integer; computed exactly for decimal input (a float noise of 51.000000000000001 is 51,
  not 52). Above the table's last breakpoint (500) the index counts as 500.
- AQI = the largest IAQI, also rounded up (it is an integer already). The primary pollutant
  (首要污染物) is the one with the largest IAQI when AQI > 50; ties are listed together.
- Daily (日报): the 24 h means of SO₂, NO₂, CO, PM10, PM2.5 and the daily maximum 8 h moving
  average of O₃ (`o3_8h`). Hourly (实时报): the 1 h breakpoints of SO₂, NO₂, CO and O₃ and,
  for PM10 and PM2.5 (which have no 1 h breakpoints), the 24 h breakpoints on the hour's value.
- A missing pollutant still gives an AQI when another's IAQI exceeds 100 (the day is polluted
  whatever the missing one was); otherwise the AQI is not available (`aqi` None, "NA").
- Levels (Table 2) and colours (Appendix A): 优 0–50 green (0, 228, 0), 良 51–100 yellow
  (255, 255, 0), 轻度污染 101–150 orange (255, 126, 0), 中度污染 151–200 red (255, 0, 0),
  重度污染 201–300 purple (153, 0, 76), 严重污染 > 300 maroon (126, 0, 35).

`daily_aqi` is the definition; `daily_aqi_many` computes the same results for many days at
once with numpy (a year of a city's stations), doing the same float operations in the same
order and handing the near-integer cases and any invalid input to the scalar functions, so its
results are identical (tests/quality/test_aqi.py holds it to `daily_aqi`).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

HJ633_2026 = "HJ 633-2026"
HJ633_2012 = "HJ 633-2012"
SWITCH_DATE = dt.date(2026, 3, 1)

IAQI_STEPS = (0, 50, 100, 150, 200, 300, 400, 500)

# µg/m³, CO in mg/m³; IAQI 0 / 50 / 100 / 150 / 200 / 300 / 400 / 500 (shorter rows stop early).
_COMMON = {
    "so2_24h": (0, 50, 150, 475, 800, 1600, 2100, 2620),
    "so2_1h": (0, 150, 500, 650, 800),
    "no2_24h": (0, 40, 80, 180, 280, 565, 750, 940),
    "no2_1h": (0, 100, 200, 700, 1200, 2340, 3090, 3840),
    "co_24h": (0, 2, 4, 14, 24, 36, 48, 60),
    "co_1h": (0, 5, 10, 35, 60, 90, 120, 150),
    "o3_8h": (0, 100, 160, 215, 265, 800),
    "o3_1h": (0, 160, 200, 300, 400, 800, 1000, 1200),
}
BREAKPOINTS = {
    HJ633_2026: {
        **_COMMON,
        "pm10_24h": (0, 50, 120, 250, 350, 420, 500, 600),
        "pm25_24h": (0, 35, 60, 115, 150, 250, 350, 500),
    },
    HJ633_2012: {
        **_COMMON,
        "pm10_24h": (0, 50, 150, 250, 350, 420, 500, 600),
        "pm25_24h": (0, 35, 75, 115, 150, 250, 350, 500),
    },
}

# The pollutants of each report, in the standard's order (ties of the primary are listed so).
DAILY = ("so2", "no2", "pm10", "co", "o3_8h", "pm25")
HOURLY = ("so2", "no2", "pm10", "co", "o3", "pm25")
# Which row of the table each pollutant of a report is indexed on.
DAILY_ROWS = {
    "so2": "so2_24h",
    "no2": "no2_24h",
    "pm10": "pm10_24h",
    "co": "co_24h",
    "o3_8h": "o3_8h",
    "pm25": "pm25_24h",
}
HOURLY_ROWS = {"so2": "so2_1h", "no2": "no2_1h", "pm10": "pm10_24h", "co": "co_1h", "o3": "o3_1h", "pm25": "pm25_24h"}


@dataclass(frozen=True)
class Level:
    """An AQI category: its number (1–6), its name in the standard and its colour."""

    number: int
    name: str
    upper: int | None  # the category's highest AQI (None: no bound)
    colour: str  # hex of Appendix A's RGB

    @property
    def rgb(self) -> tuple[int, ...]:
        return tuple(int(self.colour[i : i + 2], 16) for i in (1, 3, 5))


LEVELS = (
    Level(1, "优", 50, "#00E400"),
    Level(2, "良", 100, "#FFFF00"),
    Level(3, "轻度污染", 150, "#FF7E00"),
    Level(4, "中度污染", 200, "#FF0000"),
    Level(5, "重度污染", 300, "#99004C"),
    Level(6, "严重污染", None, "#7E0023"),
)


@dataclass(frozen=True)
class AqiResult:
    aqi: int | None  # None: not available ("NA")
    level: Level | None
    primary: tuple[str, ...]
    iaqi: dict[str, int | None]
    standard: str


def standard_for(day: dt.date) -> str:
    """The edition that applies to data of `day`."""
    return HJ633_2026 if day >= SWITCH_DATE else HJ633_2012


def level_of(aqi: int) -> Level:
    for level in LEVELS:
        if level.upper is None or aqi <= level.upper:
            return level
    raise AssertionError("unreachable")


def _exact(value: float) -> Fraction:
    """The decimal the float was written as (its shortest repr), as an exact fraction."""
    return Fraction(value) if isinstance(value, int) else Fraction(repr(float(value)))


def sub_index(row: tuple[float, ...], concentration: float) -> int:
    """IAQI of `concentration` on one row of breakpoints, rounded up; above the row's last
    breakpoint, the IAQI of that breakpoint (500 for a full row)."""
    c = concentration
    if not c >= 0:  # also refuses NaN
        raise ValueError(f"a concentration must be a number ≥ 0, got {concentration!r}")
    if c >= row[-1]:
        return IAQI_STEPS[len(row) - 1]
    j = bisect.bisect_left(row, c)
    if j == 0:
        return 0
    bl, bh, il, ih = row[j - 1], row[j], IAQI_STEPS[j - 1], IAQI_STEPS[j]
    x = il + (ih - il) * (c - bl) / (bh - bl)
    if abs(x - round(x)) > 1e-6:
        return math.ceil(x)
    # Near an integer, the float may have drifted across it: compute exactly.
    exact = il + Fraction(ih - il) * (_exact(c) - bl) / (bh - bl)
    return math.ceil(exact)


def _combine(iaqi: dict[str, int | None], order: tuple[str, ...], standard: str) -> AqiResult:
    known = [v for v in iaqi.values() if v is not None]
    if not known:
        return AqiResult(None, None, (), iaqi, standard)
    top = max(known)
    if len(known) < len(iaqi) and top <= 100:
        return AqiResult(None, None, (), iaqi, standard)
    primary = tuple(k for k in order if iaqi[k] == top) if top > 50 else ()
    return AqiResult(top, level_of(top), primary, iaqi, standard)


def _checked(name: str, value: float | None) -> float | None:
    if value is not None and not value >= 0:
        raise ValueError(f"{name} must be a number ≥ 0, got {value!r}")
    return value


def daily_aqi(day: dt.date, concentrations: Mapping[str, float | None], *, o3_1h: float | None = None) -> AqiResult:
    """The daily AQI (日报) of 24 h concentrations keyed like DAILY (`o3_8h`: the day's
    maximum 8 h moving average). `o3_1h`, the day's maximum hourly O₃, is used by HJ 633-2012
    when O₃ 8 h is above 800."""
    standard = standard_for(day)
    rows = BREAKPOINTS[standard]
    iaqi: dict[str, int | None] = {}
    for key in DAILY:
        c = _checked(key, concentrations.get(key))
        if c is None:
            iaqi[key] = None
        elif key == "o3_8h" and c > rows["o3_8h"][-1] and standard == HJ633_2012:
            o3 = _checked("o3_1h", o3_1h)
            iaqi[key] = None if o3 is None else sub_index(rows["o3_1h"], o3)
        else:
            iaqi[key] = sub_index(rows[DAILY_ROWS[key]], c)
    return _combine(iaqi, DAILY, standard)


def hourly_aqi(day: dt.date, concentrations: Mapping[str, float | None], *, so2_24h: float | None = None) -> AqiResult:
    """The hourly AQI (实时报) of 1 h concentrations keyed like HOURLY, for an hour of `day`.
    `so2_24h`, the 24 h moving average of SO₂, is used by HJ 633-2012 when SO₂ 1 h is above 800."""
    standard = standard_for(day)
    rows = BREAKPOINTS[standard]
    iaqi: dict[str, int | None] = {}
    for key in HOURLY:
        c = _checked(key, concentrations.get(key))
        if c is None:
            iaqi[key] = None
        elif key == "so2" and c > rows["so2_1h"][-1] and standard == HJ633_2012:
            s24 = _checked("so2_24h", so2_24h)
            iaqi[key] = None if s24 is None else sub_index(rows["so2_24h"], s24)
        else:
            iaqi[key] = sub_index(rows[HOURLY_ROWS[key]], c)
    return _combine(iaqi, HOURLY, standard)


# --- Many days at once ----------------------------------------------------------------------------

# The primary pollutants for each set of tied keys (bit i: DAILY[i]), in the standard's order.
_PRIMARY_BY_MASK = tuple(tuple(k for i, k in enumerate(DAILY) if mask >> i & 1) for mask in range(1 << len(DAILY)))


def _sub_index_many(row: tuple[float, ...], c: np.ndarray) -> np.ndarray:
    """`sub_index` of each concentration (NaN: none, giving NaN), as floats holding integers.

    The same float expression as `sub_index`, element by element; where it lands within 1e-6 of
    an integer, `sub_index` itself decides (exactly)."""
    bp = np.asarray(row, dtype=float)
    steps = np.asarray(IAQI_STEPS[: len(row)], dtype=float)
    out = np.full(c.shape, np.nan)
    present = ~np.isnan(c)
    j = np.searchsorted(bp, c, side="left")  # bisect_left
    above = present & (c >= bp[-1])
    out[above] = steps[-1]
    out[present & (j == 0)] = 0.0
    mid = np.flatnonzero(present & ~above & (j > 0))
    jm, cm = j[mid], c[mid]
    bl, bh, il, ih = bp[jm - 1], bp[jm], steps[jm - 1], steps[jm]
    x = il + (ih - il) * (cm - bl) / (bh - bl)
    out[mid] = np.ceil(x)
    near = np.abs(x - np.round(x)) <= 1e-6
    for i, value in zip(mid[near].tolist(), cm[near].tolist(), strict=True):
        out[i] = sub_index(row, value)
    return out


def _daily_iaqi_many(standard: str, conc: Mapping[str, np.ndarray], o3_1h: np.ndarray) -> np.ndarray:
    """The IAQI of each key of DAILY (columns in that order) for days of one edition."""
    rows = BREAKPOINTS[standard]
    out = np.empty((len(o3_1h), len(DAILY)))
    for i, key in enumerate(DAILY):
        out[:, i] = _sub_index_many(rows[DAILY_ROWS[key]], conc[key])
    if standard == HJ633_2012:  # note (3): O₃ 8 h above 800 is indexed by its 1 h value
        by_1h = conc["o3_8h"] > rows["o3_8h"][-1]
        col = DAILY.index("o3_8h")
        out[by_1h, col] = _sub_index_many(rows["o3_1h"], o3_1h[by_1h])
    return out


def daily_aqi_many(
    days: Sequence[dt.date], concentrations: Mapping[str, np.ndarray], *, o3_1h: np.ndarray
) -> list[AqiResult]:
    """`daily_aqi` of many days: `concentrations` maps each key of DAILY to an array with one
    value per day (NaN: not available), `o3_1h` likewise."""
    n = len(days)
    conc = {key: np.asarray(concentrations[key], dtype=float) for key in DAILY}
    o3_1h = np.asarray(o3_1h, dtype=float)
    for values in conc.values():
        bad = values < 0
        if bad.any():  # let the definition refuse it, with its message
            i = int(np.flatnonzero(bad)[0])
            daily_aqi(days[i], {k: (None if np.isnan(v[i]) else float(v[i])) for k, v in conc.items()})
    new = np.fromiter((d >= SWITCH_DATE for d in days), dtype=bool, count=n)
    iaqi = np.empty((n, len(DAILY)))
    for standard, mask in ((HJ633_2026, new), (HJ633_2012, ~new)):
        if mask.any():
            iaqi[mask] = _daily_iaqi_many(standard, {k: v[mask] for k, v in conc.items()}, o3_1h[mask])
    # _combine, row by row in numpy: the top IAQI, NA when one is missing and none exceeds 100
    known = ~np.isnan(iaqi)
    top = np.where(known, iaqi, -1.0).max(axis=1)
    available = known.any(axis=1) & (known.all(axis=1) | (top > 100))
    ties = ((iaqi == top[:, None]).astype(np.int64) << np.arange(len(DAILY))).sum(axis=1)
    ties[~available | (top <= 50)] = 0
    index = np.where(known, iaqi, -1.0).astype(np.int64).tolist()
    out = []
    for day, row, t, ok, mask in zip(
        days, index, top.astype(np.int64).tolist(), available.tolist(), ties.tolist(), strict=True
    ):
        values = {k: (v if v >= 0 else None) for k, v in zip(DAILY, row, strict=True)}
        standard = HJ633_2026 if day >= SWITCH_DATE else HJ633_2012
        if ok:
            out.append(AqiResult(t, level_of(t), _PRIMARY_BY_MASK[mask], values, standard))
        else:
            out.append(AqiResult(None, None, (), values, standard))
    return out
