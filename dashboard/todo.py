"""我的待办: the cases waiting for a supervisor's next step, like the officer's and the unit's tasks.

Four kinds, each tied to an action of `patrol.transitions` and the state it is taken from:

- 待核实 (verify): reported, waiting for 核实立案;
- 待交办 (dispatch): verified, waiting to be dispatched to a responsible unit;
- 待验收 (accept): rectification submitted, waiting for 验收;
- 待督办 (supervise): escalated by the job while the unit still has the work, at the level this
  role supervises (district and township supervisors from level 1, the city at level 2, as the
  job's notices go).

Who gets which kind is read from the transition table: a kind is on a user's list when the
table lets the user's role take its action, and the cases are those the same table's
jurisdiction rule lets them act on ("scope": the cases of their areas; "grid": their own cells
and reports). Oldest waiting first.
"""

from __future__ import annotations

from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy

from gridgov.models import Role
from patrol.models import CLOCK_STATUSES, Issue, Status
from patrol.transitions import TRANSITIONS

from .filters import TODO_KINDS, area_q
from .selectors import cases_for

# kind: (action in patrol.transitions, status the case waits in, when it started waiting)
KINDS = {
    "verify": ("verify", Status.REPORTED, "reported_at"),
    "dispatch": ("dispatch", Status.VERIFIED, "verified_at"),
    "accept": ("accept", Status.SUBMITTED, "rectified_at"),
}
SUPERVISE = "supervise"
KIND_LABELS = {
    "verify": gettext_lazy("待核实"),
    "dispatch": gettext_lazy("待交办"),
    "accept": gettext_lazy("待验收"),
    SUPERVISE: gettext_lazy("待督办"),
}
assert tuple(KIND_LABELS) == TODO_KINDS, "the filter's choices are the kinds"
# The escalation level from which a role supervises (督办) a late case.
SUPERVISE_FROM = {Role.CITY_SUPERVISOR: 2, Role.DISTRICT_SUPERVISOR: 1, Role.TOWNSHIP_SUPERVISOR: 1}


def _role(user) -> str:
    return Role.CITY_SUPERVISOR if getattr(user, "is_superuser", False) else getattr(user, "role", "") or ""


def _rule_q(rule: str, user) -> Q | None:
    """The cases a jurisdiction rule of the transition table lets `user` act on (within the
    cases they see)."""
    if rule == "scope":
        return ~Q(pk__in=[])
    if rule == "grid":
        return Q(reporter_id=user.pk) | Q(grid_cell__assignments__user_id=user.pk)
    return None


def kinds_for(user) -> dict[str, Q]:
    """Each to-do kind this user has, with the condition that puts a case on it."""
    role = _role(user)
    out: dict[str, Q] = {}
    for kind, (action, status, _since) in KINDS.items():
        rule = TRANSITIONS[action].roles.get(role)
        where = _rule_q(rule, user) if rule else None
        if where is not None:
            out[kind] = Q(status=status) & where
    if role in SUPERVISE_FROM:
        out[SUPERVISE] = Q(status__in=CLOCK_STATUSES, escalation_level__gte=SUPERVISE_FROM[role])
    return out


def todo(*, user, area: str | None = None, kind: str | None = None) -> tuple[dict[str, int], QuerySet[Issue]]:
    """(count per kind, the cases waiting, oldest first) for `user`, in `area` if given."""
    kinds = kinds_for(user)
    base = cases_for(user)
    if area:
        base = base.filter(area_q(area))
    if not kinds:
        return {}, base.none()
    counts = base.aggregate(**{k: Count("id", filter=q, distinct=True) for k, q in kinds.items()})
    wanted = {k: q for k, q in kinds.items() if kind in (None, k)}
    if not wanted:
        return counts, base.none()
    any_kind = Q(pk__in=[])
    for q in wanted.values():
        any_kind |= q
    # A case sits in one state, so it has one kind (the supervised ones are in the clock states).
    which = Case(*[When(q, then=Value(k)) for k, q in wanted.items()], output_field=CharField())
    since = Case(
        *[When(status=KINDS[k][1], then=F(KINDS[k][2])) for k in wanted if k in KINDS],
        default=F("deadline"),
    )
    qs = (
        base.filter(any_kind)
        .distinct()
        .annotate(todo=which, waiting_since=since)
        .select_related("category", "district", "township", "responsible_unit")
        .order_by("waiting_since", "id")
    )
    return counts, qs
