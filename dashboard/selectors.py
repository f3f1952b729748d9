"""Reads of the supervision dashboard: aggregation, heat bins, rankings, case lists.

Every function takes the acting user and starts from `cases_for(user)`, which is patrol's own
visibility (`patrol.selectors.issues_visible`: scope for supervisors and officers, a unit's own
cases for a responsible unit, none for roles without a patrol duty), so the dashboard counts
exactly the cases the user could open. Aggregation happens in SQL (GROUP BY on the case table's
own foreign-key columns, then a lookup of the few area rows), so a million cases never reach
Python. Parameters arrive validated (`dashboard.filters`); rankings are in `dashboard.ranking`,
the cockpit's figures in `dashboard.cockpit`, the to-do list in `dashboard.todo`, exports in
`dashboard.exports`.
"""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gridgov.errors import NotFound
from gridgov.jurisdiction import user_scope
from gridgov.models import AdminArea, AreaLevel, GridCell, bbox_polygon
from gridgov.selectors import grid_cells_visible
from patrol.models import Issue, Status, overdue_q
from patrol.selectors import issues_visible
from quality.selectors import district_quality

from .filters import CaseFilter, area_q

METRIC_LABELS = {
    "count": gettext_lazy("案件数"),
    "overdue": gettext_lazy("超期数"),
    "closure_rate": gettext_lazy("结案率"),
    "mean_days": gettext_lazy("平均办结天数"),
}
HEAT_BIN_PX = 24  # bin edge in screen pixels at the requested zoom
CASE_PAGE_SIZE = 50
LEVEL_FK = {"district": "district_id", "township": "township_id", "grid": "grid_cell_id"}
# Cases that never became work (不予立案, 重复件) do not count against closure.
NOT_WORK = [Status.REJECTED, Status.DUPLICATE]
EARTH = 20037508.342789244  # half the EPSG:3857 world width in metres


def cases_for(user) -> QuerySet[Issue]:
    """The cases this user may see on the dashboard: the cases they may see at all."""
    return issues_visible(user=user)


def areas_for(user, level: str) -> QuerySet:
    """Areas (or grid cells) of a level inside the user's jurisdiction."""
    if level == "grid":
        return grid_cells_visible(user=user)
    scope = user_scope(user)
    qs = AdminArea.objects.filter(level=level)
    if level == AreaLevel.DISTRICT:
        return scope.filter(qs, district="pk", township=None)
    return scope.filter(qs, district=None, township="pk")


# ---------------------------------------------------------------------------------------------
# Aggregation by area


def _metrics_annotations(now: dt.datetime) -> dict:
    return {
        "n": Count("id"),
        "n_overdue": Count("id", filter=overdue_q(now)),
        "n_work": Count("id", filter=~Q(status__in=NOT_WORK)),
        "n_closed": Count("id", filter=Q(status=Status.ACCEPTED)),
        "mean_close": Avg(
            ExpressionWrapper(F("closed_at") - F("reported_at"), output_field=DurationField()),
            filter=Q(status=Status.ACCEPTED),
        ),
    }


def _metrics(row: dict) -> dict:
    mean = row.get("mean_close")
    return {
        "count": row["n"],
        "overdue": row["n_overdue"],
        "closure_rate": round(row["n_closed"] / row["n_work"], 4) if row["n_work"] else None,
        "mean_days": round(mean.total_seconds() / 86400, 2) if mean is not None else None,
    }


def _empty_metrics() -> dict:
    return {"count": 0, "overdue": 0, "closure_rate": None, "mean_days": None}


def aggregate(*, user, level: str, metric: str = "count", filters: CaseFilter, parent: str | None = None) -> dict:
    """Metrics per area of `level` (optionally inside `parent`), keyed by area code.

    One GROUP BY on the case table's foreign-key column; the few area rows are read apart.
    Areas in scope with no case are listed with zero counts, so a choropleth has no holes.
    """
    fk = LEVEL_FK[level]
    now = timezone.now()
    qs = filters.apply(cases_for(user))
    if parent:
        qs = qs.filter(area_q(parent))
    rows = qs.order_by().values(fk).annotate(**_metrics_annotations(now))
    by_id = {r[fk]: _metrics(r) for r in rows if r[fk] is not None}
    areas = areas_for(user, level)
    if parent:
        areas = _areas_under(areas, level, parent)
    if level == "grid":
        area_rows = areas.filter(pk__in=list(by_id)) if not parent else areas
        names = {a["pk"]: (a["code"], a["name"] or a["code"]) for a in area_rows.values("pk", "code", "name")}
    else:
        names = {a["pk"]: (a["code"], a["name"]) for a in areas.values("pk", "code", "name")}
    result = {}
    for pk, (code, name) in names.items():
        m = by_id.get(pk) or _empty_metrics()
        result[code] = {"name": name, "value": m[metric], **m}
    return {"level": level, "metric": metric, "areas": dict(sorted(result.items()))}


def _areas_under(areas: QuerySet, level: str, parent: str) -> QuerySet:
    if parent == settings.GRIDGOV_CITY_CODE:
        return areas
    if level == "grid":
        if len(parent) == 9:
            return areas.filter(township__code=parent)
        if len(parent) == 14:
            return areas.filter(code=parent)
        return areas.filter(township__parent__code=parent)
    if level == "township" and len(parent) == 6:
        return areas.filter(parent__code=parent)
    return areas.filter(code=parent)


def area_geometries(*, user, level: str, codes, simplify: float) -> dict[str, str]:
    """GeoJSON geometry text per code, simplified for the screen (degrees)."""
    model = GridCell if level == "grid" else AdminArea
    qs = model.objects.filter(code__in=list(codes))
    rows = qs.annotate(gj=RawSQL("ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, %s), 6)", (simplify,))).values_list(
        "code", "gj"
    )
    return dict(rows)


# ---------------------------------------------------------------------------------------------
# Heat map


def heat_cell_metres(zoom: int) -> float:
    """Bin edge in EPSG:3857 metres: HEAT_BIN_PX screen pixels at this zoom."""
    return 2 * EARTH / (256 * 2**zoom) * HEAT_BIN_PX


# Web Mercator from lon/lat in SQL arithmetic (cheaper than ST_Transform on every point).
MERC_X = "(ST_X(patrol_issue.point) * %s / 180.0)"
MERC_Y = "(ln(tan(radians(90.0 + ST_Y(patrol_issue.point)) / 2.0)) * 6378137.0)"


def heat(*, user, bbox: tuple[float, float, float, float], zoom: int, filters: CaseFilter) -> dict:
    """Weighted points: cases binned on a square EPSG:3857 grid sized to the zoom, in the bbox."""
    size = heat_cell_metres(zoom)
    qs = filters.apply(cases_for(user)).filter(point__bboverlaps=bbox_polygon(bbox))
    rows = (
        qs.order_by()
        .annotate(
            bx=RawSQL(f"floor({MERC_X} / %s)", (EARTH, size)),
            by=RawSQL(f"floor({MERC_Y} / %s)", (size,)),
        )
        .values("bx", "by")
        .annotate(n=Count("id"))
        .values_list("bx", "by", "n")
    )
    points = []
    top = 0
    for bx, by, n in rows:
        lon = (bx + 0.5) * size / EARTH * 180.0
        lat = math.degrees(2 * math.atan(math.exp((by + 0.5) * size / 6378137.0)) - math.pi / 2)
        points.append([round(lat, 6), round(lon, 6), n])
        top = max(top, n)
    return {"zoom": zoom, "cell_m": round(size, 2), "max": top, "total": sum(p[2] for p in points), "points": points}


# ---------------------------------------------------------------------------------------------
# Case lists


def cases_list(*, user, filters: CaseFilter) -> QuerySet[Issue]:
    return (
        filters.apply(cases_for(user))
        .select_related("category", "district", "township")
        .order_by("-reported_at", "-id")
    )


def area_get(*, user, code: str) -> dict:
    """An area (or grid cell) by code inside the user's jurisdiction; out of scope answers 404."""
    if len(code) == 14:
        cell = grid_cells_visible(user=user).select_related("township").filter(code=code).first()
        if cell is None:
            raise NotFound(_("区域不存在。"), code="not_found", field="area")
        return {"code": cell.code, "name": cell.name or cell.code, "level": "grid", "parent": cell.township.code}
    area = AdminArea.objects.select_related("parent").filter(code=code).first()
    if area is None or not user_scope(user).contains_area(area):
        raise NotFound(_("区域不存在。"), code="not_found", field="area")
    return {
        "code": area.code,
        "name": area.name,
        "level": area.level,
        "parent": area.parent.code if area.parent else None,
    }


# ---------------------------------------------------------------------------------------------
# Legend classes

NICE_STEPS = (1, 2, 2.5, 5)
MAX_CLASSES = 5


def round_breaks(values, *, integer: bool = False) -> list[float]:
    """Lower edges of at most MAX_CLASSES legend classes with round values (1, 2, 2.5 or 5 × 10ⁿ
    apart, starting at a multiple of the step) that hold every value; [] without values."""
    known = [v for v in values if v is not None]
    if not known:
        return []
    lo, hi = min(known), max(known)
    if hi == lo:
        return [lo]
    raw = (hi - lo) / MAX_CLASSES
    exponent = math.floor(math.log10(raw))
    candidates = [s * 10**e for e in (exponent, exponent + 1, exponent + 2) for s in NICE_STEPS]
    for step in candidates:
        if step < raw or (integer and step < 1):
            continue
        start = math.floor(lo / step) * step
        n = math.floor((hi - start) / step + 1e-9) + 1
        if n <= MAX_CLASSES:
            return [round(start + i * step, 10) for i in range(n)]
    raise AssertionError("unreachable: a step of 100 × raw always fits")


def quality_by_district(period: str, *, user) -> list[dict]:
    """Air and water by district for the month `YYYY-MM`, ranked among all the city's districts;
    the rows of the districts the user's jurisdiction lies in (all of them for the city)."""
    year, month = (int(p) for p in period.split("-"))
    rows = district_quality(month=dt.date(year, month, 1))
    scope = user_scope(user)
    if scope.everything:
        return rows
    mine = AdminArea.objects.filter(Q(pk__in=scope.district_ids) | Q(children__in=scope.township_ids))
    codes = set(mine.values_list("code", flat=True))
    return [r for r in rows if r["code"] in codes]
