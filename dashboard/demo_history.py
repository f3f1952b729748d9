"""The demo's year of synthetic case history (合成): who reports what, when, and how each case goes.

A model, not noise, so that the cockpit, the rankings and the 通报 show what the product is for:

- Volume by district follows population (urban districts report most); the category mix follows
  the district's character (catering fumes and construction noise in the city, straw burning,
  logging and sand mining in the counties) and the season: straw burning at the wheat (June) and
  rice (October) harvests, dust in spring, catering fumes in winter, black-odorous water and
  VOCs in summer, fewer reports over the Spring Festival and at weekends; the platform's use
  grows over the year.
- Grid officers report on working days in office hours, citizens at any hour (evenings most),
  online monitoring around the clock.
- Every step of the loop (核实, 交办, 整改, 验收) takes office hours on working days
  (`dashboard.demo_calendar`, the holiday table of patrol.calendar); a deadline is the end of the
  N-th working day after dispatch, as `issue_dispatch` sets it; 督办 comes at the first run of the
  ten-minute job after the deadline, level 2 two working days later, as the job does.
- Each district has a performance profile that drifts from month to month (a slow wave plus
  noise), so the rankings change; townships differ around their district.
- Some reports are rejected, some are duplicates of another report, some rectifications fail
  acceptance once, some closed cases are reopened, a few stall for months, and about one in a
  hundred closed cases is published as a typical case (曝光) with before/after photos.

Each month is drawn from its own seed, including the future of its cases: loading on another
day cuts the same timelines at another `now`, so a later load adds the cases reported since
without changing the earlier ones. Pure Python and numpy; the database side is
`dashboard.demo_load`.
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import shapely

from patrol.demo import DEPARTMENT_FOR

from .demo_calendar import DAY, WorkCalendar, local_midnight

BASE_PER_DAY = 100.0  # city-wide reports on an ordinary working day at the start of the year
GROWTH = 0.15  # more use of the platform by the end of the year
PUBLISH_SHARE = 0.008

# Districts: population-like weight (10,000 people, 2020 census, rounded) and character.
DISTRICTS = {
    "330102": (132, "urban"),
    "330105": (112, "urban"),
    "330106": (115, "urban"),
    "330108": (50, "urban"),
    "330109": (201, "suburban"),
    "330110": (123, "suburban"),
    "330113": (118, "suburban"),
    "330114": (77, "suburban"),
    "330111": (83, "rural"),
    "330112": (64, "rural"),
    "330122": (45, "rural"),
    "330127": (33, "rural"),
    "330182": (44, "rural"),
}
CHARACTERS = ("urban", "suburban", "rural")

# code: (share in urban, suburban, rural districts), monthly season (Jan…Dec), description templates
CATEGORIES: dict[str, tuple[tuple[float, float, float], tuple[float, ...], tuple[str, ...]]] = {
    "air.open_burning": ((2, 4, 6), (1.4, 1.3, 1.3, 1.1, 0.9, 0.8, 0.6, 0.6, 0.8, 1.0, 1.2, 1.4),
                         ("空地露天焚烧垃圾，烟雾较大", "路边焚烧枯枝落叶")),
    "air.straw_burning": ((0.3, 3, 7), (0.1, 0.1, 0.2, 0.3, 1.2, 5.0, 1.0, 0.2, 0.5, 4.5, 1.5, 0.3),
                          ("田间焚烧秸秆，浓烟影响道路视线", "收割后农田有焚烧秸秆痕迹")),
    "air.dust": ((14, 14, 8), (1.0, 1.1, 1.7, 1.9, 1.6, 0.9, 0.6, 0.6, 0.9, 1.0, 1.0, 1.0),
                 ("工地裸土未覆盖，车辆带泥上路", "渣土车未密闭，沿路抛洒扬尘")),
    "air.catering_fumes": ((20, 12, 5), (1.8, 1.7, 1.2, 0.9, 0.8, 0.7, 0.7, 0.7, 0.8, 1.0, 1.4, 1.9),
                           ("沿街餐馆油烟直排，未装净化设施", "烧烤摊油烟扰民")),
    "air.vocs": ((3, 6, 3), (0.7, 0.7, 0.9, 1.1, 1.4, 1.5, 1.5, 1.4, 1.2, 0.9, 0.7, 0.7),
                 ("汽修店露天喷漆，异味明显", "印刷厂废气异味")),
    "water.illegal_discharge": ((5, 8, 7), (1.0,) * 12, ("雨水口有不明污水排出", "河边暗管排放浑浊污水")),
    "water.black_odorous": ((4, 5, 4), (0.6, 0.6, 0.7, 0.9, 1.1, 1.4, 1.7, 1.7, 1.3, 0.9, 0.7, 0.6),
                            ("河道发黑发臭", "池塘水体发黑，有异味")),
    "water.river_litter": ((8, 9, 10), (0.7, 0.7, 0.9, 1.0, 1.2, 1.6, 1.4, 1.3, 1.1, 0.9, 0.8, 0.7),
                           ("河道漂浮垃圾较多", "河岸堆放生活垃圾")),
    "solid_waste.illegal_dumping": ((10, 12, 11), (1.0,) * 12, ("路边倾倒建筑垃圾", "荒地偷倒装修垃圾")),
    "solid_waste.hazardous": ((1, 2, 1.5), (1.0,) * 12, ("废机油桶随意堆放", "疑似危险废物露天存放")),
    "noise.construction": ((12, 7, 3), (0.8, 0.5, 1.1, 1.2, 1.2, 1.1, 1.2, 1.2, 1.1, 1.1, 1.0, 0.9),
                           ("夜间施工噪声扰民", "工地凌晨打桩")),
    "noise.industrial": ((2, 4, 2), (1.0,) * 12, ("工厂设备噪声扰民", "风机夜间噪声大")),
    "soil.contamination": ((0.3, 0.8, 1), (1.0,) * 12, ("废弃厂区土壤疑似污染", "农田边堆放不明废渣")),
    "ecology.red_line_encroachment": ((0.2, 0.8, 2.5), (1.0,) * 12, ("生态保护红线内新建构筑物", "红线内开挖山体")),
    "ecology.illegal_logging": ((0.1, 1, 4), (1.3, 1.2, 1.2, 1.0, 0.8, 0.7, 0.7, 0.8, 0.9, 1.0, 1.2, 1.3),
                                ("山林疑似被砍伐", "林地毁林开垦")),
    "ecology.illegal_sand_mining": ((0.1, 0.8, 3), (1.2, 1.2, 1.0, 0.9, 0.8, 0.6, 0.6, 0.7, 0.9, 1.1, 1.3, 1.3),
                                    ("河道夜间非法采砂", "江边有采砂船作业")),
    "small_polluters.workshop": ((4, 8, 5), (1.0,) * 12, ("居民区内小作坊喷漆", "无证小塑料加工点")),
    "other": ((4, 4, 4), (1.0,) * 12, ("其他环境问题", "群众反映环境问题")),
}  # fmt: skip
SOURCES = ("patrol", "citizen", "imagery", "online_monitoring", "inspection")
# Source mix (patrol, citizen, imagery, online monitoring, inspection) by category family.
SOURCE_MIX = {
    "default": (0.62, 0.25, 0.02, 0.01, 0.10),
    "air.catering_fumes": (0.35, 0.58, 0.0, 0.02, 0.05),
    "noise.construction": (0.25, 0.70, 0.0, 0.0, 0.05),
    "air.straw_burning": (0.60, 0.20, 0.18, 0.0, 0.02),
    "air.open_burning": (0.60, 0.25, 0.13, 0.0, 0.02),
    "air.vocs": (0.40, 0.25, 0.0, 0.25, 0.10),
    "noise.industrial": (0.40, 0.30, 0.0, 0.20, 0.10),
    "water.illegal_discharge": (0.45, 0.20, 0.0, 0.25, 0.10),
    "ecology": (0.45, 0.10, 0.35, 0.0, 0.10),
    "air.dust": (0.55, 0.30, 0.08, 0.02, 0.05),
}
# At weekends and on holidays citizens and monitors report, and a few patrols on duty.
WEEKEND_MIX = (0.2, 0.7, 0.0, 0.1, 0.0)
# Street-level problems that the street office (街道办事处) fixes half the time.
STREET_CATEGORIES = {"air.catering_fumes", "water.river_litter", "solid_waste.illegal_dumping", "other"}


@dataclass
class Place:
    """The grid as the history needs it (read from the database by `dashboard.demo_load`)."""

    district_codes: list[str]
    township_codes: list[str]
    township_district: np.ndarray  # district index of each township
    township_weight: np.ndarray  # relative activity within the district
    cell_ids: np.ndarray
    cell_township: np.ndarray  # township index of each cell
    cell_weight: np.ndarray
    cell_geoms: np.ndarray  # shapely polygons, WGS84
    days: dict[str, tuple[int, int, int]]  # category → working days (normal, high, urgent)
    default_priority: dict[str, str]
    cells_by_township: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        order = np.argsort(self.cell_township, kind="stable")
        bounds = np.searchsorted(self.cell_township[order], np.arange(len(self.township_codes) + 1))
        self.cells_by_township = [order[bounds[i] : bounds[i + 1]] for i in range(len(self.township_codes))]


@dataclass
class Profile:
    """A district's performance in one month: > 0 better than usual, < 0 worse."""

    quality: float

    def factor(self, strength: float) -> float:
        return math.exp(-strength * self.quality)


def district_profiles(codes: list[str], seed: int, months: list[tuple[int, int]]) -> dict:
    """(district index, (year, month)) → Profile: a base level, a slow wave and monthly noise."""
    rng = np.random.default_rng([seed, 1])
    out = {}
    for i, _code in enumerate(codes):
        base, amp = rng.normal(0, 0.35), rng.uniform(0.3, 0.7)
        period, phase = rng.uniform(5, 11), rng.uniform(0, 2 * math.pi)
        for ym in months:
            k = ym[0] * 12 + ym[1]  # months since year 0: the same wave whichever months are drawn
            noise = np.random.default_rng([seed, 2, i, ym[0], ym[1]]).normal(0, 0.15)
            out[i, ym] = Profile(float(base + amp * math.sin(2 * math.pi * k / period + phase) + noise))
    return out


@dataclass
class Event:
    at: float
    action: str
    from_status: str
    to_status: str
    # Who acts: ("township", i), ("district", i), ("unit", case.unit), ("officer", cell i),
    # ("analyst",), or None for the system (the escalation job, an online monitor).
    actor: tuple | None
    note: str = ""
    data: dict = field(default_factory=dict)
    photo: str = ""  # "report", "rectified" or "" (the writer picks the photo)


@dataclass
class Case:
    """One synthetic case: where, what, who reported it, and its whole timeline."""

    key: str  # stable within the month: the client_uuid is made from it
    reported: float
    cell: int
    township: int
    district: int
    lon: float
    lat: float
    category: str
    source: str
    priority: str
    text: str
    unit: tuple  # (district i, township i, department name or "" for the street office)
    days: int  # working days allowed for the rectification (category × priority)
    events: list[Event] = field(default_factory=list)
    duplicate_of: str | None = None  # key of the original
    published: bool = False


def month_span(year: int, month: int) -> tuple[float, float]:
    start = local_midnight(dt.date(year, month, 1))
    days = month_calendar.monthrange(year, month)[1]
    return start, start + days * DAY


def _points_in(geoms: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A uniformly random point inside each polygon (rejection sampling on the bounding boxes)."""
    n = len(geoms)
    bounds = shapely.bounds(geoms)
    lon, lat = np.empty(n), np.empty(n)
    todo = np.arange(n)
    for _ in range(200):
        if not len(todo):
            break
        b = bounds[todo]
        x = rng.uniform(b[:, 0], b[:, 2])
        y = rng.uniform(b[:, 1], b[:, 3])
        inside = shapely.contains_xy(geoms[todo], x, y)
        lon[todo[inside]], lat[todo[inside]] = x[inside], y[inside]
        todo = todo[~inside]
    for i in todo:  # a sliver that rejection did not hit: a point on its surface
        p = shapely.point_on_surface(geoms[i])
        lon[i], lat[i] = p.x, p.y
    return lon, lat


def _pick(rng, groups: np.ndarray, members: list[np.ndarray], weights: np.ndarray) -> np.ndarray:
    """For each entry of `groups`, one of `members[group]` drawn by `weights` (vectorised)."""
    out = np.empty(len(groups), dtype=int)
    u = rng.random(len(groups))
    for g in np.unique(groups):
        sel = np.flatnonzero(groups == g)
        cum = np.cumsum(weights[members[g]])
        out[sel] = members[g][np.minimum(np.searchsorted(cum, u[sel] * cum[-1]), len(cum) - 1)]
    return out


def _times_of_day(source: np.ndarray, rng) -> np.ndarray:
    """Seconds after local midnight at which reports arrive: grid staff in office hours,
    citizens through the day and most in the evening, online monitoring at any hour."""
    office = np.clip(rng.normal(11.5, 2.3, len(source)), 8.3, 17.8)
    evening = rng.random(len(source)) < 0.55
    citizen = np.clip(np.where(evening, rng.normal(20, 2.0, len(source)), rng.normal(11, 2.5, len(source))), 0, 23.9)
    anytime = rng.uniform(0, 24, len(source))
    hours = np.where(source == 1, citizen, np.where(source == 3, anytime, office))
    return hours * 3600


def draw_month(year: int, month: int, place: Place, cal: WorkCalendar, seed: int, start: float) -> list[Case]:
    """The cases reported in a month (all of it: the caller cuts at now), without timelines."""
    rng = np.random.default_rng([seed, year, month])
    m0, m1 = month_span(year, month)
    n_days = int(round((m1 - m0) / DAY))
    codes = list(CATEGORIES)
    pop = np.array([DISTRICTS.get(c, (60, "rural"))[0] for c in place.district_codes], dtype=float)
    character = [CHARACTERS.index(DISTRICTS.get(c, (60, "rural"))[1]) for c in place.district_codes]
    share = np.array([[CATEGORIES[k][0][character[d]] for k in codes] for d in range(len(pop))])
    share /= share.sum(axis=1, keepdims=True)
    season = np.array([CATEGORIES[k][1][month - 1] for k in codes])
    day_start = m0 + np.arange(n_days) * DAY
    days = [dt.date(year, month, i + 1) for i in range(n_days)]
    working = np.array([cal.is_working(d) for d in days])
    festival = np.array([month in (1, 2) and cal.exceptions.get(d) is False for d in days])
    growth = 1 + GROWTH * np.maximum(0.0, (day_start - start) / (365 * DAY))
    factor = np.where(working, 1.0, 0.55) * np.where(festival, 0.5, 1.0) * growth
    lam = BASE_PER_DAY * factor[:, None, None] * (pop / pop.sum())[None, :, None] * share[None] * season[None, None]
    counts = rng.poisson(lam)  # day × district × category
    day_i, dist, cat = (np.repeat(a.ravel(), counts.ravel()) for a in np.indices(counts.shape))
    n = len(day_i)
    if not n:
        return []
    towns = [np.flatnonzero(place.township_district == d) for d in range(len(pop))]
    town = _pick(rng, dist, towns, place.township_weight)
    cell = _pick(rng, town, place.cells_by_township, place.cell_weight)
    mixes = np.array([SOURCE_MIX.get(k) or SOURCE_MIX.get(k.split(".")[0]) or SOURCE_MIX["default"] for k in codes])
    mix = np.where(working[day_i][:, None], mixes[cat], np.array(WEEKEND_MIX)[None, :])
    cum = np.cumsum(mix / mix.sum(axis=1, keepdims=True), axis=1)
    source = np.minimum((cum < rng.random(n)[:, None]).sum(axis=1), len(SOURCES) - 1)
    reported = day_start[day_i] + _times_of_day(source, rng)
    bump, street_u, text_u = rng.random(n), rng.random(n), rng.random(n)
    cases = []
    for i in range(n):
        category = codes[cat[i]]
        priority = place.default_priority.get(category, "normal")
        if priority == "normal" and bump[i] < 0.18:
            priority = "urgent" if bump[i] < 0.03 else "high"
        elif priority == "high" and bump[i] < 0.1:
            priority = "urgent"
        top = category.split(".")[0]
        street = category in STREET_CATEGORIES and street_u[i] < 0.5
        dept = "" if street else DEPARTMENT_FOR.get(top, DEPARTMENT_FOR["other"])
        texts = CATEGORIES[category][2]
        cases.append(
            Case(
                key=str(i),
                reported=float(reported[i]),
                cell=int(cell[i]),
                township=int(town[i]),
                district=int(dist[i]),
                lon=0.0,
                lat=0.0,
                category=category,
                source=SOURCES[source[i]],
                priority=priority,
                text=texts[int(text_u[i] * len(texts))],
                unit=(int(dist[i]), int(town[i]), dept),
                days=place.days[category][("normal", "high", "urgent").index(priority)],
            )
        )
    _place_points(cases, place, rng)
    cases += _duplicates(cases, place, rng)
    return cases


def _place_points(cases: list[Case], place: Place, rng) -> None:
    if not cases:
        return
    lon, lat = _points_in(place.cell_geoms[[c.cell for c in cases]], rng)
    for c, x, y in zip(cases, lon, lat, strict=True):
        c.lon, c.lat = float(x), float(y)


def _duplicates(cases: list[Case], place: Place, rng) -> list[Case]:
    """Second reports of the same problem: a citizen reports again a few hours later, nearby."""
    twins = []
    for c in cases:
        if rng.random() >= (0.06 if c.source == "citizen" else 0.01):
            continue
        geom = place.cell_geoms[c.cell]
        x, y = c.lon + rng.normal(0, 0.0002), c.lat + rng.normal(0, 0.0002)
        if not shapely.contains_xy(geom, x, y):
            x, y = c.lon, c.lat
        twins.append(
            Case(
                key=c.key + ".dup",
                reported=c.reported + float(rng.uniform(1, 20)) * 3600,
                cell=c.cell,
                township=c.township,
                district=c.district,
                lon=x,
                lat=y,
                category=c.category,
                source="citizen",
                priority=c.priority,
                text=c.text,
                unit=c.unit,
                days=c.days,
                duplicate_of=c.key,
            )
        )
    return twins


def lognormal(rng, median: float, sigma: float) -> float:
    return float(median * math.exp(rng.normal(0, sigma)))
