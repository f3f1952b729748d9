"""THE access table: who may call which endpoint or open which page, on which object.

The rows (one per endpoint or page, in reliability/routes.py) each name a rule, and
`expected()` turns (rule, who, object) into the HTTP status the server must answer. The R4
matrix (reliability/matrix.py) and the tests read this table; so can the apps (e.g. a test per
app that walks the rows with its own prefix, or a DRF permission class that looks up its row by
route name). Case transitions are not repeated here: their table is patrol/transitions.py, read
by `transition_expected()`.

Rules:
- ``public``      anyone, 200.
- ``auth``        any signed-in account, 200 (201 for a create); anonymous: API 403, page 302 to login.
- ``auth_hidden`` any signed-in account, 200; anonymous 404, exactly like a missing object (zoning
                  history and versions name the people who changed a unit; the list is public).
- ``staff``       staff accounts only (Django admin); others 302 to the admin login.
- ``roles:<set>`` accounts whose role is in ``ROLE_SETS[<set>]`` (or superusers): 200 (201 for a
                  create); other accounts 403; anonymous: API 403, page 302. The sets:
                  ``planner`` (zoning writes: create, edit, delete, revert, import),
                  ``imagery_reviewer`` (imagery reads and the review page: analysts and supervisors),
                  ``imagery_jobs`` (start and cancel detection jobs: analysts, city and district).
- ``city_job``    start or cancel a city-wide detection job (issue 12.9: a job belongs to the one
                  district its pair covers, else to the city; the matrix uses the demo pair, which
                  covers several districts): ``imagery_jobs`` roles with the city in scope (or
                  superusers) 200 (201 for a create); other accounts 403; anonymous: API 403.
- ``case``        a case the user can see (`visible`): 200, else 404 exactly as a missing case;
                  anonymous: API 403, page 302.
- ``case_list``   a listing: contains the case iff the user can see it.
- ``cell``        a grid cell in the user's scope: 200, else 404 (anonymous too).
- ``photo``       a photo of a published case: anyone; otherwise users who can see one of its cases.
- ``public_case`` Open311 and the 曝光台: published (or, for Open311, citizen) cases 200; anything
                  else 404 (the matrix's non-public cases are neither).
- ``redirect``    a page that only sends the browser on (the login landing): 302 for everyone
                  (anonymous to the login, a signed-in user to their first page).
- ``candidate``   an imagery change candidate: ``imagery_reviewer`` roles and the candidate's area in
                  their scope 200 (201 for confirm), out of scope 404 as a missing one; other accounts
                  and anonymous 403.
- ``imagery_list`` a listing of imagery data by area (candidates, per-cell summaries): other accounts
                  and anonymous 403; a reviewer's answer contains the object iff it is in scope.
- ``chip``        the PNG of a candidate (a page): reviewer and in scope 200; anonymous 302; anyone
                  else 404, as for a missing candidate.
- ``scoped_list`` dashboard data (lists, aggregates, heat bins, rankings, exports): any signed-in
                  account (anonymous 403); the answer counts the case iff `visible`.
- ``scoped_areas`` the monthly report and the ranking: any signed-in account (anonymous 403); it
                  shows the case's area iff the area is in the user's scope.

Visibility of a case (`visible`) depends on the role as well as the area (issue 12): the
supervisors (city, district, township) and grid officers see the cases of their scope; a
responsible unit sees only the cases dispatched to its own organization; the roles without a
patrol duty (zoning planner, imagery analyst) and accounts without a role see no case, however
wide their scope; everyone sees the cases they reported themselves (an analyst's confirmed
candidates), and superusers see everything. The dashboard reads cases the same way.

Writes. A row with a ``body`` sends a request that is valid for the allowed roles, and the
allowed roles' cell is a real write: the planner edits a demo unit and reverts the edit, the
import is a dry run, and the matrix builds one fresh object per cell where a write uses one up
(candidates to confirm or dismiss, jobs to cancel; jobs left queued are cancelled at the end, as
no worker runs them). Where a real write would damage shared data the row is a ``probe``: the
body passes the permission check and then stops at validation (a unit create on top of the demo
units, which cover the whole city; a delete with a stale base version). Allowed roles then expect
``PERMITTED`` (a 2xx, or a 4xx other than 401/403/404/405), everyone else the refusal of the rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from .routes import (  # the rows; readers use access.ENDPOINTS, access.ROLES …
    ANONYMOUS,
    COVERED_ELSEWHERE,
    ENDPOINTS,
    LIST_RULES,
    OBJECT_PLACEHOLDERS,
    PERMITTED,
    ROLE_SETS,
    ROLES,
    Endpoint,
    permitted,
)

__all__ = [
    "ANONYMOUS",
    "COVERED_ELSEWHERE",
    "ENDPOINTS",
    "Endpoint",
    "LIST_RULES",
    "OBJECT_PLACEHOLDERS",
    "PERMITTED",
    "ROLES",
    "ROLE_SETS",
    "permitted",
]


def route_names() -> set[str]:
    """Every named route of the project except the Django admin's own (one row covers it)."""
    from django.urls import get_resolver

    def walk(patterns, ns=""):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                if getattr(p, "namespace", None) == "admin":
                    continue
                yield from walk(p.url_patterns, ns)
            elif p.name:
                yield p.name

    return set(walk(get_resolver().url_patterns))


def unlisted() -> list[str]:
    """Routes with neither a row here nor a check elsewhere: the table is incomplete for them."""
    listed = {e.name for e in ENDPOINTS} | COVERED_ELSEWHERE
    return sorted(route_names() - listed)


@dataclass(frozen=True)
class Who:
    """What the table needs to know about the caller (from the database, not from the code under test)."""

    username: str  # or ANONYMOUS
    user_id: int | None = None
    role: str = ""
    is_staff: bool = False
    everything: bool = False  # the city is in scope
    district_codes: frozenset[str] = frozenset()
    township_codes: frozenset[str] = frozenset()
    organization_id: int | None = None
    cell_ids: frozenset[int] = frozenset()  # grid cells the user is assigned to
    superuser: bool = False

    @property
    def anonymous(self) -> bool:
        return self.username == ANONYMOUS


@dataclass(frozen=True)
class Case:
    id: int
    district_code: str
    township_code: str
    reporter_id: int | None
    responsible_unit_id: int | None
    grid_cell_id: int | None
    public: bool = False
    reported_at: str = ""  # ISO 8601, local time (the month of the monthly views is its [:7])
    point: tuple[float, float] | None = None  # lon, lat


# The roles whose duty is the patrol of their areas (written out, not imported from patrol).
PATROL_ROLES = frozenset({"city_supervisor", "district_supervisor", "township_supervisor", "grid_officer"})


def in_scope(who: Who, case: Case) -> bool:
    return who.everything or case.district_code in who.district_codes or case.township_code in who.township_codes


def visible(who: Who, case: Case) -> bool:
    """Whether `who` may see the case at all (pages, API, photos, the dashboard's figures)."""
    if who.anonymous:
        return False
    if who.superuser or case.reporter_id == who.user_id:
        return True
    if who.role in ("responsible_unit", "enterprise_contact"):
        return who.organization_id is not None and case.responsible_unit_id == who.organization_id
    return who.role in PATROL_ROLES and in_scope(who, case)


def has_role(who: Who, role_set: str) -> bool:
    return not who.anonymous and (who.superuser or who.role in ROLE_SETS[role_set])


def expected(
    rule: str,
    kind: str,
    who: Who,
    *,
    case: Case | None = None,
    photo_cases=(),
    cell_in_scope=False,
    created: bool = False,
    probe: bool = False,
) -> int | str:
    """The status the table promises (an int), "contains"/"excludes" for listings, or PERMITTED."""
    ok = PERMITTED if probe else (201 if created else 200)
    denied_anon = 302 if kind == "page" else 403
    if rule == "public":
        return ok
    if rule == "auth":
        return denied_anon if who.anonymous else ok
    if rule == "auth_hidden":
        return 404 if who.anonymous else ok
    if rule == "auth_own_enterprise":
        # staff read any enterprise's record; an enterprise's contact only its own (the row's
        # object is another enterprise's, so it does not exist for the contact)
        if who.anonymous:
            return denied_anon
        return 404 if who.role == "enterprise_contact" and not who.superuser else ok
    if rule.startswith("roles:"):
        if who.anonymous:
            return denied_anon
        return ok if has_role(who, rule.removeprefix("roles:")) else 403
    if rule == "city_job":
        if who.anonymous:
            return denied_anon
        return ok if has_role(who, "imagery_jobs") and (who.everything or who.superuser) else 403
    if rule == "candidate":
        if who.anonymous or not has_role(who, "imagery_reviewer"):
            return 403
        return ok if in_scope(who, case) else 404
    if rule == "imagery_list":
        if who.anonymous or not has_role(who, "imagery_reviewer"):
            return 403
        return "contains" if in_scope(who, case) else "excludes"
    if rule == "chip":
        if who.anonymous:
            return 302
        return 200 if has_role(who, "imagery_reviewer") and in_scope(who, case) else 404
    if rule == "scoped_list":
        if who.anonymous:
            return denied_anon
        return "contains" if visible(who, case) else "excludes"
    if rule == "scoped_areas":
        if who.anonymous:
            return denied_anon
        return "contains" if in_scope(who, case) else "excludes"
    if rule == "staff":
        return 200 if who.is_staff else 302
    if rule == "case":
        if who.anonymous:
            return denied_anon
        return 200 if visible(who, case) else 404
    if rule == "case_list":
        if who.anonymous:
            return denied_anon
        return "contains" if visible(who, case) else "excludes"
    if rule == "cell":
        return 200 if cell_in_scope else 404
    if rule == "photo":
        if any(c.public for c in photo_cases):
            return 200
        return 200 if not who.anonymous and any(visible(who, c) for c in photo_cases) else 404
    if rule == "public_case":
        return 200 if case.public else 404
    if rule == "redirect":
        return 302
    raise ValueError(f"unknown access rule {rule!r}")


def jurisdiction(rule: str, who: Who, case: Case) -> bool:
    """The jurisdiction rules named in patrol/transitions.py, from the caller's and the case's data."""
    if rule == "scope":
        return in_scope(who, case)
    if rule == "unit":
        return who.organization_id is not None and who.organization_id == case.responsible_unit_id
    if rule == "grid":
        return case.reporter_id == who.user_id or case.grid_cell_id in who.cell_ids
    return False


# Actions that need another action taken first, beyond a source state of patrol/transitions.py:
# the fixtures take it (as the city supervisor) before the cell is checked. 撤销曝光 undoes a 曝光.
TRANSITION_PREREQUISITES = {"unpublish": "publish"}


def transition_expected(action: str, who: Who, case: Case) -> int:
    """POST /api/patrol/issues/<case>/transition/ on a case in a source state of `action`."""
    from patrol.transitions import TRANSITIONS

    if who.anonymous:
        return 403
    if not visible(who, case):
        return 404
    t = TRANSITIONS[action]
    rule = t.roles.get(who.role)
    if rule is None or not jurisdiction(rule, who, case):
        return 409
    return 200
