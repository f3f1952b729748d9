"""Reads of the supervision dashboard: aggregation, heat bins, rankings, exports.

Every function takes the acting user and starts from `cases_for(user)`, which applies the
jurisdiction. Aggregation happens in SQL (GROUP BY on the case table's own foreign-key
columns, then a lookup of the few area rows), so a million cases never reach Python.

Jurisdiction: supervisors and officers see the cases of the areas in their scope
(gridgov.jurisdiction). A responsible unit (整改责任单位) sees only the cases dispatched to its
own organization, and nothing when it belongs to none: the dashboard is a supervision tool and
a unit must not see its neighbours' record.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from gridgov.dates import parse_moment
from gridgov.errors import InvalidInput, NotFound
from gridgov.geo import parse_bbox
from gridgov.jurisdiction import user_scope
from gridgov.models import AdminArea, AreaLevel, GridCell, Role
from patrol.models import CLOSED_STATUSES, OPEN_STATUSES, Category, Issue, Priority, Source, Status
from patrol.models import overdue_q as patrol_overdue_q

LEVELS = ("district", "township", "grid")
METRICS = ("count", "overdue", "closure_rate", "mean_days")
METRIC_LABELS = {"count": "案件数", "overdue": "超期数", "closure_rate": "结案率", "mean_days": "平均办结天数"}
RANKING_LEVELS = ("district", "township")
RANKING_METRICS = ("closure_rate", "on_time_rate", "overdue", "per_cell")
RANKING_LABELS = {
    "closure_rate": "结案率",
    "on_time_rate": "按期办结率",
    "overdue": "超期数",
    "per_cell": "网格平均案件数",
}
# Higher is better for rates; lower is better for overdue and cases per cell.
RANKING_DESC = {"closure_rate": True, "on_time_rate": True, "overdue": False, "per_cell": False}
MIN_ZOOM, MAX_ZOOM = 3, 18
HEAT_BIN_PX = 24  # bin edge in screen pixels at the requested zoom
EXPORT_MAX_ROWS = 50_000
CASE_PAGE_SIZE = 50
LEVEL_FK = {"district": "district_id", "township": "township_id", "grid": "grid_cell_id"}
# Cases that never became work (不予立案, 重复件) do not count against closure.
NOT_WORK = [Status.REJECTED, Status.DUPLICATE]
EARTH = 20037508.342789244  # half the EPSG:3857 world width in metres


def cases_for(user) -> QuerySet[Issue]:
    """The cases this user may see on the dashboard (see the module docstring)."""
    if user is None or not user.is_authenticated:
        return Issue.objects.none()
    qs = user_scope(user).filter(Issue.objects.all(), district="district", township="township")
    if getattr(user, "role", "") == Role.RESPONSIBLE_UNIT and not user.is_superuser:
        org = getattr(user, "organization_id", None)
        qs = qs.filter(responsible_unit_id=org) if org else Issue.objects.none()
    return qs


def areas_for(user, level: str) -> QuerySet:
    """Areas (or grid cells) of a level inside the user's jurisdiction."""
    scope = user_scope(user)
    if level == "grid":
        qs = GridCell.objects.all()
        return qs if scope.everything else qs.filter(Q(township_id__in=scope.township_ids))
    qs = AdminArea.objects.filter(level=level)
    if scope.everything:
        return qs
    if level == AreaLevel.DISTRICT:
        return qs.filter(pk__in=scope.district_ids)
    return qs.filter(pk__in=scope.township_ids)


# ---------------------------------------------------------------------------------------------
# Parameters


def parse_when(value, *, field: str, end: bool = False) -> dt.datetime | None:
    """An ISO date or date-time; a bare date as `until` means the end of that day."""
    if value in (None, ""):
        return None
    when, bare_date = parse_moment(value, field=field)
    return when + dt.timedelta(days=1) if bare_date and end else when


def parse_choice(value, choices, *, field: str, default: str | None = None) -> str:
    if value in (None, ""):
        if default is None:
            raise InvalidInput(f"缺少参数 {field} / missing '{field}'; use one of {', '.join(choices)}", field=field)
        return default
    if value not in choices:
        raise InvalidInput(
            f"参数 {field} 无效 / unknown '{field}' {str(value)[:30]!r}; use one of {', '.join(choices)}",
            field=field,
        )
    return str(value)


def parse_month(value, *, field: str = "period") -> tuple[dt.datetime, dt.datetime]:
    """'YYYY-MM' → [first instant, first instant of the next month) in the current time zone."""
    text = str(value or "").strip()
    try:
        year, month = (int(p) for p in text.split("-"))
        if len(text) != 7 or not (1 <= month <= 12 and 2000 <= year <= 2100):
            raise ValueError
    except ValueError:
        raise InvalidInput(f"参数 {field} 应为 YYYY-MM / '{field}' must be YYYY-MM, got {text[:20]!r}", field=field)
    start = timezone.make_aware(dt.datetime(year, month, 1))
    days = calendar.monthrange(year, month)[1]
    return start, start + dt.timedelta(days=days)


def previous_month(start: dt.datetime) -> str:
    prev = (start - dt.timedelta(days=1)).date()
    return f"{prev.year:04d}-{prev.month:02d}"


@dataclass(frozen=True)
class CaseFilter:
    """The dashboard's filters: period (reported between since and until), category, source,
    status (comma list), district code, and an area code to drill into."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    category: str | None = None
    source: str | None = None
    statuses: tuple[str, ...] = field(default_factory=tuple)
    district: str | None = None
    area: str | None = None

    @classmethod
    def from_params(cls, params) -> CaseFilter:
        since = parse_when(params.get("since"), field="since")
        until = parse_when(params.get("until"), field="until", end=True)
        if since and until and until < since:
            raise InvalidInput("until 早于 since / 'until' must not be before 'since'", field="until")
        category = params.get("category") or None
        if category and not Category.objects.filter(code=category).exists():
            raise InvalidInput(f"未知类别 / unknown 'category' {str(category)[:40]!r}", field="category")
        source = params.get("source") or None
        if source:
            parse_choice(source, Source.values, field="source")
        statuses: tuple[str, ...] = ()
        if params.get("status"):
            statuses = tuple(s for s in str(params.get("status")).split(",") if s)
            for s in statuses:
                parse_choice(s, [*Status.values, "open", "overdue"], field="status")
        district = params.get("district") or None
        if district and not (str(district).isdigit() and len(str(district)) == 6):
            raise InvalidInput("参数 district 应为 6 位区县代码 / 'district' must be a 6-digit code", field="district")
        area = params.get("area") or None
        if area and not (str(area).isdigit() and len(str(area)) in (6, 9, 14)):
            raise InvalidInput(
                "参数 area 应为区县(6)、乡镇(9)或网格(14)编码 / 'area' must be a 6, 9 or 14-digit code", field="area"
            )
        return cls(since, until, category, source, statuses, district, area)

    def apply(self, qs: QuerySet[Issue]) -> QuerySet[Issue]:
        if self.since:
            qs = qs.filter(reported_at__gte=self.since)
        if self.until:
            qs = qs.filter(reported_at__lt=self.until)
        if self.category:
            if "." in self.category:
                qs = qs.filter(category_id=self.category)
            else:
                children = Category.objects.filter(parent_id=self.category).values("code")
                qs = qs.filter(Q(category_id=self.category) | Q(category_id__in=children))
        if self.source:
            qs = qs.filter(source=self.source)
        if self.statuses:
            q = Q(status__in=[s for s in self.statuses if s in Status.values])
            if "open" in self.statuses:
                q |= Q(status__in=OPEN_STATUSES)
            if "overdue" in self.statuses:
                q |= overdue_q()
            qs = qs.filter(q)
        if self.district:
            qs = qs.filter(district_id__in=AdminArea.objects.filter(code=self.district).values("pk"))
        if self.area:
            qs = qs.filter(area_q(self.area))
        return qs


def area_q(code: str) -> Q:
    if len(code) == 14:
        return Q(grid_cell_id__in=GridCell.objects.filter(code=code).values("pk"))
    if code == settings.GRIDGOV_CITY_CODE:
        return Q()
    fk = "district_id" if len(code) == 6 else "township_id"
    return Q(**{f"{fk}__in": AdminArea.objects.filter(code=code).values("pk")})


def overdue_q(now: dt.datetime | None = None) -> Q:
    """Overdue as patrol defines it (past the deadline while the unit has the work)."""
    return patrol_overdue_q(now)


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


def aggregate(*, user, level: str, metric: str, filters: CaseFilter, parent: str | None = None) -> dict:
    """Metrics per area of `level` (optionally inside `parent`), keyed by area code.

    One GROUP BY on the case table's foreign-key column; the few area rows are read apart.
    Areas in scope with no case are listed with zero counts, so a choropleth has no holes.
    """
    level = parse_choice(level, LEVELS, field="level")
    metric = parse_choice(metric, METRICS, field="metric", default="count")
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


def parse_zoom(value) -> int:
    if value in (None, ""):
        raise InvalidInput(f"缺少参数 zoom / missing 'zoom' ({MIN_ZOOM}–{MAX_ZOOM})", field="zoom")
    try:
        zoom = int(str(value))
    except ValueError:
        raise InvalidInput(f"参数 zoom 必须是整数 / 'zoom' must be an integer, got {str(value)[:20]!r}", field="zoom")
    if not MIN_ZOOM <= zoom <= MAX_ZOOM:
        raise InvalidInput(f"参数 zoom 超出范围 / 'zoom' must be between {MIN_ZOOM} and {MAX_ZOOM}", field="zoom")
    return zoom


def parse_heat_bbox(value) -> tuple[float, float, float, float]:
    if value in (None, ""):
        raise InvalidInput("缺少参数 bbox / missing 'bbox' (minlon,minlat,maxlon,maxlat)", field="bbox")
    x0, y0, x1, y1 = parse_bbox(value, field="bbox")
    if y0 < -85 or y1 > 85:
        raise InvalidInput("参数 bbox 纬度超出 ±85 / 'bbox' latitude must be within ±85 (Web Mercator)", field="bbox")
    return x0, y0, x1, y1


def heat(*, user, bbox: tuple[float, float, float, float], zoom: int, filters: CaseFilter) -> dict:
    """Weighted points: cases binned on a square EPSG:3857 grid sized to the zoom, in the bbox."""
    size = heat_cell_metres(zoom)
    qs = filters.apply(cases_for(user)).filter(point__bboverlaps=_envelope(bbox))
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


def _envelope(bbox):
    from django.contrib.gis.geos import Polygon

    poly = Polygon.from_bbox(bbox)
    poly.srid = 4326
    return poly


# ---------------------------------------------------------------------------------------------
# Rankings


def _ranking_rows(*, user, level: str, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> dict[int, dict]:
    fk = LEVEL_FK[level]
    qs = cases_for(user).filter(reported_at__gte=start, reported_at__lt=end)
    rows = (
        qs.order_by()
        .values(fk)
        .annotate(
            n=Count("id"),
            n_work=Count("id", filter=~Q(status__in=NOT_WORK)),
            n_closed=Count("id", filter=Q(status=Status.ACCEPTED)),
            n_overdue=Count("id", filter=overdue_q(now)),
            n_due=Count("id", filter=Q(status=Status.ACCEPTED, deadline__isnull=False)),
            n_on_time=Count("id", filter=Q(status=Status.ACCEPTED, closed_at__lte=F("deadline"))),
        )
    )
    return {r[fk]: r for r in rows if r[fk] is not None}


def _rank(values: dict[int, float | None], desc: bool) -> dict[int, int]:
    """Competition ranking (1, 2, 2, 4); areas without a value come last together."""
    known = sorted((v, k) for k, v in values.items() if v is not None)
    if desc:
        known.sort(key=lambda t: -t[0])
    ranks: dict[int, int] = {}
    prev, prev_rank = object(), 0
    for i, (v, k) in enumerate(known, start=1):
        rank = prev_rank if v == prev else i
        ranks[k] = rank
        prev, prev_rank = v, rank
    last = len(known) + 1
    for k, v in values.items():
        if v is None:
            ranks[k] = last
    return ranks


def _ranking_metrics(rows: dict[int, dict], areas: dict[int, dict]) -> dict[int, dict]:
    out = {}
    for pk, area in areas.items():
        r = rows.get(pk)
        cells = area["cells"] or 0
        if r is None:
            out[pk] = {"count": 0, "closure_rate": None, "on_time_rate": None, "overdue": 0, "per_cell": 0.0}
            continue
        out[pk] = {
            "count": r["n"],
            "closure_rate": round(r["n_closed"] / r["n_work"], 4) if r["n_work"] else None,
            "on_time_rate": round(r["n_on_time"] / r["n_due"], 4) if r["n_due"] else None,
            "overdue": r["n_overdue"],
            "per_cell": round(r["n"] / cells, 3) if cells else None,
        }
    return out


def ranking(*, user, level: str, period: str, order: str | None = None) -> dict:
    """Areas ranked on each metric for a month, with the change from the previous month.

    `rank_change` is previous rank − current rank: positive means the area moved up.
    """
    level = parse_choice(level, RANKING_LEVELS, field="level")
    order = parse_choice(order, RANKING_METRICS, field="order", default="closure_rate")
    start, end = parse_month(period)
    prev = previous_month(start)
    prev_start, prev_end = parse_month(prev)
    now = timezone.now()
    areas_qs = areas_for(user, level)
    cells = "children__grid_cells" if level == "district" else "grid_cells"
    areas_qs = areas_qs.annotate(cells=Count(cells))
    areas = {a["pk"]: a for a in areas_qs.values("pk", "code", "name", "cells")}
    cur = _ranking_metrics(_ranking_rows(user=user, level=level, start=start, end=end, now=now), areas)
    # "overdue" of a past month is counted at its end, so it does not move when read later.
    old = _ranking_metrics(
        _ranking_rows(user=user, level=level, start=prev_start, end=prev_end, now=min(now, prev_end)), areas
    )
    ranks = {m: _rank({k: v[m] for k, v in cur.items()}, RANKING_DESC[m]) for m in RANKING_METRICS}
    old_ranks = {m: _rank({k: v[m] for k, v in old.items()}, RANKING_DESC[m]) for m in RANKING_METRICS}
    results = []
    for pk, area in areas.items():
        changes = {m: old_ranks[m][pk] - ranks[m][pk] for m in RANKING_METRICS}
        results.append(
            {
                "rank": ranks[order][pk],
                "previous_rank": old_ranks[order][pk],
                "rank_change": changes[order],
                "code": area["code"],
                "name": area["name"],
                "metrics": cur[pk],
                "previous_metrics": old[pk],
                "ranks": {m: ranks[m][pk] for m in RANKING_METRICS},
                "rank_changes": changes,
            }
        )
    results.sort(key=lambda r: (r["rank"], r["code"]))
    return {"level": level, "period": period, "previous_period": prev, "order": order, "results": results}


# ---------------------------------------------------------------------------------------------
# Case lists and exports

EXPORT_FIELDS = [
    ("id", "编号"),
    ("category_id", "类别编码"),
    ("category__name", "类别"),
    ("source", "来源"),
    ("status", "状态"),
    ("priority", "优先级"),
    ("description", "问题描述"),
    ("district__code", "区县代码"),
    ("district__name", "区县"),
    ("township__code", "乡镇街道代码"),
    ("township__name", "乡镇街道"),
    ("grid_cell_code", "网格编码"),
    ("responsible_unit__name", "责任单位"),
    ("lon", "经度(WGS84)"),
    ("lat", "纬度(WGS84)"),
    ("reported_at", "上报时间"),
    ("verified_at", "立案时间"),
    ("dispatched_at", "交办时间"),
    ("deadline", "整改期限"),
    ("rectified_at", "整改提交时间"),
    ("accepted_at", "验收时间"),
    ("escalated_at", "督办时间"),
    ("escalation_level", "督办级别"),
    ("published_at", "曝光时间"),
    ("closed_at", "结案时间"),
    ("overdue", "是否超期"),
]


def cases_list(*, user, filters: CaseFilter) -> QuerySet[Issue]:
    return (
        filters.apply(cases_for(user))
        .select_related("category", "district", "township")
        .order_by("-reported_at", "-id")
    )


def export_rows(*, user, filters: CaseFilter, limit: int | None = None):
    """(header, row iterator) of the filtered cases with every stage time; 400 over the limit."""
    limit = EXPORT_MAX_ROWS if limit is None else limit
    qs = filters.apply(cases_for(user))
    total = qs.count()
    if total > limit:
        raise InvalidInput(
            f"导出 {total} 行，超过上限 {limit} 行，请缩小时间段或筛选条件 / "
            f"export of {total} rows exceeds the row limit of {limit}; narrow since/until/category/district",
            field="limit",
            extra={"limit": limit, "rows": total},
        )
    names = [f for f, _ in EXPORT_FIELDS if f not in ("lon", "lat", "overdue")]
    now = timezone.now()
    tz = timezone.get_current_timezone()
    rows = (
        qs.order_by("-reported_at", "-id")
        .annotate(lon=RawSQL("ST_X(patrol_issue.point)", ()), lat=RawSQL("ST_Y(patrol_issue.point)", ()))
        .values(*names, "lon", "lat")
    )
    labels = {k: str(v) for k, v in Status.choices}
    sources = {k: str(v) for k, v in Source.choices}
    priorities = {k: str(v) for k, v in Priority.choices}

    def gen():
        for r in rows.iterator(chunk_size=2000):
            out = []
            for f, _ in EXPORT_FIELDS:
                if f == "overdue":
                    v = bool(r["deadline"] and r["status"] in OPEN_STATUSES and r["deadline"] < now)
                    out.append("是" if v else "否")
                    continue
                v = r[f]
                if isinstance(v, dt.datetime):
                    v = timezone.localtime(v, tz).replace(tzinfo=None)
                elif f == "status":
                    v = labels.get(v, v)
                elif f == "source":
                    v = sources.get(v, v)
                elif f == "priority":
                    v = priorities.get(v, v)
                elif f in ("lon", "lat"):
                    v = round(v, 6)
                out.append(v)
            yield out

    return [label for _, label in EXPORT_FIELDS], gen()


def closed_statuses() -> list[str]:
    return list(CLOSED_STATUSES)


def area_get(*, user, code: str) -> dict:
    """An area (or grid cell) by code inside the user's jurisdiction; out of scope answers 404."""
    scope = user_scope(user)
    if len(code) == 14:
        cell = GridCell.objects.select_related("township__parent").filter(code=code).first()
        if cell is None or not (scope.everything or cell.township_id in scope.township_ids):
            raise NotFound("区域不存在 / area not found", field="area")
        return {"code": cell.code, "name": cell.name or cell.code, "level": "grid", "parent": cell.township.code}
    area = AdminArea.objects.select_related("parent").filter(code=code).first()
    if area is None or not (scope.everything or scope.contains_area(area)):
        raise NotFound("区域不存在 / area not found", field="area")
    return {
        "code": area.code,
        "name": area.name,
        "level": area.level,
        "parent": area.parent.code if area.parent else None,
    }
