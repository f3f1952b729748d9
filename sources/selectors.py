"""Reads of pollution sources. Each takes the acting user.

Everyone (the public too) sees an enterprise's name, location, management class and permit
number (信息公开). The rest of its file (一企一档: permit validity, outlets and their loggers,
cases) is for staff whose jurisdiction holds it: supervisors of its district or township,
the grid officers of its cell (`monitoring.selectors.placed_q`). District and city
supervisors (and the admin) manage their district's sources.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.errors import NotFound
from gridgov.jurisdiction import user_scope
from gridgov.models import NO_BOUNDARIES, Role, bbox_polygon
from monitoring.factors import factor_label, factor_unit
from monitoring.selectors import placed_q, series
from patrol.models import OPEN_STATUSES, Issue
from patrol.selectors import issues_visible

from .models import Enterprise, Episode, Outage, Outlet

MANAGER_ROLES = (Role.CITY_SUPERVISOR, Role.DISTRICT_SUPERVISOR)


def can_manage(user, *, district_id: int) -> bool:
    """Whether `user` may register and change the sources of a district."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    scope = user_scope(user)
    return user.role in MANAGER_ROLES and (scope.everything or district_id in scope.district_ids)


def may_register(user) -> bool:
    """Whether `user` may register sources anywhere at all (the API's role check)."""
    return bool(user and user.is_authenticated and (user.is_superuser or user.role in MANAGER_ROLES))


def enterprises_visible(*, user) -> QuerySet[Enterprise]:
    """The enterprises whose whole file `user` may see: those placed in their jurisdiction, and
    for an enterprise's 环保联络员 its own enterprise."""
    q = placed_q(user)
    if getattr(user, "role", "") == Role.ENTERPRISE_CONTACT and user.organization_id:
        q |= Q(organization_id=user.organization_id)
    return Enterprise.objects.filter(q)


def open_exceedance() -> Exists:
    """An exceedance of one of the enterprise's outlets whose case is still open."""
    return Exists(Episode.objects.filter(outlet__enterprise=OuterRef("pk"), issue__status__in=OPEN_STATUSES))


def enterprises_list(
    *,
    user,
    district: str | None = None,
    grid_cell: str | None = None,
    management_class: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> QuerySet[Enterprise]:
    """Every enterprise (public fields for all), each annotated with `full` (the user may see
    its whole file) and, where full, `exceedance_open` and `outlet_count`."""
    qs = (
        Enterprise.objects.select_related("permit", "district", "township")
        .defer(*NO_BOUNDARIES)
        .order_by("credit_code")
    )
    if district:
        qs = qs.filter(district__code=district)
    if grid_cell:
        qs = qs.filter(grid_cell_code=grid_cell)
    if management_class:
        qs = qs.filter(management_class=management_class)
    if bbox:
        qs = qs.filter(point__intersects=bbox_polygon(bbox))
    visible = enterprises_visible(user=user).filter(pk=OuterRef("pk"))
    return qs.annotate(
        full=Exists(visible), exceedance_open=open_exceedance(), outlet_count=Count("outlets", distinct=True)
    )


def enterprise_get(*, user, credit_code: str) -> Enterprise:
    """One enterprise by credit code, annotated like `enterprises_list`; 404 when none."""
    enterprise = enterprises_list(user=user).filter(credit_code=str(credit_code)[:18]).first()
    if enterprise is None:
        raise NotFound(_("没有这家企业。"), code="enterprise_not_found", field="credit_code")
    return enterprise


def outlets_of(enterprise: Enterprise) -> QuerySet[Outlet]:
    return enterprise.outlets.select_related("logger").prefetch_related("logger__limits").order_by("code")


def enterprise_cases(*, user, enterprise: Enterprise, limit: int = 50) -> list[Issue]:
    """Cases about the enterprise that `user` may see: dispatched to it, or opened by its
    outlets' monitoring (exceedances and outages)."""
    monitoring = Q(episode__outlet__enterprise=enterprise) | Q(outage__outlet__enterprise=enterprise)
    qs = issues_visible(user=user).filter(Q(responsible_unit_id=enterprise.organization_id) | monitoring)
    return list(qs.select_related("category").distinct().order_by("-reported_at", "-id")[:limit])


def episode_for_issue(issue: Issue) -> Episode | None:
    return Episode.objects.filter(issue=issue).select_related("outlet__logger", "outlet__enterprise").first()


def outage_for_issue(issue: Issue) -> Outage | None:
    return Outage.objects.filter(issue=issue).select_related("outlet__logger", "outlet__enterprise").first()


def case_window(episode: Episode, *, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The span a case's chart shows: the episode with half a day either side."""
    since = episode.first_hour - dt.timedelta(hours=12)
    until = min(episode.last_hour + dt.timedelta(hours=13), max(now, episode.last_hour + dt.timedelta(hours=1)))
    return since, until


def case_series(issue: Issue) -> dict:
    """The monitoring data behind a case that online monitoring opened (its chart); kind None
    for any other case."""
    episode = episode_for_issue(issue)
    outage = None if episode else outage_for_issue(issue)
    if episode is None and outage is None:
        return {"kind": None}
    now = timezone.now()
    outlet = (episode or outage).outlet
    logger = outlet.logger
    limits = list(logger.limits.all())
    if episode is not None:
        factor = episode.factor
        since, until = case_window(episode, now=now)
    else:
        factor = next((lim.factor for lim in limits), "")
        since = outage.silent_since - dt.timedelta(hours=24)
        until = outage.ended_at or now
    limit = next((lim for lim in limits if lim.factor == factor), None)
    body = {
        "kind": "exceedance" if episode else "outage",
        "mn": logger.mn,
        "factor": factor,
        "factor_label": factor_label(factor),
        "unit": factor_unit(factor),
        "limit": {"low": limit.low, "high": limit.high} if limit else None,
        "outlet": {"code": outlet.code, "kind": outlet.kind},
        "enterprise": {"credit_code": outlet.enterprise.credit_code, "name": outlet.enterprise.name},
        "since": since,
        "until": until,
        "hours": series(logger=logger, factor=factor, interval="hour", since=since, until=until) if factor else [],
    }
    if episode is not None:
        body["exceeded_hours"] = [h.hour for h in episode.exceeded.all()]
        body["minutes"] = series(
            logger=logger,
            factor=factor,
            interval="minute",
            since=episode.first_hour - dt.timedelta(hours=1),
            until=min(episode.last_hour + dt.timedelta(hours=2), since + dt.timedelta(days=7)),
        )
    else:
        body |= {"silent_since": outage.silent_since, "ended_at": outage.ended_at}
    return body
