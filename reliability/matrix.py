"""R4, permissions: every endpoint and page x every role x inside/outside jurisdiction.

`prepare()` runs in a Django process pointed at the server's database and builds committed
fixtures through the services (real audit trails): cases inside the demo officer's township and
outside 西湖区, one fresh case per transition cell in a source state of the action; an imagery job
with a change candidate and a per-cell summary inside and outside, and one fresh candidate or
queued job per write cell that uses one up. `check()` then walks reliability/access.py and
patrol/transitions.py over HTTP and compares every answer with the table. Also: CSRF on session
writes, upload limits, personal data on public pages and Open311, audit rows immutable in the
database, and login throttling (last: it uses up the quota).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import quote

import psycopg
import requests

from . import access
from .access import ANONYMOUS, ROLES, Case
from .matrix_fixtures import PERSONAL_NAME, PERSONAL_PHONE, Fixtures, configure_django, prepare, random_jpeg

PASSWORD = os.environ.get("DEMO_PASSWORD", "gridgov-demo")
__all__ = ["check", "prepare", "run_matrix"]


# --- HTTP -------------------------------------------------------------------------------------


def token_for(base: str, username: str) -> str:
    r = requests.post(f"{base}/api/auth/token/", json={"username": username, "password": PASSWORD}, timeout=30)
    r.raise_for_status()
    return r.json()["token"]


def session_login(base: str, username: str) -> requests.Session:
    s = requests.Session()
    s.get(f"{base}/accounts/login/", timeout=30)
    r = s.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": s.cookies.get("csrftoken", "")},
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=30,
        allow_redirects=False,
    )
    if r.status_code != 302:
        raise RuntimeError(f"login of {username} failed: {r.status_code}")
    return s


@dataclass
class Tally:
    checked: int = 0
    failed: list[str] = field(default_factory=list)

    def cell(self, label: str, want, got) -> None:
        self.checked += 1
        if want != got:
            self.failed.append(f"{label}: want {want} got {got}")


def check(base: str, fx: Fixtures, *, database_url: str, throttle: bool = True) -> Tally:
    t = Tally()
    api: dict[str, requests.Session] = {}
    pages: dict[str, requests.Session] = {}
    for role in ROLES:
        s = requests.Session()
        if role != ANONYMOUS:
            s.headers["Authorization"] = f"Token {token_for(base, role)}"
            pages[role] = session_login(base, role)
        else:
            pages[role] = requests.Session()
        api[role] = s

    # The anonymous browser has a CSRF cookie as a visitor of any form page would.
    pages[ANONYMOUS].get(f"{base}/accounts/login/", timeout=30)
    seen: dict[tuple[str, str], requests.Response] = {}  # GETs that the in/out cells share
    jobs_left = [pk for (route, _, _), pk in fx.fresh.items() if route == "geodata-job-cancel"]

    for ep in access.ENDPOINTS:
        for role in ROLES:
            who = fx.who[role]
            sess = api[role] if ep.kind == "api" else pages[role]
            places = [("in", fx.inside), ("out", fx.outside)] if ep.object_bound else [("-", None)]
            if (ep.rule == "scoped_list" and "{since}" in ep.path) or ep.rule in ("case", "case_list"):
                # In the demo unit's district and township but dispatched to another unit: role
                # decides, not area (the demo unit must not see it; supervisors and the officer
                # do). Lists only where the answer can single out one case (a time window).
                places.append(("nb", fx.neighbour))
            for where, case in places:
                url = base + _fill(ep, fx, role, where, case)
                label = f"{ep.method} {ep.path} {role} {where}"
                if ep.method == "GET" and (role, url) in seen:
                    r = seen[(role, url)]
                else:
                    r = _send(ep, sess, url, fx, where)
                    if ep.method == "GET":
                        seen[(role, url)] = r
                # imagery rules are about the candidate (or summary) in the same cell as the case
                subject = fx.candidate_cases.get(where) if ep.rule in ("candidate", "imagery_list", "chip") else case
                if ep.rule in access.LIST_RULES:
                    want = access.expected(ep.rule, ep.kind, who, case=subject)
                    if isinstance(want, int):
                        t.cell(label, want, r.status_code)
                    else:
                        got = r.status_code
                        if got == 200:
                            got = "contains" if _counts(ep, r, fx, where, case) else "excludes"
                        t.cell(label, want, got)
                    continue
                photo_cases = [case] if "{photo}" in ep.path else ()
                cell_ok = ep.rule == "cell" and (
                    who.everything
                    or (fx.inside.township_code if where == "in" else fx.outside.township_code) in who.township_codes
                )
                want = access.expected(
                    ep.rule,
                    ep.kind,
                    who,
                    case=subject if ep.rule != "public_case" or "{case}" in ep.path else fx.published,
                    photo_cases=photo_cases,
                    cell_in_scope=cell_ok,
                    created=ep.expect_created and not who.anonymous,
                    probe=ep.probe,
                )
                got = r.status_code
                if want == 201 and got == 200 and ep.body == "photo":
                    got = 201  # an identical photo already stored answers 200: same contract
                if want == access.PERMITTED and access.permitted(got):
                    got = access.PERMITTED
                t.cell(label, want, got)
                if ep.body == "job" and got == 201:
                    jobs_left.append(r.json()["id"])
    _cancel_queued(jobs_left)
    # the published photo is public to all
    for role in ROLES:
        r = api[role].get(f"{base}/api/patrol/photos/{fx.photo_public}/", timeout=30)
        t.cell(f"GET photo(published) {role}", 200, r.status_code)

    # Transitions: every user action x role x inside/outside, from patrol/transitions.py.
    from patrol.transitions import USER_ACTIONS

    for action in USER_ACTIONS:
        for role in ROLES:
            for where in ("in", "out"):
                case = fx.transition_cases[(action, role, where)]
                body = {"action": action, "note": "矩阵（合成）"}
                if action == "dispatch":
                    body["unit"] = fx.unit_ids[where]
                if action in ("submit_rectification", "accept", "fail"):
                    body["photo_hashes"] = [fx.photo_private]
                if action == "mark_duplicate":
                    body["duplicate_of"] = fx.dup_original[where]
                if action == "set_deadline":
                    body["deadline"] = "2031-01-10T18:00:00+08:00"
                r = api[role].post(f"{base}/api/patrol/issues/{case.id}/transition/", json=body, timeout=60)
                want = access.transition_expected(action, fx.who[role], case)
                t.cell(f"transition {action} {role} {where}", want, r.status_code)

    _csrf(base, fx, pages, t)
    _upload_limit(base, api, t)
    _personal_data(base, fx, t)
    _audit_immutable(database_url, t)
    if throttle:
        _login_throttle(base, t)
        _login_throttle_reset(database_url)
    return t


def _cancel_queued(job_ids: list[int]) -> None:
    """Cancel the detection jobs the cells started or left queued: nothing is to run them."""
    from geodata import services as imagery
    from geodata.models import DetectionJob, JobStatus

    for job in DetectionJob.objects.filter(pk__in=job_ids, status=JobStatus.QUEUED):
        imagery.job_cancel(job=job)


def _fill(ep: access.Endpoint, fx: Fixtures, role: str, where: str, case: Case | None) -> str:
    """The endpoint's path with its placeholders for this cell (see access.Endpoint.path)."""
    values = {
        "case": case.id if case else "",
        "cell": fx.cell_inside if case is fx.inside else fx.cell_outside,
        "photo": fx.photo_private if case is fx.inside else fx.photo_outside,
        "public_case": fx.published.id,
        "unit": fx.zoning_unit,
        "candidate": fx.fresh.get((ep.name, role, where)) or fx.candidates.get(where, ""),
        "job": fx.fresh.get((ep.name, role, where)) or fx.job,
        "since": "",
        "until": "",
        "month": "",
        "bbox": "",
    }
    if case is not None:
        at = datetime.fromisoformat(case.reported_at)
        lon, lat = case.point
        d = 0.0005
        values |= {
            "since": quote(at.isoformat()),
            "until": quote((at + timedelta(milliseconds=1)).isoformat()),
            "month": case.reported_at[:7],
            "bbox": f"{lon - d:.6f},{lat - d:.6f},{lon + d:.6f},{lat + d:.6f}",
        }
    return ep.path.format(**values)


def _square(lon: float, lat: float, d: float) -> dict:
    ring = [(lon - d, lat - d), (lon + d, lat - d), (lon + d, lat + d), (lon - d, lat + d), (lon - d, lat - d)]
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


def _send(ep: access.Endpoint, sess: requests.Session, url: str, fx: Fixtures, where: str) -> requests.Response:
    """One request of a cell; write bodies are valid for the roles the rule allows."""
    if ep.method == "GET":
        return sess.get(url, timeout=120, allow_redirects=False)
    note = "权限矩阵（合成）"
    lon, lat = _point_of("", fx.cell_inside if where != "out" else fx.cell_outside)
    kw: dict = {}
    if ep.body == "photo":
        kw["files"] = {"photo": ("p.jpg", random_jpeg(), "image/jpeg")}
    elif ep.body == "report":
        kw["json"] = {
            "client_uuid": str(uuid.uuid4()),
            "lat": lat,
            "lon": lon,
            "category": "other",
            "description": note,
        }
    elif ep.body in ("unit_create", "unit_edit", "unit_delete", "unit_revert"):
        from zoning.models import ControlUnit

        unit = ControlUnit.objects.get(code=fx.zoning_unit)  # read now: earlier cells may have edited it
        if ep.body == "unit_create":
            # Valid, but on top of the demo units (they cover the city): stops at the overlap check.
            ulon, ulat = unit.geom.point_on_surface.coords
            kw["json"] = {
                "code": "ZH33010639876",
                "name": "权限矩阵单元（合成）",
                "category": "general",
                "geometry": _square(ulon, ulat, 0.001),
                "access_list": [],
                "reason": note,
            }
        elif ep.body == "unit_edit":
            kw["json"] = {"name": unit.name, "base_version": unit.version, "reason": note}
        elif ep.body == "unit_delete":
            kw["json"] = {"reason": note, "base_version": 0}  # stale on purpose: nothing is deleted
        else:  # back to the version before the planner's edit
            kw["json"] = {"to_version": unit.version - 1, "base_version": unit.version, "reason": note}
    elif ep.body == "import":
        from zoning.models import ControlUnit

        ulon, ulat = ControlUnit.objects.get(code=fx.zoning_unit).geom.point_on_surface.coords
        feature = {
            "type": "Feature",
            "properties": {"code": "ZH33010639877", "name": "权限矩阵导入（合成）", "category": "一般管控单元"},
            "geometry": _square(ulon, ulat, 0.001),
        }
        data = json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()
        kw["files"] = {"file": ("matrix.geojson", data, "application/geo+json")}
        kw["data"] = {"reason": note, "dry_run": "true"}
    elif ep.body == "analyze":
        kw["json"] = {"geometry": _square(lon, lat, 0.002), "crs": "wgs84"}
    elif ep.body == "analysis_report":
        kw["data"] = {
            "geometry": json.dumps(_square(lon, lat, 0.002)),
            "crs": "wgs84",
            "format": "html",
            "csrfmiddlewaretoken": sess.cookies.get("csrftoken", ""),
        }
    elif ep.body == "dismiss":
        kw["json"] = {"reason": note}
    elif ep.body == "job":
        kw["json"] = {"before": fx.scenes[0], "after": fx.scenes[1]}
    elif ep.body == "empty":
        kw["json"] = {}
    else:
        raise ValueError(f"no body {ep.body!r} for {ep.method} {ep.path}")
    return sess.request(ep.method, url, timeout=120, allow_redirects=False, **kw)


def _counts(ep: access.Endpoint, r: requests.Response, fx: Fixtures, where: str, case: Case) -> bool:
    """Whether a 200 listing/aggregate answer counts the cell's object (see access LIST_RULES)."""
    cell = fx.cell_outside if where == "out" else fx.cell_inside
    name = ep.name
    if name == "patrol-issues":
        return case.id in {f["id"] for f in r.json().get("features", [])}
    if name == "geodata-candidates":
        return fx.candidates[where] in {f["id"] for f in r.json().get("features", [])}
    if name == "geodata-grid-summary":
        return cell in {c["grid_cell"] for c in r.json()["cells"]}
    if name == "dashboard-cases":
        return case.id in {c["id"] for c in r.json()["results"]}
    if name == "dashboard-export":
        rows = csv.reader(io.StringIO(r.content.decode("utf-8-sig")))
        next(rows, None)
        return str(case.id) in {row[0] for row in rows if row}
    if name == "dashboard-aggregate":
        return (r.json()["areas"].get(cell) or {}).get("count", 0) >= 1
    if name == "dashboard-heat":
        return r.json()["total"] >= 1
    if name == "dashboard-ranking":
        return any(a["code"] == case.township_code for a in r.json()["results"])
    if name == "dashboard-monthly-report":
        return any(f">{n}<" in r.text for n in fx.area_names[where])
    raise ValueError(f"no listing reader for {name}")


_POINTS: dict[str, tuple[float, float]] = {}


def _point_of(base: str, cell_code: str) -> tuple[float, float]:
    if cell_code not in _POINTS:
        from gridgov.models import GridCell

        pt = GridCell.objects.get(code=cell_code).geom.point_on_surface
        _POINTS[cell_code] = (pt.x, pt.y)
    return _POINTS[cell_code]


def _csrf(base: str, fx: Fixtures, pages, t: Tally) -> None:
    """Session-authenticated writes need the CSRF token; with it the same request succeeds."""
    s = pages["officer"]
    lon, lat = _point_of(base, fx.cell_inside)
    body = {
        "client_uuid": str(uuid.uuid4()),
        "lat": lat,
        "lon": lon,
        "category": "other",
        "description": "CSRF（合成）",
    }
    r = s.post(f"{base}/api/patrol/issues/", json=body, timeout=30)
    t.cell("csrf api report without token", 403, r.status_code)
    r = s.post(
        f"{base}/api/patrol/issues/",
        json=body,
        timeout=30,
        headers={"X-CSRFToken": s.cookies.get("csrftoken", ""), "Referer": base + "/m/"},
    )
    t.cell("csrf api report with token", 201, r.status_code)
    sup = pages["city_supervisor"]
    r = sup.post(
        f"{base}/patrol/{fx.inside.id}/act/",
        data={"action": "set_deadline", "deadline": "2031-01-01"},
        timeout=30,
        allow_redirects=False,
    )
    t.cell("csrf page act without token", 403, r.status_code)
    r = sup.post(f"{base}/api/patrol/issues/{fx.inside.id}/transition/", json={"action": "publish"}, timeout=30)
    t.cell("csrf api transition without token", 403, r.status_code)
    r = sup.post(f"{base}/accounts/logout/", timeout=30, allow_redirects=False)
    t.cell("csrf logout without token", 403, r.status_code)


def _upload_limit(base: str, api, t: Tally) -> None:
    big = b"\xff\xd8\xff\xe0" + os.urandom(11 * 1024 * 1024)  # over the 10 MB photo limit
    r = api["officer"].post(f"{base}/api/patrol/photos/", files={"photo": ("big.jpg", big, "image/jpeg")}, timeout=120)
    t.cell("upload photo 11MB", 413, r.status_code)


def _personal_data(base: str, fx: Fixtures, t: Tally) -> None:
    """Public pages and Open311 must not show names, usernames, phones or contact data."""
    from gridgov.models import User

    secrets_ = {PERSONAL_PHONE}
    for u in User.objects.filter(username__in=ROLES[1:]):
        # Names and phones (usernames of the demo accounts are role words such as "officer",
        # which the pages use as labels, so they are not a signal).
        secrets_ |= {u.display_name, u.first_name} | ({u.phone} if u.phone else set())
    secrets_.discard("")
    urls = [
        "/",
        "/open311/v2/requests.json",
        "/open311/v2/requests.xml",
        f"/open311/v2/requests/{fx.published.id}.json",
        f"/open311/v2/requests/{fx.published.id}.xml",
        "/open311/v2/services.json",
        "/public/cases/",
        "/public/cases/map.json",
        f"/public/cases/{fx.published.id}/",
    ]
    secrets_.add(PERSONAL_NAME)
    for path in urls:
        r = requests.get(base + path, timeout=30)
        text = r.text
        leaked = sorted(s for s in secrets_ if s and s in text)
        phones = re.findall(r"(?<!\d)1[3-9]\d{9}(?!\d)", text)
        t.cell(
            f"personal data on {path}",
            "none",
            "none"
            if not leaked and not phones and r.status_code == 200
            else f"status={r.status_code} leaked={leaked[:3]} phones={phones[:3]}",
        )


def _audit_immutable(database_url: str, t: Tally) -> None:
    for verb, sql in [
        ("UPDATE", "UPDATE patrol_issueevent SET note = 'tampered' WHERE id = (SELECT min(id) FROM patrol_issueevent)"),
        ("DELETE", "DELETE FROM patrol_issueevent WHERE id = (SELECT min(id) FROM patrol_issueevent)"),
    ]:
        with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as conn:
            try:
                cur = conn.execute(sql)
                got = f"allowed ({cur.rowcount} rows)"
            except psycopg.Error:
                got = "refused"
            conn.rollback()
        t.cell(f"audit {verb} in the database", "refused", got)


def _login_throttle(base: str, t: Tally, rate: int = 20) -> None:
    """The "login" scope allows `rate` attempts a minute per client, across all workers."""
    codes = []
    for _ in range(rate * 3):
        r = requests.post(f"{base}/api/auth/token/", json={"username": "officer", "password": "wrong"}, timeout=30)
        codes.append(r.status_code)
    passed = sum(1 for c in codes if c != 429)
    t.cell("login throttle 429 appears", True, 429 in codes)
    t.cell(f"login throttle attempts let through <= {rate}", True, passed <= rate)
    if passed > rate:
        t.failed[-1] += f" (let through {passed} of {len(codes)}: the throttle counts per worker process)"


def _login_throttle_reset(database_url: str) -> None:
    """Give the quota back (the shared cache table), so scenarios after R4 can still log in."""
    with psycopg.connect(database_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute("DELETE FROM gridgov_cache WHERE cache_key LIKE %s", ["%throttle_login_%"])


def run_matrix(*, base: str, database_url: str, media_root: str):
    from .load import Result

    configure_django(database_url, media_root)
    fx = prepare()
    tally = check(base, fx, database_url=database_url)
    missing = access.unlisted()
    ok = not tally.failed and not missing
    for f in tally.failed:
        print(f"# R4 failed cell: {f}", file=sys.stderr)
    if missing:
        print(f"# R4 routes not in reliability/access.py yet: {' '.join(missing)}", file=sys.stderr)
    line = (
        f"R4 permissions cells={tally.checked} failed={len(tally.failed)} roles={len(ROLES)} "
        f"endpoints={len(access.ENDPOINTS)} unlisted_routes={len(missing)} {'PASS' if ok else 'FAIL'}"
    )
    return Result(line=line, ok=ok)
