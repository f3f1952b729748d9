"""The monthly 通报: a numbered document with key figures, rankings, maps, charts, 典型案例
(published cases with their before/after photos) and the overdue list.

HTML from a template, PDF from the same HTML through WeasyPrint; images (matplotlib charts in
`dashboard.report_charts`, case photos) are embedded as data URIs, so the HTML is
self-contained and the PDF loads nothing. Rendering takes seconds, so pages serve it from the
cache in `dashboard.report_cache`, filled by the worker (`dashboard.tasks`). Text is in the
language active while rendering (the worker renders in the requester's language).
"""

from __future__ import annotations

import base64
import datetime as dt
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
from django.core.files.storage import default_storage
from django.db.models import Count, F, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncWeek
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.jurisdiction import user_scope
from gridgov.models import AdminArea
from patrol.models import IssueEvent, Photo, Status, overdue_q

from . import ranking as rankings
from . import report_charts, selectors
from .cockpit import by_category, rates_at
from .conf import setting
from .filters import CaseFilter, parse_month, previous_month

MAX_HEAT_POINTS = 300_000  # points read for the heat map image (a random sample beyond)
OVERDUE_LIST = 100
TYPICAL_CASES = 6

Progress = Callable[[int, str], None]


class SystemUser:
    """The acting 'user' of scheduled runs (manage.py monthly_report, the nightly job): the city."""

    is_authenticated = True
    is_superuser = True
    is_anonymous = False
    role = ""
    organization_id = None
    pk = None
    display_name = "系统（定时任务）"


def document_number(period: str) -> str:
    """文号: the prefix (DASHBOARD_REPORT_DOC_PREFIX, e.g. 杭环网), the year in 〔〕 and the
    month as the number: 杭环网〔2026〕11号 for November 2026's 通报."""
    year, month = period.split("-")
    return f"{setting('DASHBOARD_REPORT_DOC_PREFIX')}〔{year}〕{int(month)}号"


def _report_areas(user) -> tuple[str, list[AdminArea]]:
    """Districts for a city-wide reader, townships otherwise."""
    scope = user_scope(user)
    level = "district" if scope.everything or len(scope.district_ids) > 1 else "township"
    return level, list(selectors.areas_for(user, level).order_by("code"))


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


def _photo_uri(photo: Photo) -> str | None:
    try:
        with default_storage.open(photo.image.name, "rb") as f:
            data = f.read()
    except OSError:  # a photo row whose file is gone: the case shows without it
        return None
    return "data:image/jpeg;base64," + base64.b64encode(data).decode()


def typical_cases(base, start: dt.datetime, end: dt.datetime) -> list[dict]:
    """典型案例: cases published (曝光) in the month, with the photos of the report (整改前)
    and of the last rectification submitted (整改后); those with both photos first."""
    published = list(
        base.filter(is_public=True, published_at__gte=start, published_at__lt=end)
        .select_related("category", "district", "township", "responsible_unit")
        .prefetch_related("photos")
        .order_by("-published_at", "-id")[:50]
    )
    after_hashes = {}
    for issue_id, hashes in (
        IssueEvent.objects.filter(issue__in=published, action="submit_rectification")
        .order_by("issue_id", "at", "id")
        .values_list("issue_id", "photo_hashes")
    ):
        if hashes:
            after_hashes[issue_id] = hashes[-1]
    photos = {p.sha256: p for p in Photo.objects.filter(sha256__in=list(after_hashes.values()))}
    rows = []
    for i in published:
        before = next(iter(i.photos.all()), None)
        after = photos.get(after_hashes.get(i.pk))
        rows.append(
            {
                "id": i.pk,
                "category": i.category.name,
                "area": " ".join(a.name for a in (i.district, i.township) if a),
                "unit": i.responsible_unit.name if i.responsible_unit else "",
                "text": i.public_description or i.description,
                "status": i.get_status_display(),
                "reported_at": timezone.localtime(i.reported_at),
                "published_at": timezone.localtime(i.published_at),
                "before": before,
                "after": after,
            }
        )
    rows.sort(key=lambda r: r["before"] is None or r["after"] is None)
    rows = rows[:TYPICAL_CASES]
    for r in rows:
        r["before"] = _photo_uri(r["before"]) if r["before"] else None
        r["after"] = _photo_uri(r["after"]) if r["after"] else None
    return rows


def _points(month, n: int) -> np.ndarray:
    """The month's case points (sampled in SQL beyond MAX_HEAT_POINTS) for the heat map."""
    pts = month.order_by()
    if n > MAX_HEAT_POINTS:
        pts = pts.extra(where=["random() < %s"], params=[MAX_HEAT_POINTS / n])
    xy = pts.annotate(x=RawSQL("ST_X(patrol_issue.point)", ()), y=RawSQL("ST_Y(patrol_issue.point)", ()))
    return np.array(list(xy.values_list("x", "y")), dtype=float).reshape(-1, 2)


def build_context(*, user, period: str, progress: Progress | None = None) -> dict:
    """Everything the report template needs, for the user's jurisdiction."""
    say = progress or (lambda pct, stage: None)
    start, end = parse_month(period)
    prev = previous_month(start)
    prev_start, prev_end = parse_month(prev)
    now = timezone.now()
    base = selectors.cases_for(user)
    month = base.filter(reported_at__gte=start, reported_at__lt=end)
    say(10, _("统计主要数据"))
    figures = _figures(month, now)
    prev_figures = _figures(base.filter(reported_at__gte=prev_start, reported_at__lt=prev_end), min(now, prev_end))
    # Last month's closure at the same age as this month's (a month still running is not
    # compared with one that has had weeks more to close its cases).
    age = min(now, end) - start
    prev_same_age = rates_at(base, prev_start, prev_end, prev_start + age)
    level, areas = _report_areas(user)
    ranking = rankings.ranking(user=user, level=level, period=period)
    agg = selectors.aggregate(user=user, level=level, metric="count", filters=CaseFilter(since=start, until=end))
    values = {code: a["count"] for code, a in agg["areas"].items()}
    scope = user_scope(user)
    scope_name = _("全市") if scope.everything else "、".join(a.name for a in _scope_areas(user)) or "—"
    level_label = _("区县") if level == "district" else _("乡镇街道")
    empty = figures["count"] == 0

    cats = by_category(month)
    weeks = OrderedDict(
        (timezone.localtime(w).date(), c)
        for w, c in month.order_by()
        .annotate(w=TruncWeek("reported_at"))
        .values_list("w")
        .annotate(c=Count("id"))
        .order_by("w")
    )
    charts = {}
    if not empty:
        say(25, _("绘制地图"))
        xy = _points(month, figures["count"])
        charts = {
            "choropleth": report_charts.choropleth_png(
                areas, values, _("%(period)s 各%(level)s案件数") % {"period": period, "level": level_label}, _("案件数")
            ),
            "heatmap": report_charts.heat_png(
                areas, xy[:, 0], xy[:, 1], _("%(period)s 案件热力分布") % {"period": period}, _("每格案件数")
            ),
        }
        say(45, _("绘制统计图"))
        charts["by_category"] = report_charts.bar_png(
            [c["name"] for c in cats], [c["count"] for c in cats], _("按类别"), rotate=30
        )
        charts["by_week"] = report_charts.bar_png(
            [f"{d:%m-%d}" for d in weeks], list(weeks.values()), _("按周（周一起）"), colour="#c0504d"
        )
    say(60, _("整理典型案例与超期清单"))
    overdue_qs = (
        base.filter(overdue_q(now)).select_related("category", "district", "township").order_by("deadline", "id")
    )
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

    def change(cur, old):
        return None if cur is None or old is None else cur - old

    return {
        "period": period,
        "previous_period": prev,
        "document_number": document_number(period),
        "issuer": setting("DASHBOARD_REPORT_ISSUER"),
        "start": start,
        "end": end - dt.timedelta(seconds=1),
        "generated_at": timezone.localtime(now),
        "scope_name": scope_name,
        "level_label": level_label,
        "empty": empty,
        "month_running": start <= now < end,
        "figures": figures,
        "prev_figures": prev_figures,
        "count_change": figures["count"] - prev_figures["count"],
        "closure_change": change(figures["closure_rate"], prev_same_age["closure_rate"]),
        "ranking": ranking["results"],
        "charts": charts,
        "typical": typical_cases(base, start, end),
        "overdue": overdue,
        "overdue_total": overdue_qs.count(),
        "overdue_limit": OVERDUE_LIST,
        "quality": selectors.quality_by_district(period, user=user),
        "quality_period": period,
        "synthetic": month.filter(description__startswith="（合成）").exists()
        or AdminArea.objects.filter(synthetic=True).exists(),
    }


def _scope_areas(user):
    scope = user_scope(user)
    return AdminArea.objects.filter(pk__in=scope.district_ids) or AdminArea.objects.filter(pk__in=scope.township_ids)


def render_html(*, user, period: str, progress: Progress | None = None) -> str:
    return render_to_string("dashboard/monthly_report.html", build_context(user=user, period=period, progress=progress))


def pdf_from_html(html: str) -> bytes:
    """The PDF of a rendered report; only data: URLs are loaded (the report embeds everything)."""
    from weasyprint import HTML  # in the worker only: a second of imports most processes never need
    from weasyprint.urls import URLFetcher

    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()


def render_pdf(*, user, period: str) -> bytes:
    return pdf_from_html(render_html(user=user, period=period))
