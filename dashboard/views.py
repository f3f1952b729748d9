"""Pages: the supervision dashboard (/dashboard/) and the monthly report (/reports/monthly/…)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov import tiles
from gridgov.errors import Forbidden, GridGovError
from gridgov.jurisdiction import user_scope
from patrol.models import Source, Status
from patrol.selectors import categories

from . import report, selectors
from .exports import EXPORT_MAX_ROWS
from .ranking import RANKING_LABELS


def _layers() -> list[dict]:
    """Vector-tile layers for the switches, only those registered now (zoning may be absent)."""
    wanted = [
        ("control-units", _("环境管控单元")),
        ("red-line", _("生态保护红线")),
        ("grid-cells", _("网格")),
    ]
    return [{"name": name, "label": label} for name, label in wanted if name in tiles.LAYERS]


def _imagery_candidates_url() -> str | None:
    """The imagery app's candidate list (GeoJSON, jurisdiction applied), if it is installed."""
    try:
        return reverse("geodata-candidates")
    except NoReverseMatch:
        return None


@login_required
def dashboard(request):
    scope = user_scope(request.user)
    districts = selectors.areas_for(request.user, "district").order_by("code")
    if scope.everything:
        root = {"code": settings.GRIDGOV_CITY_CODE, "name": _("全市"), "level": "city"}
    elif len(scope.district_ids) == 1:
        d = districts.first()
        root = {"code": d.code, "name": d.name, "level": "district"}
    else:
        root = {"code": "", "name": _("管辖范围"), "level": "scope"}
    today = timezone.localdate()
    last = (today.replace(day=1) - timezone.timedelta(days=1)).strftime("%Y-%m")
    return render(
        request,
        "dashboard/dashboard.html",
        {
            "root": root,
            "districts": districts,
            "categories": categories().filter(parent__isnull=True),
            "sources": Source.choices,
            "statuses": [*Status.choices, ("open", _("未办结")), ("overdue", _("超期"))],
            "layers": _layers(),
            "candidates_url": _imagery_candidates_url(),
            "metrics": selectors.METRIC_LABELS,
            "ranking_metrics": RANKING_LABELS,
            "last_month": last,
            "this_month": today.strftime("%Y-%m"),
            "export_limit": EXPORT_MAX_ROWS,
            "basemap": settings.GRIDGOV_BASEMAP,
            "tianditu_key": getattr(settings, "TIANDITU_KEY", ""),
        },
    )


def monthly_report(request, period: str, fmt: str):
    """The 通报 for the user's jurisdiction, as HTML or PDF. Anonymous → 403."""
    if not request.user.is_authenticated:
        refused = Forbidden(_("请先登录。"), code="not_authenticated")
        return JsonResponse(refused.as_body(), status=refused.status)
    try:
        if fmt == "html":
            return HttpResponse(report.render_html(user=request.user, period=period))
        pdf = report.render_pdf(user=request.user, period=period)
    except GridGovError as exc:
        return JsonResponse(exc.as_body(), status=exc.status)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="monthly-report-{period}.pdf"'
    return response
