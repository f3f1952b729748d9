"""Reads of 双随机一公开, with jurisdiction and the confidentiality of the draw.

A plan is seen by supervisors whose scope meets its scope; an inspection before its result is
seen only by its drawn inspectors and those supervisors (anyone else: as if it did not exist).
The public sees a plan's commitment at once, each inspection once its result is recorded, and
the seed, the inputs and the whole draw once every inspection is done or the plan's publication
deadline has passed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.errors import NotFound
from gridgov.jurisdiction import user_scope
from gridgov.models import NO_BOUNDARIES, AdminArea, AreaLevel, Role, User, display_name_of
from sources.models import Enterprise

from .models import Inspection, InspectionInspector, InspectorDuty, Plan, PlanStatus, Pool

SUPERVISOR_ROLES = {Role.CITY_SUPERVISOR, Role.DISTRICT_SUPERVISOR, Role.TOWNSHIP_SUPERVISOR}


def _split(areas: list[AdminArea]) -> tuple[set[int], set[int]]:
    districts = {a.pk for a in areas if a.level == AreaLevel.DISTRICT}
    townships = {a.pk for a in areas if a.level == AreaLevel.TOWNSHIP}
    return districts, townships


def _eligible(areas: list[AdminArea]) -> QuerySet[User]:
    districts, townships = _split(areas)
    parents = {a.parent_id for a in areas if a.level == AreaLevel.TOWNSHIP}
    near = Q(area_id__in=districts | townships | parents) | Q(area__parent_id__in=districts)
    ids = InspectorDuty.objects.filter(near, active=True, user__is_active=True).values_list("user_id", flat=True)
    return User.objects.filter(pk__in=ids)


def eligible_inspectors(*, areas: list[AdminArea]) -> list[User]:
    """执法人员名录: active duties for a scope area, a township of a scope district, or the
    district of a scope township."""
    return list(_eligible(areas).order_by("username"))


def plan_roster(*, plan: Plan, areas: list[AdminArea]) -> list[tuple[int, str, str]]:
    """(user id, username, display name) of the inspectors a plan draws from, by username:
    those named on it, else the 执法人员名录 of its scope (`areas`, the plan's).

    Rows, not users: building 500 User objects costs more than the query; the name is
    User.display_name's (`display_name_of`)."""
    fields = ("pk", "username", "first_name", "last_name")
    rows = list(plan.inspectors.values_list(*fields)) or list(_eligible(areas).values_list(*fields))
    named = [(pk, username, display_name_of(username, first, last)) for pk, username, first, last in rows]
    return sorted(named, key=lambda r: r[1])


def pool_members(*, areas: list[AdminArea], pools: list[Pool]) -> list[list[str]]:
    """The credit codes of each pool, sorted; a source goes to the first pool it matches, its
    credit level green when never scored.

    Raw SQL because it is one aggregation: CASE picks the first matching pool (its branches are
    the pools in order; a pool without conditions matches all), and each pool comes back as one
    array, so a city's 20,000 sources cost no Python row each. The arrays are sorted here, by
    code point: for credit codes (18 of [0-9A-Z], the enterprise table's check) that is the
    order of ORDER BY under C.UTF-8 (scripts/pg.sh) or en_US (the container), and an ordered
    array_agg, which sorts each group in the database, takes longer than Python's sort."""
    districts, townships = _split(areas)
    scope = [(column, ids) for column, ids in (("e.district_id", districts), ("e.township_id", townships)) if ids]
    if not pools or not scope:
        return [[] for _p in pools]
    branches, params = [], []
    for n, pool in enumerate(pools):
        conditions = ["TRUE"]
        if pool.management_class:
            conditions.append("e.management_class = %s")
            params.append(pool.management_class)
        if pool.credit_levels:
            conditions.append("COALESCE(s.level, 'green') = ANY(%s)")
            params.append(list(pool.credit_levels))
        branches.append(f"WHEN {' AND '.join(conditions)} THEN %s")
        params.append(n)
    params += [list(ids) for _sql, ids in scope]
    # A pool without conditions takes every source left, and then no source is without a pool:
    # the filter would only evaluate the CASE a second time per source.
    catch_all = any(not p.management_class and not p.credit_levels for p in pools)
    sql = f"""
        SELECT m.pool, array_agg(m.credit_code)
          FROM (SELECT e.credit_code, CASE {" ".join(branches)} END AS pool
                  FROM sources_enterprise e
                  LEFT JOIN credit_creditstanding s ON s.credit_code = e.credit_code
                 WHERE {" OR ".join(f"{column} = ANY(%s)" for column, _ids in scope)}) m
         {"" if catch_all else "WHERE m.pool IS NOT NULL"}
         GROUP BY m.pool"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = {pool: sorted(codes) for pool, codes in cursor.fetchall()}
    return [found.get(n, []) for n in range(len(pools))]


def previous_plan_id(*, plan: Plan, areas: list[AdminArea]) -> int | None:
    """The latest drawn plan before this one whose scope (`areas`) shares an area with it; its
    id only (a drawn plan's row carries its whole frozen inputs)."""
    return (
        Plan.objects.filter(status=PlanStatus.DRAWN, scope__in=[a.pk for a in areas])
        .exclude(pk=plan.pk)
        .order_by("-drawn_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )


def avoidance_pairs(*, plan: Plan, areas: list[AdminArea], user_ids: list[int], codes: set[str]) -> dict[int, set[str]]:
    """回避, user id → the credit codes they avoid: own grid cells over the plan's scope
    (`areas`), inspected in the previous plan, declared conflicts; only the given users and codes.

    Raw SQL to ask once for all three: a UNION with the users bound as one array, not three
    IN lists of every user id; the scope join stays in the database (no list of every code)."""
    districts, townships = _split(areas)
    before = previous_plan_id(plan=plan, areas=areas)
    sql = """
        SELECT a.user_id, e.credit_code
          FROM sources_enterprise e JOIN gridgov_gridassignment a ON a.cell_id = e.grid_cell_id
         WHERE (e.district_id = ANY(%(districts)s) OR e.township_id = ANY(%(townships)s))
           AND a.user_id = ANY(%(users)s)
        UNION ALL
        SELECT t.user_id, i.credit_code
          FROM inspections_inspectioninspector t JOIN inspections_inspection i ON i.id = t.inspection_id
         WHERE i.plan_id = %(before)s AND t.user_id = ANY(%(users)s)
        UNION ALL
        SELECT d.user_id, d.credit_code FROM inspections_declaredconflict d WHERE d.user_id = ANY(%(users)s)"""
    params = {
        "districts": list(districts),
        "townships": list(townships),
        "users": list(user_ids),
        "before": before,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    avoided: defaultdict[int, set[str]] = defaultdict(set)
    for uid, code in rows:
        if code in codes:
            avoided[uid].add(code)
    return dict(avoided)


def enterprise_points(codes: list[str]) -> dict:
    return {
        e.credit_code: e.point for e in Enterprise.objects.filter(credit_code__in=codes).only("credit_code", "point")
    }


# --- Plans and inspections for staff ---------------------------------------------------------


def plans_visible(*, user) -> QuerySet[Plan]:
    if not getattr(user, "is_authenticated", False):
        return Plan.objects.none()
    if not (user.is_superuser or user.role in SUPERVISOR_ROLES):
        return Plan.objects.none()
    scope = user_scope(user)
    if scope.everything:
        return Plan.objects.all()
    areas = AdminArea.objects.filter(
        Q(pk__in=scope.district_ids) | Q(pk__in=scope.township_ids) | Q(children__pk__in=scope.township_ids)
    )
    return Plan.objects.filter(scope__in=areas).distinct()


def plan_get(*, user, plan_id: int) -> Plan:
    plan = plans_visible(user=user).filter(pk=plan_id).first()
    if plan is None:
        raise NotFound(_("抽查计划不存在。"), code="plan_not_found", field="id")
    return plan


def my_tasks(*, user) -> QuerySet[Inspection]:
    """The user's drawn inspections that wait for a result (我的任务)."""
    if not getattr(user, "is_authenticated", False):
        return Inspection.objects.none()
    return (
        Inspection.objects.filter(team__user=user, done_at__isnull=True, plan__status=PlanStatus.DRAWN)
        .select_related("plan")
        .prefetch_related("team__user")
        .order_by("plan__period_end", "position")
    )


def enterprises_by_code(codes) -> dict[str, Enterprise]:
    qs = (
        Enterprise.objects.filter(credit_code__in=list(codes))
        .select_related("district", "township", "permit")
        .defer(*NO_BOUNDARIES)
    )
    return {e.credit_code: e for e in qs}


def inspections_of_enterprise(*, credit_code: str, user) -> list[Inspection]:
    """An enterprise page's inspections: the public ones, plus the confidential ones the user may see."""
    seen = Q(done_at__isnull=False)
    if getattr(user, "is_authenticated", False):
        seen |= Q(Exists(InspectionInspector.objects.filter(inspection=OuterRef("pk"), user=user)))
        seen |= Q(plan__in=plans_visible(user=user))
    qs = Inspection.objects.filter(seen, credit_code=credit_code).select_related("plan")
    return list(qs.order_by("-plan__period_start"))


# --- Public ----------------------------------------------------------------------------------


def draw_public(plan: Plan, *, now: dt.datetime | None = None) -> bool:
    """Whether the whole draw (seed, inputs, every inspection) is public: all done, or the
    publication deadline (period end + publish_days) has passed."""
    if plan.status != PlanStatus.DRAWN:
        return False
    now = now or timezone.now()
    if timezone.localdate(now) > plan.publish_deadline:
        return True
    return not plan.inspections.filter(done_at__isnull=True).exists()


def plans_public() -> QuerySet[Plan]:
    return Plan.objects.exclude(status=PlanStatus.DRAFT).prefetch_related("scope").order_by("-period_start", "-pk")


def plan_public_get(plan_id: int) -> Plan:
    plan = plans_public().filter(pk=plan_id).first()
    if plan is None:
        raise NotFound(_("抽查计划不存在。"), code="plan_not_found", field="id")
    return plan


def inspection_by_code(code: str) -> Inspection | None:
    return Inspection.objects.filter(code=code).select_related("plan").first()
