"""The monthly 通报 report: key figures, rankings, maps and charts drawn on the server, overdue list.

HTML from a template, PDF from the same HTML through WeasyPrint; the images are matplotlib PNGs
embedded as data URIs, so the HTML is self-contained and the PDF needs no network.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from collections import OrderedDict

import numpy as np
import shapely
from django.conf import settings
from django.db.models import Count, F, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncWeek
from django.template.loader import render_to_string
from django.utils import timezone

from gridgov.jurisdiction import user_scope
from gridgov.models import AdminArea
from patrol.models import Category, Status, overdue_q

from . import ranking as rankings
from . import selectors
from .filters import CaseFilter, parse_month, previous_month

MAX_HEAT_POINTS = 300_000  # points read for the heat map image (a random sample beyond)
OVERDUE_LIST = 100


class SystemUser:
    """The acting 'user' of scheduled runs (manage.py monthly_report): the whole city."""

    is_authenticated = True
    is_superuser = True
    is_anonymous = False
    role = ""
    organization_id = None
    pk = None
    display_name = "系统（定时任务）"


def _plt():
    """pyplot on the Agg backend. matplotlib (and WeasyPrint below) are imported on first use:
    they take about a second to import, and most server processes never draw a report."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["font.sans-serif"] = ["Noto Sans CJK SC", "Noto Sans CJK JP", "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    _plt().close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _report_areas(user) -> tuple[str, list[AdminArea]]:
    """Districts for a city-wide reader, townships otherwise."""
    scope = user_scope(user)
    level = "district" if scope.everything or len(scope.district_ids) > 1 else "township"
    areas = list(selectors.areas_for(user, level).order_by("code"))
    return level, areas


def _draw_areas(ax, areas, values: dict[str, float | None] | None, cmap_name: str = "OrRd"):
    import matplotlib as mpl
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Polygon as MplPolygon

    patches, colours = [], []
    vals = [v for v in (values or {}).values() if v is not None]
    norm = mpl.colors.Normalize(vmin=min(vals) if vals else 0, vmax=max(vals) if vals and max(vals) > 0 else 1)
    cmap = mpl.colormaps[cmap_name]
    for area in areas:
        geom = shapely.simplify(shapely.from_wkb(bytes(area.geom.wkb)), 0.001)
        for poly in getattr(geom, "geoms", [geom]):
            if poly.is_empty:
                continue
            patches.append(MplPolygon(np.asarray(poly.exterior.coords), closed=True))
            v = (values or {}).get(area.code)
            colours.append(cmap(norm(v)) if values is not None and v is not None else (1, 1, 1, 0))
    coll = PatchCollection(patches, facecolor=colours, edgecolor="#555555", linewidth=0.4)
    ax.add_collection(coll)
    ax.autoscale_view()
    ax.set_aspect(1 / np.cos(np.radians(30)))
    ax.set_xticks([])
    ax.set_yticks([])
    return norm, cmap


def choropleth_png(areas, values: dict[str, float | None], title: str) -> str:
    import matplotlib as mpl

    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    norm, cmap = _draw_areas(ax, areas, values)
    fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.7, label="案件数")
    for area in areas:
        if len(areas) <= 30:
            c = area.geom.point_on_surface
            ax.annotate(area.name, (c.x, c.y), fontsize=6, ha="center", color="#222")
    ax.set_title(title, fontsize=11)
    return _png(fig)


def heat_png(areas, lon: np.ndarray, lat: np.ndarray, title: str) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    _draw_areas(ax, areas, None)
    if len(lon):
        hb = ax.hexbin(lon, lat, gridsize=70, bins="log", cmap="inferno_r", mincnt=1, alpha=0.85, linewidths=0)
        fig.colorbar(hb, ax=ax, shrink=0.7, label="案件数（对数）")
    ax.set_title(title, fontsize=11)
    return _png(fig)


def bar_png(labels: list[str], values: list[int], title: str, colour: str = "#1f5fa8", rotate: int = 0) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 3.0))
    ax.bar(range(len(values)), values, color=colour)
    ax.set_xticks(range(len(values)))
    ax.set_xticklabels(labels, rotation=rotate, fontsize=8, ha="right" if rotate else "center")
    ax.set_title(title, fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    for i, v in enumerate(values):
        ax.annotate(str(v), (i, v), ha="center", va="bottom", fontsize=7)
    return _png(fig)


def _figures(qs, now) -> dict:
    agg = qs.aggregate(
        n=Count("id"),
        n_work=Count("id", filter=~Q(status__in=selectors.NOT_WORK)),
        n_closed=Count("id", filter=Q(status=Status.ACCEPTED)),
        n_overdue=Count("id", filter=overdue_q(now)),
        n_due=Count("id", filter=Q(status=Status.ACCEPTED, deadline__isnull=False)),
        n_on_time=Count("id", filter=Q(status=Status.ACCEPTED, closed_at__lte=F("deadline"))),
        n_escalated=Count("id", filter=Q(escalated_at__isnull=False)),
    )
    return {
        "count": agg["n"],
        "closed": agg["n_closed"],
        "closure_rate": agg["n_closed"] / agg["n_work"] if agg["n_work"] else None,
        "on_time_rate": agg["n_on_time"] / agg["n_due"] if agg["n_due"] else None,
        "overdue": agg["n_overdue"],
        "escalated": agg["n_escalated"],
    }


def build_context(*, user, period: str) -> dict:
    """Everything the report template needs, for the user's jurisdiction."""
    start, end = parse_month(period)
    prev = previous_month(start)
    prev_start, prev_end = parse_month(prev)
    now = timezone.now()
    base = selectors.cases_for(user)
    month = base.filter(reported_at__gte=start, reported_at__lt=end)
    figures = _figures(month, now)
    prev_figures = _figures(base.filter(reported_at__gte=prev_start, reported_at__lt=prev_end), min(now, prev_end))
    level, areas = _report_areas(user)
    ranking = rankings.ranking(user=user, level=level, period=period)
    filters = CaseFilter(since=start, until=end)
    agg = selectors.aggregate(user=user, level=level, metric="count", filters=filters)
    values = {code: a["count"] for code, a in agg["areas"].items()}
    scope_name = "全市" if user_scope(user).everything else "、".join(a.name for a in _scope_areas(user)) or "—"

    # Heat map: the month's points, sampled in SQL beyond MAX_HEAT_POINTS.
    n = figures["count"]
    pts = month.order_by()
    if n > MAX_HEAT_POINTS:
        pts = pts.extra(where=["random() < %s"], params=[MAX_HEAT_POINTS / n])
    xy = np.array(
        list(
            pts.annotate(
                x=RawSQL("ST_X(patrol_issue.point)", ()), y=RawSQL("ST_Y(patrol_issue.point)", ())
            ).values_list("x", "y")
        ),
        dtype=float,
    ).reshape(-1, 2)

    # By top-level category (a sub-category counts for its parent).
    names = dict(Category.objects.values_list("code", "name"))
    by_cat: dict[str, int] = {}
    for code, c in month.order_by().values_list("category_id").annotate(c=Count("id")):
        top = code.split(".")[0]
        by_cat[top] = by_cat.get(top, 0) + c
    cats = sorted(by_cat.items(), key=lambda t: -t[1])
    # By ISO week, weeks that touch the month.
    weeks = OrderedDict(
        (w.date(), c)
        for w, c in month.order_by()
        .annotate(w=TruncWeek("reported_at"))
        .values_list("w")
        .annotate(c=Count("id"))
        .order_by("w")
    )
    overdue_qs = (
        base.filter(overdue_q(now)).select_related("category", "district", "township").order_by("deadline", "id")
    )
    overdue_total = overdue_qs.count()
    overdue = [
        {
            "id": i.pk,
            "category": i.category.name,
            "area": f"{i.district.name if i.district else ''} {i.township.name if i.township else ''}".strip(),
            "grid": i.grid_cell_code,
            "status": i.get_status_display(),
            "reported_at": timezone.localtime(i.reported_at),
            "deadline": timezone.localtime(i.deadline),
            "days_over": (now - i.deadline).days,
            "escalation_level": i.escalation_level,
            "synthetic": i.description.startswith("（合成）"),
        }
        for i in overdue_qs[:OVERDUE_LIST]
    ]
    level_label = "区县" if level == "district" else "乡镇街道"

    def change(cur, old):
        if cur is None or old is None:
            return None
        return cur - old

    return {
        "period": period,
        "previous_period": prev,
        "start": start,
        "end": end - dt.timedelta(seconds=1),
        "generated_at": timezone.localtime(now),
        "scope_name": scope_name,
        "level_label": level_label,
        "figures": figures,
        "prev_figures": prev_figures,
        "count_change": figures["count"] - prev_figures["count"],
        "closure_change": change(figures["closure_rate"], prev_figures["closure_rate"]),
        "ranking": ranking["results"],
        "ranking_labels": rankings.RANKING_LABELS,
        "choropleth": choropleth_png(areas, values, f"{period} 各{level_label}案件数"),
        "heatmap": heat_png(areas, xy[:, 0], xy[:, 1], f"{period} 案件热力分布"),
        "by_category": bar_png([names.get(c, c) for c, _ in cats], [v for _, v in cats], "按类别", rotate=30),
        "by_category_rows": [(names.get(c, c), v) for c, v in cats],
        "by_week": bar_png([f"{d:%m-%d}" for d in weeks], list(weeks.values()), "按周（周一起）", colour="#c0504d"),
        "overdue": overdue,
        "overdue_total": overdue_total,
        "overdue_limit": OVERDUE_LIST,
        "synthetic": month.filter(description__startswith="（合成）").exists()
        or AdminArea.objects.filter(synthetic=True).exists(),
        "city_code": settings.GRIDGOV_CITY_CODE,
    }


def _scope_areas(user):
    scope = user_scope(user)
    return AdminArea.objects.filter(pk__in=scope.district_ids) or AdminArea.objects.filter(pk__in=scope.township_ids)


def render_html(*, user, period: str) -> str:
    return render_to_string("dashboard/monthly_report.html", build_context(user=user, period=period))


def render_pdf(*, user, period: str) -> bytes:
    from weasyprint import HTML

    html = render_html(user=user, period=period)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
