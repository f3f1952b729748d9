"""The supervision cockpit page (/dashboard/); the monthly report's pages are in report_views.

Words the page's scripts build into the page (legends, tooltips, table headers, chart titles)
come from `dashboard.labels.js_labels()`, translated here and handed to the scripts as JSON in
the page (`json_script`): one catalogue (locale/…/django.po) for the templates and the scripts.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov import tiles
from gridgov.jurisdiction import user_scope
from gridgov.models import AdminArea
from patrol.models import Source, Status
from patrol.selectors import categories

from . import selectors
from .exports import EXPORT_MAX_ROWS
from .filters import last_month
from .labels import STATUS_COLOURS, js_labels
from .ranking import RANKING_LABELS

# Boundary simplification of the area the cockpit opens on (degrees): the outline only.
ROOT_SIMPLIFY = {"city": 0.002, "district": 0.0005, "township": 0.0002}


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


def root_area(user) -> dict:
    """The area the cockpit opens on: the city, the user's one district or one township, or
    their scope when it is several areas; with its outline (GeoJSON) to draw and zoom to."""
    scope = user_scope(user)
    area = None
    if scope.everything:
        area = AdminArea.objects.filter(code=settings.GRIDGOV_CITY_CODE).first()
    elif len(scope.district_ids) == 1 and not (
        AdminArea.objects.filter(pk__in=scope.township_ids).exclude(parent_id__in=scope.district_ids).exists()
    ):
        area = AdminArea.objects.get(pk=next(iter(scope.district_ids)))
    elif not scope.district_ids and len(scope.township_ids) == 1:
        area = AdminArea.objects.get(pk=next(iter(scope.township_ids)))
    if area is None:
        level = "district" if scope.district_ids else "township"
        return {"code": "", "name": _("管辖范围"), "level": "scope", "child": level, "outline": None, "district": ""}
    outline = area.geom.simplify(ROOT_SIMPLIFY[area.level], preserve_topology=True)
    name = _("全市") if area.level == "city" else area.name
    district = area.code if area.level == "district" else area.parent.code if area.level == "township" else ""
    return {"code": area.code, "name": name, "level": area.level, "outline": outline.geojson, "district": district}


@login_required
def dashboard(request):
    period = last_month()
    root = root_area(request.user)
    districts = selectors.areas_for(request.user, "district").order_by("code")
    if root["level"] == "township":  # the selector shows the township's district, fixed
        districts = AdminArea.objects.filter(code=root["district"])
    return render(
        request,
        "dashboard/dashboard.html",
        {
            "root": root,
            "districts": districts,
            "categories": categories().filter(parent__isnull=True),
            "sources": Source.choices,
            "statuses": [*Status.choices, ("open", _("未办结")), ("overdue", _("超期"))],
            "status_legend": [(v, label, STATUS_COLOURS[v]) for v, label in Status.choices],
            "status_colours": STATUS_COLOURS,
            "layers": _layers(),
            "candidates_url": _imagery_candidates_url(),
            "metrics": selectors.METRIC_LABELS,
            "ranking_metrics": RANKING_LABELS,
            "labels": js_labels(),
            "last_month": period,
            "this_month": timezone.localdate().strftime("%Y-%m"),
            "export_limit": EXPORT_MAX_ROWS,
            "quality": selectors.quality_by_district(period, user=request.user),
            "quality_period": period,
        },
    )
