"""Reads of the patrol loop. Each takes the acting user; cases outside it answer as missing.

Who sees which case (`issues_visible`, the one definition; the dashboard reads through it too):

- supervisors (city, district, township) and grid officers: the cases of the areas in their
  scope (gridgov.jurisdiction): their duty is the patrol of those areas;
- a responsible unit (整改责任单位): only the cases dispatched to its own organization, never its
  neighbours' cases with their reporters and photos;
- roles without a patrol duty (zoning planner, imagery analyst) and accounts without a role: no
  cases, whatever their scope, except the ones they reported themselves (an analyst's
  candidates confirmed into cases);
- everyone: the cases they reported; superusers: every case.

`reliability/access.py` (`visible`) states the same rule independently, and R4 checks each role.
"""

from __future__ import annotations

import datetime as dt
import math

from django.contrib.gis.geos import Point, Polygon
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.errors import NotFound
from gridgov.jurisdiction import user_scope
from gridgov.models import AreaLevel, Organization, Role

from .conf import setting
from .models import Category, Issue, IssueEvent, Photo, Status

# Roles whose duty is the patrol of their areas: they see the cases of their scope.
SCOPE_ROLES = frozenset({Role.CITY_SUPERVISOR, Role.DISTRICT_SUPERVISOR, Role.TOWNSHIP_SUPERVISOR, Role.GRID_OFFICER})


def issues_visible(*, user) -> QuerySet[Issue]:
    """The cases `user` may see (see the module docstring)."""
    if user is None or not user.is_authenticated:
        return Issue.objects.none()
    if user.is_superuser:
        return Issue.objects.all()
    q = Q(reporter_id=user.pk)
    role = getattr(user, "role", "")
    if role in SCOPE_ROLES:
        q |= user_scope(user).q(district="district", township="township")
    elif role == Role.RESPONSIBLE_UNIT and getattr(user, "organization_id", None):
        q |= Q(responsible_unit_id=user.organization_id)
    return Issue.objects.filter(q)


def photo_visible(*, photo: Photo, user) -> bool:
    """Whether `user` may fetch the (metadata-stripped) photo: its uploader, anyone once one of
    its cases is published, and those who may see a case (or a step of one) that shows it."""
    if photo.issues.filter(is_public=True).exists():
        return True
    if user is None or not user.is_authenticated:
        return False
    if photo.uploaded_by_id == user.pk:
        return True
    visible = issues_visible(user=user)
    return (
        visible.filter(photos=photo).exists()
        or IssueEvent.objects.filter(issue__in=visible, photo_hashes__contains=[photo.sha256]).exists()
    )


def issue_get(*, user, issue_id: int) -> Issue:
    issue = (
        issues_visible(user=user)
        .select_related("category", "reporter", "grid_cell", "township", "district", "responsible_unit")
        .prefetch_related("photos", "events__actor")
        .filter(pk=issue_id)
        .first()
    )
    if issue is None:
        raise NotFound(_("案件不存在。"), code="not_found", field="id")
    return issue


def issues_list(
    *,
    user,
    statuses: list[str] | None = None,
    category: Category | None = None,
    district: str = "",
    since: dt.datetime | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> QuerySet[Issue]:
    """Visible cases filtered by status, category (a top-level code includes its sub-codes),
    district code, since (reported at or after), bbox (minlon,minlat,maxlon,maxlat, WGS84)."""
    qs = issues_visible(user=user).select_related("category", "district", "township", "responsible_unit")
    if statuses:
        qs = qs.filter(status__in=statuses)
    if category is not None:
        qs = qs.filter(Q(category_id=category.code) | Q(category__parent_id=category.code))
    if district:
        qs = qs.filter(district__code=district)
    if since is not None:
        qs = qs.filter(reported_at__gte=since)
    if bbox is not None:
        box = Polygon.from_bbox(bbox)
        box.srid = 4326
        qs = qs.filter(point__intersects=box)
    return qs.order_by("-reported_at", "-id")


def dispatch_units(*, issue: Issue, user) -> QuerySet[Organization]:
    """The units `user` may dispatch `issue` to: those of the case's district (the district
    itself or one of its townships), and city-level units for a user whose scope is the city.
    The detail page lists exactly these; `issue_dispatch` refuses any other."""
    q = Q(area_id=issue.district_id) | Q(area__parent_id=issue.district_id)
    if user_scope(user).everything:
        q |= Q(area__level=AreaLevel.CITY)
    return Organization.objects.filter(q).order_by("name")


def duplicate_window(*, lat: float) -> tuple[dt.datetime, float, float, int]:
    """(since, radius in degrees for the index, radius in metres, limit) of duplicate suggestions."""
    radius = float(setting("PATROL_DUPLICATE_RADIUS_M"))
    since = timezone.now() - dt.timedelta(days=setting("PATROL_DUPLICATE_DAYS"))
    # Generous at this latitude: the degree test only lets the GiST index pick candidates; the
    # geography test then keeps exactly those within the radius in metres.
    degrees = radius / (111_320 * max(0.1, math.cos(math.radians(lat)))) * 1.01
    return since, degrees, radius, 10


def issue_duplicates(*, point: Point, category: str, exclude_id: int | None = None, limit: int = 10) -> list[Issue]:
    """Cases of the same category within the configured radius and days (suggestions only).

    The same test as the report statement in `patrol.actions.reporting._REPORT_TAIL_SQL`, so a resend
    answers with the suggestions the first send gave.
    """
    since, degrees, radius, _limit = duplicate_window(lat=point.y)
    near = RawSQL(
        "ST_DWithin(patrol_issue.point::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s)",
        (point.x, point.y, radius),
        output_field=BooleanField(),
    )
    qs = (
        Issue.objects.filter(category_id=category, reported_at__gte=since, point__dwithin=(point, degrees))
        .alias(near=near)
        .filter(near=True)
        .exclude(status__in=[Status.REJECTED, Status.DUPLICATE])
    )
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    return list(qs.order_by("-reported_at", "-id").only("id", "status", "reported_at", "point", "category_id")[:limit])


def categories() -> QuerySet[Category]:
    return Category.objects.filter(active=True).order_by("sort", "code")


def my_tasks(*, user) -> QuerySet[Issue]:
    """What waits for this person: their unit's open work, or cases to accept in their cells."""
    if user is None or not user.is_authenticated:
        return Issue.objects.none()
    q = Q(pk__in=[])
    if getattr(user, "organization_id", None):
        q |= Q(responsible_unit_id=user.organization_id, status__in=[Status.DISPATCHED, Status.RECTIFYING])
    q |= Q(status=Status.SUBMITTED) & (Q(reporter_id=user.pk) | Q(grid_cell__assignments__user_id=user.pk))
    q |= Q(reporter_id=user.pk, status__in=[Status.REPORTED, Status.VERIFIED, Status.DISPATCHED, Status.RECTIFYING])
    return (
        issues_visible(user=user)
        .filter(q)
        .distinct()
        .select_related("category", "responsible_unit")
        .order_by("deadline", "-id")
    )


def issues_public(*, include_citizen: bool = True) -> QuerySet[Issue]:
    """What Open311 may show: published cases and citizen reports (never personal data)."""
    q = Q(is_public=True)
    if include_citizen:
        q |= Q(source="citizen")
    return Issue.objects.filter(q).exclude(status__in=[Status.REJECTED]).select_related("category", "responsible_unit")
