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

from django.contrib.gis.geos import Point
from django.db.models import BooleanField, Case, CharField, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.errors import NotFound
from gridgov.jurisdiction import user_scope
from gridgov.models import NO_BOUNDARIES, AreaLevel, GridAssignment, Organization, Role, User, bbox_polygon

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
    elif role in (Role.RESPONSIBLE_UNIT, Role.ENTERPRISE_CONTACT) and getattr(user, "organization_id", None):
        q |= Q(responsible_unit_id=user.organization_id)
    return Issue.objects.filter(q)


# The steps whose photos show the result (整改后): published with the case, beside the report's.
RESULT_PHOTO_ACTIONS = ("submit_rectification", "accept", "fail")


def photo_visible(*, photo: Photo, user) -> bool:
    """Whether `user` may fetch the (metadata-stripped) photo: its uploader, anyone once one of
    its cases is published (the report's photos and those of its rectification and acceptance,
    整改前后), and those who may see a case (or a step of one) that shows it."""
    if photo.issues.filter(is_public=True).exists():
        return True
    if IssueEvent.objects.filter(
        issue__is_public=True, action__in=RESULT_PHOTO_ACTIONS, photo_hashes__contains=[photo.sha256]
    ).exists():
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


# Areas are shown by name in lists: their boundaries (large polygons) are never loaded there.
_AREA_NAMES = ("category", "district", "township", "responsible_unit")


def _filtered(
    qs: QuerySet[Issue],
    *,
    statuses: list[str] | None = None,
    category: Category | None = None,
    district: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    issue_id: int | None = None,
) -> QuerySet[Issue]:
    if statuses:
        qs = qs.filter(status__in=statuses)
    if category is not None:
        qs = qs.filter(Q(category_id=category.code) | Q(category__parent_id=category.code))
    if district:
        qs = qs.filter(district__code=district)
    if since is not None:
        qs = qs.filter(reported_at__gte=since)
    if until is not None:
        qs = qs.filter(reported_at__lt=until)
    if bbox is not None:
        qs = qs.filter(point__intersects=bbox_polygon(bbox))
    if issue_id is not None:
        qs = qs.filter(pk=issue_id)
    return qs


def issues_list(*, user, text: str = "", **filters) -> QuerySet[Issue]:
    """Visible cases filtered by status, category (a top-level code includes its sub-codes),
    district code, since/until (reported at or after / before), bbox (minlon,minlat,maxlon,maxlat,
    WGS84), case number, and a keyword in the description, the category, the place or the unit."""
    qs = issues_visible(user=user).select_related(*_AREA_NAMES).defer(*NO_BOUNDARIES)
    qs = _filtered(qs, **filters)
    if text:
        qs = qs.filter(
            Q(description__icontains=text)
            | Q(category__name__icontains=text)
            | Q(township__name__icontains=text)
            | Q(district__name__icontains=text)
            | Q(responsible_unit__name__icontains=text)
            | Q(grid_cell_code=text)
        )
    return qs.order_by("-reported_at", "-id")


def issues_published(*, text: str = "", **filters) -> QuerySet[Issue]:
    """The public 曝光台: published cases, filtered like `issues_list`; a keyword searches only
    what is published (the published text, category and place), never the reporter's words."""
    qs = Issue.objects.filter(is_public=True).select_related(*_AREA_NAMES).defer(*NO_BOUNDARIES)
    qs = _filtered(qs, **filters)
    if text:
        qs = qs.filter(
            Q(public_description__icontains=text)
            | Q(category__name__icontains=text)
            | Q(township__name__icontains=text)
            | Q(district__name__icontains=text)
        )
    return qs.order_by("-published_at", "-id")


def published_get(*, issue_id: int) -> Issue:
    issue = issues_published().prefetch_related("photos").filter(pk=issue_id).first()
    if issue is None:
        raise NotFound(_("案件不存在或未曝光。"), code="not_found", field="id")
    return issue


def people_of(issue: Issue) -> list[str]:
    """The names the platform knows for a case: its reporter, citizen contact, the people who
    acted on it and its cell's staff (redaction looks for each of them in text to publish)."""
    contact = issue.contact or {}
    names = [contact.get("last_name", "") + contact.get("first_name", ""), contact.get("name", "")]
    people = Q(pk=issue.reporter_id) | Q(pk__in=IssueEvent.objects.filter(issue=issue).values("actor_id"))
    if issue.grid_cell_id:
        people |= Q(grid_cells=issue.grid_cell_id)
    for u in User.objects.filter(people).distinct().only("first_name", "last_name"):
        names += [u.last_name + u.first_name, u.first_name + u.last_name, u.first_name]
    return [n for n in names if n]


def issue_photo_sets(issue: Issue) -> dict[str, list[str]]:
    """The photos of a case by stage, as hashes in the order taken: 上报 (before), 整改 (the
    unit's evidence) and 验收 (the inspector's), for the side-by-side 整改前后 views."""
    sets: dict[str, list[str]] = {"report": [p.sha256 for p in issue.photos.all()]}
    sets |= {"rectification": [], "acceptance": []}
    for e in issue.events.all():
        if e.action == "submit_rectification":
            sets["rectification"] += e.photo_hashes
        elif e.action in ("accept", "fail"):
            sets["acceptance"] += e.photo_hashes
    return {k: list(dict.fromkeys(v)) for k, v in sets.items()}


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


class TaskKind:
    """Why a case is on someone's list: work assigned to them, or a report of their own to follow."""

    ASSIGNED = "assigned"
    REPORTED = "reported"


def my_tasks(*, user) -> QuerySet[Issue]:
    """What waits for this person, each case annotated with `task_kind`:

    - assigned (交办给我): their unit's open work, or a submitted rectification to accept in
      their cells (or on a case they reported);
    - reported (我的上报): their own open reports, to follow while others have the work.
    """
    if user is None or not user.is_authenticated:
        return Issue.objects.none()
    assigned = Q(pk__in=[])
    if getattr(user, "organization_id", None):
        assigned |= Q(responsible_unit_id=user.organization_id, status__in=[Status.DISPATCHED, Status.RECTIFYING])
    mine_or_my_cells = Q(reporter_id=user.pk) | Q(
        grid_cell__in=GridAssignment.objects.filter(user_id=user.pk).values("cell_id")
    )
    assigned |= Q(status=Status.SUBMITTED) & mine_or_my_cells
    following = [Status.REPORTED, Status.VERIFIED, Status.DISPATCHED, Status.RECTIFYING]
    reported = Q(reporter_id=user.pk, status__in=following)
    return (
        issues_visible(user=user)
        .filter(assigned | reported)
        .annotate(
            task_kind=Case(
                When(assigned, then=Value(TaskKind.ASSIGNED)),
                default=Value(TaskKind.REPORTED),
                output_field=CharField(),
            )
        )
        .select_related("category", "responsible_unit", "township")
        .defer("township__geom")
        .order_by("deadline", "-id")
    )


def issues_public(*, include_citizen: bool = True) -> QuerySet[Issue]:
    """What Open311 may show: published cases and citizen reports (never personal data)."""
    q = Q(is_public=True)
    if include_citizen:
        q |= Q(source="citizen")
    return (
        Issue.objects.filter(q)
        .exclude(status__in=[Status.REJECTED])
        .select_related("category", "responsible_unit", "district", "township")
        .defer(*NO_BOUNDARIES)
    )
