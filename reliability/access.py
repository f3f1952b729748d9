"""THE access table: who may call which endpoint or open which page, on which object.

One row per endpoint or page; each names a rule, and `expected()` turns (rule, who, object) into
the HTTP status the server must answer. The R4 matrix (reliability/matrix.py) and the tests read
this table; so can the apps (e.g. a test per app that walks the rows with its own prefix, or a
DRF permission class that looks up its row by route name). Case transitions are not repeated
here: their table is patrol/transitions.py, read by `transition_expected()`.

Rules:
- ``public``      anyone, 200.
- ``auth``        any signed-in account, 200 (201 for a create); anonymous: API 403, page 302 to login.
- ``staff``       staff accounts only (Django admin); others 302 to the admin login.
- ``case``        a case the user can see (`visible`): 200, else 404 exactly as a missing case;
                  anonymous: API 403, page 302.
- ``case_list``   a listing: contains the case iff the user can see it.
- ``cell``        a grid cell in the user's scope: 200, else 404 (anonymous too).
- ``photo``       a photo of a published case: anyone; otherwise users who can see one of its cases.
- ``public_case`` Open311: published (or citizen) cases 200; anything else 404.

Visibility of a case (`visible`): its district or township is in the user's scope, or the user
reported it, or it is assigned to the user's unit (issue 4: "scoped to the user").
"""

from __future__ import annotations

from dataclasses import dataclass

ANONYMOUS = "anonymous"
ROLES = [
    ANONYMOUS,
    "city_supervisor",
    "district_supervisor",
    "township_supervisor",
    "officer",
    "planner",
    "responsible_unit",
]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # placeholders: {case} {cell} {photo} {public_case}
    rule: str
    kind: str  # "api" | "page"
    app: str
    body: str | None = None  # "report" | "photo" for the write endpoints
    expect_created: bool = False
    name: str = ""  # the URL route name: how coverage is counted


E = Endpoint
ENDPOINTS: list[Endpoint] = [
    # grid core
    E("GET", "/healthz", "public", "api", "gridgov", name="healthz"),
    E("GET", "/api/areas/?level=district", "public", "api", "gridgov", name="api-areas"),
    E("GET", "/api/locate/?lat=30.27&lon=120.12", "public", "api", "gridgov", name="api-locate"),
    E("GET", "/api/grid-cells/{cell}/", "cell", "api", "gridgov", name="api-grid-cell"),
    E("GET", "/api/schema/", "public", "api", "gridgov", name="api-schema"),
    E("GET", "/api/docs/", "public", "api", "gridgov", name="api-docs"),
    E("GET", "/", "public", "page", "gridgov", name="home"),
    E("GET", "/accounts/login/", "public", "page", "gridgov", name="login"),
    E("GET", "/admin/", "staff", "page", "gridgov", name="admin:index"),
    # patrol API
    E("GET", "/api/patrol/categories/", "public", "api", "patrol", name="patrol-categories"),
    E("GET", "/api/patrol/issues/", "case_list", "api", "patrol", name="patrol-issues"),
    E("GET", "/api/patrol/issues/{case}/", "case", "api", "patrol", name="patrol-issue"),
    E("GET", "/api/patrol/tasks/", "auth", "api", "patrol", name="patrol-tasks"),
    E("GET", "/api/patrol/photos/{photo}/", "photo", "api", "patrol", name="patrol-photo"),
    E("POST", "/api/patrol/photos/", "auth", "api", "patrol", body="photo", expect_created=True, name="patrol-photos"),
    E("POST", "/api/patrol/issues/", "auth", "api", "patrol", body="report", expect_created=True, name="patrol-issues"),
    # patrol pages and the mobile app
    E("GET", "/patrol/", "auth", "page", "patrol", name="patrol-page-list"),
    E("GET", "/patrol/{case}/", "case", "page", "patrol", name="patrol-page-detail"),
    E("GET", "/m/", "auth", "page", "patrol", name="patrol-mobile"),
    E("GET", "/m/sw.js", "public", "page", "patrol", name="patrol-sw"),
    E("GET", "/m/manifest.webmanifest", "public", "page", "patrol", name="patrol-manifest"),
    # Open311 (public-safe fields only)
    E("GET", "/open311/v2/discovery.json", "public", "api", "patrol", name="open311-discovery"),
    E("GET", "/open311/v2/services.xml", "public", "api", "patrol", name="open311-services"),
    E("GET", "/open311/v2/requests.json", "public", "api", "patrol", name="open311-requests"),
    E("GET", "/open311/v2/requests/{public_case}.json", "public_case", "api", "patrol", name="open311-request"),
    E("GET", "/open311/v2/requests/{case}.xml", "public_case", "api", "patrol", name="open311-request"),
]


# Routes covered elsewhere in R4 rather than by a row: writes with their own checks
# (transitions: patrol/transitions.py; the page form: CSRF; login: throttling; logout: CSRF),
# Django's language switch, and Open311 resources that need a token/code of a citizen report.
COVERED_ELSEWHERE = {
    "patrol-issue-transition",
    "patrol-page-act",
    "api-token",
    "logout",
    "set_language",
    "open311-service",
    "open311-token",
}


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


def in_scope(who: Who, case: Case) -> bool:
    return who.everything or case.district_code in who.district_codes or case.township_code in who.township_codes


def visible(who: Who, case: Case) -> bool:
    if who.anonymous:
        return False
    return (
        in_scope(who, case)
        or case.reporter_id == who.user_id
        or (who.organization_id is not None and case.responsible_unit_id == who.organization_id)
    )


def expected(
    rule: str,
    kind: str,
    who: Who,
    *,
    case: Case | None = None,
    photo_cases=(),
    cell_in_scope=False,
    created: bool = False,
) -> int | str:
    """The status the table promises (an int), or "contains"/"excludes" for listings."""
    ok = 201 if created else 200
    denied_anon = 403 if kind == "api" else 302
    if rule == "public":
        return ok
    if rule == "auth":
        return denied_anon if who.anonymous else ok
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
