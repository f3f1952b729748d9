"""The rows of the access table (reliability/access.py explains the rules and turns them into
expected answers): the roles, the role sets, and one row per endpoint or page, by app."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo as _ZoneInfo

ANONYMOUS = "anonymous"
# The demo accounts, one per role (their usernames); `Who.role` holds the role value.
ROLES = [
    ANONYMOUS,
    "city_supervisor",
    "district_supervisor",
    "township_supervisor",
    "officer",
    "planner",
    "responsible_unit",
    "imagery_analyst",
    "enterprise_contact",
]

# Role values (gridgov.models.Role) of the `roles:<set>` rules. Written out here, not imported
# from the apps, so that a change in an app's own list shows up as failed cells.
ROLE_SETS: dict[str, frozenset[str]] = {
    # zoning/services.py `can_edit`: "Planners and superusers edit zoning; everyone else reads."
    "planner": frozenset({"zoning_planner"}),
    # geodata/services.py REVIEW_ROLES: imagery review is for analysts and supervisors.
    "imagery_reviewer": frozenset({"imagery_analyst", "city_supervisor", "district_supervisor", "township_supervisor"}),
    # geodata/services.py JOB_ROLES: township supervisors review but do not start or cancel jobs.
    "imagery_jobs": frozenset({"imagery_analyst", "city_supervisor", "district_supervisor"}),
}

# The answer of an allowed role to a `probe` row: past the permission check (see the docstring).
PERMITTED = "permitted"
OBJECT_PLACEHOLDERS = ("{case}", "{cell}", "{photo}", "{candidate}")
LIST_RULES = ("case_list", "imagery_list", "scoped_list", "scoped_areas")


def permitted(status: int) -> bool:
    return 200 <= status < 300 or (400 <= status < 500 and status not in (401, 403, 404, 405))


@dataclass(frozen=True)
class Endpoint:
    method: str
    # placeholders: {case} {cell} {photo} {public_case} {unit} {candidate} {job} and, from the
    # case of the cell, {since} {until} {month} {bbox} (a window that holds only that case)
    path: str
    rule: str
    # "api" (token client; anonymous 403), "page" (browser session; anonymous 302 to the login)
    # or "document" (browser session, a download such as the monthly report; anonymous 403)
    kind: str
    app: str
    # "report" | "photo" | "unit_create" | "unit_edit" | "unit_delete" | "unit_revert" | "import"
    # | "analyze" | "analysis_report" | "dismiss" | "job" | "empty" for the write endpoints
    body: str | None = None
    expect_created: bool = False
    name: str = ""  # the URL route name: how coverage is counted
    probe: bool = False  # allowed roles' request stops at validation: expect PERMITTED

    @property
    def object_bound(self) -> bool:
        """Checked inside and outside the caller's jurisdiction (one object each)."""
        return any(p in self.path for p in OBJECT_PLACEHOLDERS) or self.rule in LIST_RULES


E = Endpoint
PLANNER, REVIEWER = "roles:planner", "roles:imagery_reviewer"
ZU, GD, DB = "/api/zoning/units/", "/api/geodata/", "/api/dashboard/"
WINDOW = "since={since}&until={until}"  # the reporting time of one case, to 1 ms
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
    # Vector tiles feed the public home map (boundaries, grid outlines) and every other map;
    # zoning layers are published planning data like the OGC API below.
    E("GET", "/tiles/admin-areas/9/426/210.pbf", "public", "api", "gridgov", name="tile"),
    E("GET", "/tiles/grid-cells/14/13658/6746.pbf", "public", "api", "gridgov", name="tile"),
    E("GET", "/tiles/control-units/12/3414/1686.pbf", "public", "api", "gridgov", name="tile"),
    E("GET", "/tiles/control-units/tilejson.json", "public", "api", "gridgov", name="tilejson"),
    E("GET", "/tiles/grid-cells/style.json", "public", "api", "gridgov", name="tile-style"),
    # patrol API
    E("GET", "/api/patrol/categories/", "public", "api", "patrol", name="patrol-categories"),
    E("GET", "/api/patrol/issues/?" + WINDOW, "case_list", "api", "patrol", name="patrol-issues"),
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
    E("GET", "/patrol/landing/?next=/", "redirect", "page", "patrol", name="patrol-landing"),
    # The public side (issue 13 §4): 曝光台, the citizen form, known places, report tracking.
    E("GET", "/public/cases/", "public", "page", "patrol", name="public-cases"),
    E("GET", "/public/cases/map.json", "public", "api", "patrol", name="public-cases-map"),
    E("GET", "/public/cases/{public_case}/", "public_case", "page", "patrol", name="public-case"),
    E("GET", "/public/cases/{case}/", "public_case", "page", "patrol", name="public-case"),
    E("GET", "/public/report/", "public", "page", "patrol", name="public-report"),
    E("GET", "/public/places/?q=%E8%A5%BF%E6%B9%96%E5%8C%BA", "public", "api", "patrol", name="public-places"),
    E("GET", "/public/track/", "public", "page", "patrol", name="public-track-lookup"),
    # Open311 (public-safe fields only)
    E("GET", "/open311/v2/discovery.json", "public", "api", "patrol", name="open311-discovery"),
    E("GET", "/open311/v2/services.xml", "public", "api", "patrol", name="open311-services"),
    E("GET", "/open311/v2/requests.json", "public", "api", "patrol", name="open311-requests"),
    E("GET", "/open311/v2/requests/{public_case}.json", "public_case", "api", "patrol", name="open311-request"),
    E("GET", "/open311/v2/requests/{case}.xml", "public_case", "api", "patrol", name="open311-request"),
    # zoning API. zoning/selectors.py: "三线一单 results are public, so the lists and the
    # point/polygon lookups are open to everyone; version history, which names the people who
    # changed a unit, needs a signed-in account". Writes: planners only (zoning/services.py).
    # The order matters: the planner edits a unit, then reverts that edit. The import is a dry run.
    E("GET", ZU + "?district=330106", "public", "api", "zoning", name="zoning-units"),
    E("POST", ZU, PLANNER, "api", "zoning", body="unit_create", probe=True, name="zoning-units"),
    E("GET", ZU + "{unit}/", "public", "api", "zoning", name="zoning-unit"),
    E("PATCH", ZU + "{unit}/", PLANNER, "api", "zoning", body="unit_edit", name="zoning-unit"),
    E("DELETE", ZU + "{unit}/", PLANNER, "api", "zoning", body="unit_delete", probe=True, name="zoning-unit"),
    E("GET", ZU + "{unit}/history/", "auth_hidden", "api", "zoning", name="zoning-unit-history"),
    E("GET", ZU + "{unit}/versions/1/", "auth_hidden", "api", "zoning", name="zoning-unit-version"),
    E("POST", ZU + "{unit}/revert/", PLANNER, "api", "zoning", body="unit_revert", name="zoning-unit-revert"),
    E("GET", "/api/zoning/zones/?layer=red_line", "public", "api", "zoning", name="zoning-zones"),
    E("POST", "/api/zoning/analyze/", "public", "api", "zoning", body="analyze", name="zoning-analyze"),
    E("GET", "/api/zoning/analyze/rules/", "public", "api", "zoning", name="zoning-rules"),
    E("POST", "/api/zoning/import/", PLANNER, "api", "zoning", body="import", name="zoning-import"),
    E("GET", "/api/zoning/export/?format=geojson&crs=4326", "public", "api", "zoning", name="zoning-export"),
    # zoning pages: the editor is for signed-in users (planners save, others view); the site
    # analysis page and its printable report are open like the analysis API.
    E("GET", "/zoning/editor/", "auth", "page", "zoning", name="zoning-editor"),
    E("GET", "/zoning/analyze/", "public", "page", "zoning", name="zoning-analyze-page"),
    E("POST", "/zoning/analyze/report/", "public", "page", "zoning", body="analysis_report", name="zoning-report"),
    # OGC API – Features: open, so that QGIS and GDAL read it without an account (issue 3).
    E("GET", "/ogc/", "public", "api", "zoning", name="ogc-landing"),
    E("GET", "/ogc/conformance", "public", "api", "zoning", name="ogc-conformance"),
    E("GET", "/ogc/api", "public", "api", "zoning", name="ogc-api"),
    E("GET", "/ogc/collections", "public", "api", "zoning", name="ogc-collections"),
    E("GET", "/ogc/collections/control-units", "public", "api", "zoning", name="ogc-collection"),
    E("GET", "/ogc/collections/control-units/items?limit=5", "public", "api", "zoning", name="ogc-items"),
    E("GET", "/ogc/collections/control-units/items/{unit}", "public", "api", "zoning", name="ogc-item"),
    E("GET", "/ogc/collections/control-units/queryables", "public", "api", "zoning", name="ogc-queryables"),
    # OGC API – Tiles of the public collections (the tiles of /tiles/ above, z/row/col).
    E("GET", "/ogc/tiles", "public", "api", "gridgov", name="ogc-tiles"),
    E("GET", "/ogc/tiles/WebMercatorQuad", "public", "api", "gridgov", name="ogc-tileset"),
    E("GET", "/ogc/tiles/WebMercatorQuad/12/1686/3414", "public", "api", "gridgov", name="ogc-tile"),
    E("GET", "/ogc/tileMatrixSets", "public", "api", "gridgov", name="ogc-tilematrixsets"),
    E("GET", "/ogc/tileMatrixSets/WebMercatorQuad", "public", "api", "gridgov", name="ogc-tilematrixset"),
    E("GET", "/ogc/collections/control-units/tiles", "public", "api", "gridgov", name="ogc-collection-tilesets"),
    E(
        "GET",
        "/ogc/collections/control-units/tiles/WebMercatorQuad",
        "public",
        "api",
        "gridgov",
        name="ogc-collection-tileset",
    ),
    E(
        "GET",
        "/ogc/collections/control-units/tiles/WebMercatorQuad/12/1686/3414",
        "public",
        "api",
        "gridgov",
        name="ogc-collection-tile",
    ),
    # imagery (geodata): reads for reviewers, candidates by the area of their grid cell; jobs and
    # scenes are not area-bound (geodata/selectors.py). Confirming opens a patrol case (201).
    E("GET", GD + "candidates/?job={job}&page_size=500", "imagery_list", "api", "geodata", name="geodata-candidates"),
    E("GET", GD + "candidates/{candidate}/", "candidate", "api", "geodata", name="geodata-candidate"),
    E(
        "POST",
        GD + "candidates/{candidate}/confirm/",
        "candidate",
        "api",
        "geodata",
        body="empty",
        expect_created=True,
        name="geodata-candidate-confirm",
    ),
    E(
        "POST",
        GD + "candidates/{candidate}/dismiss/",
        "candidate",
        "api",
        "geodata",
        body="dismiss",
        name="geodata-candidate-dismiss",
    ),
    E("GET", GD + "grid-summary/?job={job}", "imagery_list", "api", "geodata", name="geodata-grid-summary"),
    E("GET", GD + "quality/", REVIEWER, "api", "geodata", name="geodata-quality"),
    E("GET", GD + "scenes/", REVIEWER, "api", "geodata", name="geodata-scenes"),
    E("GET", GD + "jobs/", REVIEWER, "api", "geodata", name="geodata-jobs"),
    E("POST", GD + "jobs/", "city_job", "api", "geodata", body="job", expect_created=True, name="geodata-jobs"),
    E("GET", GD + "jobs/{job}/", REVIEWER, "api", "geodata", name="geodata-job"),
    E("POST", GD + "jobs/{job}/cancel/", "city_job", "api", "geodata", body="empty", name="geodata-job-cancel"),
    E("GET", "/imagery/", REVIEWER, "page", "geodata", name="geodata-review"),
    E("GET", "/imagery/chips/{candidate}/before.png", "chip", "page", "geodata", name="geodata-chip"),
    # dashboard (issue 6: "Everything is limited to the user's jurisdiction"; "A user out of
    # scope sees nothing outside their jurisdiction"): any signed-in account, data by scope.
    E("GET", "/dashboard/", "auth", "page", "dashboard", name="dashboard"),
    E("GET", DB + "cases/?" + WINDOW, "scoped_list", "api", "dashboard", name="dashboard-cases"),
    E("GET", DB + "aggregate/?level=grid&" + WINDOW, "scoped_list", "api", "dashboard", name="dashboard-aggregate"),
    E("GET", DB + "heat/?zoom=16&bbox={bbox}&" + WINDOW, "scoped_list", "api", "dashboard", name="dashboard-heat"),
    # A month's ranking cannot single out one case (others of the month count too): it lists the
    # areas of the user's scope; the counting itself is checked on the time-window rows above.
    E(
        "GET",
        DB + "ranking/?level=township&period={month}",
        "scoped_areas",
        "api",
        "dashboard",
        name="dashboard-ranking",
    ),
    E("GET", DB + "export/?format=csv&" + WINDOW, "scoped_list", "api", "dashboard", name="dashboard-export"),
    # The cockpit's figures and the to-do list: any signed-in account, answers from the cases
    # it may see (the selectors' own tests check whose cases count; a month cannot single one out).
    E("GET", DB + "overview/", "auth", "api", "dashboard", name="dashboard-overview"),
    E("GET", DB + "todo/", "auth", "api", "dashboard", name="dashboard-todo"),
    E("GET", "/reports/monthly/2020-01/status", "auth", "api", "dashboard", name="dashboard-monthly-report-status"),
    # A document for the browser: anonymous gets 403, not a login redirect (dashboard/views.py).
    E("GET", "/reports/monthly/{month}.html", "scoped_areas", "document", "dashboard", name="dashboard-monthly-report"),
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
    # A citizen's tracking page needs the token of a citizen report (tests/public).
    "public-track",
}


# --- Pollution sources and online monitoring (issue 15) ------------------------------------------
# sources/selectors.py: "Everyone (the public too) sees an enterprise's name, location, management
# class and permit number (信息公开). The rest of its file ... is for staff whose jurisdiction holds
# it" — so the list, the detail and the page answer 200 to everyone (what they show differs; the
# tests in tests/sources check which fields). District and city supervisors manage their
# district's sources. monitoring/selectors.py: loggers and series for signed-in accounts within
# their jurisdiction (grid officers: their cells); the demo showcase logger below lies in the demo
# officer's first cell of 西湖第1街道, so every demo account may read its series.
# monitoring/views.py SUPERVISORS: the monitoring page is for the three supervisor roles.
ROLE_SETS["sources_manager"] = frozenset({"city_supervisor", "district_supervisor"})
ROLE_SETS["monitoring_watch"] = frozenset({"city_supervisor", "district_supervisor", "township_supervisor"})
SOURCES_DEMO_CODE = "91330106MA2GRD0G0Q"  # sources/demo.py SHOWCASE_CODE
SOURCES_DEMO_MN = "330106DW0010000000000000"  # monitoring/demo.py SHOWCASE_MN
ENDPOINTS += [
    E("GET", "/api/sources/enterprises/?district=330106", "public", "api", "sources", name="sources-enterprises"),
    E("GET", f"/api/sources/enterprises/{SOURCES_DEMO_CODE}/", "public", "api", "sources", name="sources-enterprise"),
    E("GET", "/api/sources/cases/{case}/series/", "case", "api", "sources", name="sources-case-series"),
    E("GET", f"/sources/{SOURCES_DEMO_CODE}/", "public", "page", "sources", name="sources-enterprise-page"),
    E("GET", "/sources/cases/{case}/chart/", "case", "page", "sources", name="sources-case-chart"),
    E("GET", "/api/monitoring/loggers/", "auth", "api", "monitoring", name="monitoring-loggers"),
    E(
        "GET",
        f"/api/monitoring/series/?mn={SOURCES_DEMO_MN}&factor=w01018&interval=hour",
        "auth_own_enterprise",
        "api",
        "monitoring",
        name="monitoring-series",
    ),
    E("GET", "/monitoring/", "roles:monitoring_watch", "page", "monitoring", name="monitoring-page"),
]
# Writes, checked by tests/sources/test_access.py with ROLE_SETS["sources_manager"] and the
# district: registering an enterprise (POST on sources-enterprises) and adding an outlet.
COVERED_ELSEWHERE |= {"sources-enterprise-outlets"}
# --- end of pollution sources and online monitoring ------------------------------------------------
# --- credit and 双随机一公开 (issue 16) ---------------------------------------------------------
# credit/api.py ENTERING_ROLES: penalties, vetoes and repair decisions by city and district
# supervisors; FILING_ROLES adds the enterprise's contact (a matrix role too) for commitments and
# repair requests. inspections/services.py PLANNER_ROLES: plans are made, committed and drawn by
# city and district supervisors; inspections/selectors.py SUPERVISOR_ROLES (township too) see them.
# Object paths use the demo's fixed objects: the credit demo's first enterprise (its code below)
# and the inspections demo's first plan (id 1 in a fresh database: last quarter's, drawn).
ROLE_SETS.update(
    {
        "credit_supervisor": frozenset({"city_supervisor", "district_supervisor"}),
        "credit_filer": frozenset({"city_supervisor", "district_supervisor", "enterprise_contact"}),
        "inspection_planner": frozenset({"city_supervisor", "district_supervisor"}),
        "inspection_viewer": frozenset({"city_supervisor", "district_supervisor", "township_supervisor"}),
    }
)
CREDIT_SUP, CREDIT_FILER = "roles:credit_supervisor", "roles:credit_filer"
SJ_PLANNER, SJ_VIEWER = "roles:inspection_planner", "roles:inspection_viewer"
DEMO_CREDIT_CODE = "91330106MA0008100J"
SJ, SJP = "/api/inspections/", "/api/inspections/plans/1/"
ENDPOINTS += [
    E(
        "GET",
        f"/api/credit/enterprises/{DEMO_CREDIT_CODE}/",
        "auth_own_enterprise",
        "api",
        "credit",
        name="credit-enterprise",
    ),
    E("POST", "/api/credit/penalties/", CREDIT_SUP, "api", "credit", body="empty", probe=True, name="credit-penalties"),
    E("POST", "/api/credit/vetoes/", CREDIT_SUP, "api", "credit", body="empty", probe=True, name="credit-vetoes"),
    E(
        "POST",
        "/api/credit/commitments/",
        CREDIT_FILER,
        "api",
        "credit",
        body="empty",
        probe=True,
        name="credit-commitments",
    ),
    E("GET", "/api/credit/repairs/", CREDIT_FILER, "api", "credit", name="credit-repairs"),
    E("POST", "/api/credit/repairs/", CREDIT_FILER, "api", "credit", body="empty", probe=True, name="credit-repairs"),
    E(
        "POST",
        "/api/credit/repairs/999999/decide/",
        CREDIT_SUP,
        "api",
        "credit",
        body="empty",
        probe=True,
        name="credit-repair-decide",
    ),
    E("GET", "/api/credit/public/?district=330106", "public", "api", "credit", name="credit-public"),
    E("GET", "/public/credit/", "public", "page", "credit", name="public-credit"),
    E("GET", "/credit/mine/", "redirect", "page", "credit", name="credit-mine"),
    E("GET", SJ + "plans/", "auth", "api", "inspections", name="inspections-plans"),
    E("POST", SJ + "plans/", SJ_PLANNER, "api", "inspections", body="empty", probe=True, name="inspections-plans"),
    E("GET", SJP, SJ_VIEWER, "api", "inspections", name="inspections-plan-detail"),
    E("PATCH", SJP, SJ_PLANNER, "api", "inspections", body="empty", probe=True, name="inspections-plan-detail"),
    E(
        "POST",
        SJP + "commit/",
        SJ_PLANNER,
        "api",
        "inspections",
        body="empty",
        probe=True,
        name="inspections-plan-commit",
    ),
    E("POST", SJP + "draw/", SJ_PLANNER, "api", "inspections", body="empty", probe=True, name="inspections-plan-draw"),
    E("GET", SJ + "tasks/", "auth", "api", "inspections", name="inspections-tasks"),
    E("POST", SJ + "results/", "auth", "api", "inspections", body="empty", probe=True, name="inspections-results"),
    E("GET", "/inspections/", SJ_VIEWER, "page", "inspections", name="inspections-page"),
    E("GET", "/inspections/plans/new/", SJ_PLANNER, "page", "inspections", name="inspections-plan-new"),
    E("GET", "/inspections/plans/1/", SJ_VIEWER, "page", "inspections", name="inspections-plan"),
    E("GET", "/inspections/tasks/", "auth", "page", "inspections", name="inspections-tasks-page"),
    E("GET", "/public/inspections/", "public", "page", "inspections", name="public-inspections"),
    E("GET", "/public/inspections/1/", "public", "page", "inspections", name="public-inspection-page"),
    E("GET", "/public/inspections/1.json", "public", "api", "inspections", name="public-inspection-json"),
]
# The draw page's commit/draw form (CSRF, like patrol-page-act) and the 行政行为码 pages, whose
# codes come from a seed: tests/inspections/test_access.py covers them.
COVERED_ELSEWHERE |= {"inspections-plan-act", "public-inspection-code", "public-inspection-code-qr"}
# --- end of credit and 双随机一公开 ------------------------------------------------------------


# --- Environmental quality (issue 17) ------------------------------------------------------------
# quality/selectors.py: "Environmental quality is public information (环境质量信息公开): where the
# stations are, their readings, AQI and classes and the districts' figures are for everyone"; no
# answer carries a station's MN or password. Registering a station is for district and city
# supervisors (quality/selectors.py MANAGER_ROLES), checked role by role in
# tests/quality/test_access.py (POST on quality-stations). The demo's stations (quality/demo.py)
# have data up to the hour of loading; the day before the run always has a daily AQI and class.
ROLE_SETS["quality_manager"] = frozenset({"city_supervisor", "district_supervisor"})
QUALITY_AIR, QUALITY_WATER = "330106A01", "330106W01"  # quality/demo.py: 西湖区's station and section
QUALITY_DAY = (_dt.datetime.now(_ZoneInfo("Asia/Shanghai")).date() - _dt.timedelta(days=1)).isoformat()
ENDPOINTS += [
    E("GET", "/api/quality/stations/?kind=air", "public", "api", "quality", name="quality-stations"),
    E(
        "GET",
        f"/api/quality/stations/{QUALITY_AIR}/series/?interval=day&since={QUALITY_DAY}&until={QUALITY_DAY}",
        "public",
        "api",
        "quality",
        name="quality-station-series",
    ),
    E(
        "GET",
        f"/api/quality/aqi/?station={QUALITY_AIR}&date={QUALITY_DAY}",
        "public",
        "api",
        "quality",
        name="quality-aqi",
    ),
    E("GET", "/api/quality/aqi/calc/?pm25=75&date=2026-03-01", "public", "api", "quality", name="quality-aqi-calc"),
    E(
        "GET",
        f"/api/quality/water-class/?station={QUALITY_WATER}&date={QUALITY_DAY}",
        "public",
        "api",
        "quality",
        name="quality-water-class",
    ),
    E("GET", "/quality/", "public", "page", "quality", name="quality-overview"),
    E("GET", f"/quality/stations/{QUALITY_AIR}/", "public", "page", "quality", name="quality-station-page"),
]
# --- end of environmental quality ----------------------------------------------------------------
