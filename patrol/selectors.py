"""Reads of the patrol loop. Each takes the acting user; cases outside it answer as missing."""

from __future__ import annotations

import datetime as dt
import math

from django.contrib.gis.geos import Point, Polygon
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from gridgov.dates import parse_moment
from gridgov.errors import InvalidInput, NotFound
from gridgov.geo import parse_bbox
from gridgov.jurisdiction import user_scope

from .models import Category, Issue, IssueEvent, Photo, Status
from .services import setting


def issues_visible(*, user) -> QuerySet[Issue]:
    """Cases in the user's scope, plus those assigned to their unit and those they reported."""
    if user is None or not user.is_authenticated:
        return Issue.objects.none()
    q = user_scope(user).q(district="district", township="township") | Q(reporter_id=user.pk)
    if getattr(user, "organization_id", None):
        q |= Q(responsible_unit_id=user.organization_id)
    return Issue.objects.filter(q)


def photo_visible(*, photo: Photo, user) -> bool:
    """Whether `user` may fetch the (metadata-stripped) photo."""
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


def issue_get(*, user, issue_id) -> Issue:
    try:
        pk = int(issue_id)
    except (TypeError, ValueError):
        raise NotFound("案件不存在 / case not found", field="id")
    issue = (
        issues_visible(user=user)
        .select_related("category", "reporter", "grid_cell", "township", "district", "responsible_unit")
        .prefetch_related("photos", "events__actor")
        .filter(pk=pk)
        .first()
    )
    if issue is None:
        raise NotFound("案件不存在 / case not found", field="id")
    return issue


def parse_since(value: str, *, field: str = "since") -> dt.datetime:
    return parse_moment(value, field=field)[0]


def issues_list(*, user, filters: dict) -> QuerySet[Issue]:
    """Visible cases filtered by status, category (a top-level code includes its sub-codes),
    district code, since (reported at or after), bbox (minlon,minlat,maxlon,maxlat)."""
    qs = issues_visible(user=user).select_related("category", "district", "township", "responsible_unit")
    status = filters.get("status")
    if status:
        values = [s for s in str(status).split(",") if s]
        bad = [s for s in values if s not in Status.values]
        if bad:
            raise InvalidInput(
                f"'status' must be among {', '.join(Status.values)}, got {bad[0][:20]!r}", field="status"
            )
        qs = qs.filter(status__in=values)
    category = filters.get("category")
    if category:
        if not Category.objects.filter(code=category).exists():
            raise InvalidInput(f"unknown 'category' {str(category)[:40]!r}", field="category")
        qs = qs.filter(Q(category_id=category) | Q(category__parent_id=category))
    district = filters.get("district")
    if district:
        qs = qs.filter(district__code=str(district)[:9])
    since = filters.get("since")
    if since:
        qs = qs.filter(reported_at__gte=parse_since(since))
    bbox = filters.get("bbox")
    if bbox:
        box = Polygon.from_bbox(parse_bbox(bbox))
        box.srid = 4326
        qs = qs.filter(point__intersects=box)
    return qs.order_by("-reported_at", "-id")


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

    The same test as the report statement in `patrol.services._REPORT_TAIL_SQL`, so a resend
    answers with the suggestions the first send gave.
    """
    since, degrees, radius, _ = duplicate_window(lat=point.y)
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
