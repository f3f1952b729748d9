"""The monitoring page for supervisors: loggers online and offline, 在线率, open exceedances,
data-quality gaps and refused packets, all within the supervisor's jurisdiction."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from gridgov.models import Role
from patrol.models import OPEN_STATUSES
from patrol.selectors import issues_visible

from . import selectors
from .conf import setting

SUPERVISORS = (Role.CITY_SUPERVISOR, Role.DISTRICT_SUPERVISOR, Role.TOWNSHIP_SUPERVISOR)
PAGE_SIZE = 500


def may_watch(user) -> bool:
    return bool(user.is_superuser or user.role in SUPERVISORS)


@login_required
def monitoring_page(request):
    if not may_watch(request.user):
        return render(request, "monitoring/forbidden.html", status=403)
    now = timezone.now()
    cutoff = selectors.online_cutoff(now)
    qs = selectors.loggers_list(user=request.user)
    total = qs.count()
    online = qs.filter(last_seen__gte=cutoff).count()
    loggers = list(qs.order_by("-offline_since", "last_seen", "mn")[:PAGE_SIZE])
    gaps = selectors.quality_gaps(logger_ids=[lg.pk for lg in loggers], since=now - dt.timedelta(hours=24))
    rows = [{"logger": lg, "online": selectors.is_online(lg, cutoff), "gaps": gaps.get(lg.pk, 0)} for lg in loggers]
    cases = (
        issues_visible(user=request.user)
        .filter(source="online_monitoring", status__in=OPEN_STATUSES)
        .select_related("category", "township", "responsible_unit")
        .defer("township__geom")
        .order_by("-reported_at")[:100]
    )
    return render(
        request,
        "monitoring/monitoring.html",
        {
            "total": total,
            "online": online,
            "offline": total - online,
            "rate": round(100 * online / total, 1) if total else None,
            "rows": rows,
            "shown": len(rows),
            "cases": cases,
            "rejections": selectors.rejections_summary(user=request.user),
            "offline_minutes": setting("MONITORING_OFFLINE_MINUTES"),
        },
    )
