"""Writing the demo history (`dashboard.demo_history`) into the database, in bulk.

The cases, their audit rows (`IssueEvent`), photos and 督办 notices are written with COPY, not
through `patrol.actions`: the services write one case per transaction, which for ~40,000 cases
and ~250,000 steps would take many minutes. The rows are what the actions would have written
(the same columns, statuses, notes and event data), made by the synthetic staff of each area:
a supervisor per township and district and a liaison per responsible unit, created here with
unusable passwords (合成); the demo accounts act in their own areas. Cases carry
`content_digest = DIGEST` and descriptions starting with "（合成）".

Idempotent by construction: a month always gives the same cases (`demo_history`), each case's
client_uuid is derived from its key, and the marker (`DemoLoad` "demo-history") records up to
when the history was written. A later load adds only the cases reported since then (none
within TOP_UP_AFTER of the last load: a second `make run` at once does nothing here). The audit
trail is append-only (the database refuses to delete it), so a history once written stays:
a changed generator only applies to a fresh database.
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import shapely
from django.db import transaction

from gridgov.models import AdminArea, DemoLoad, GridAssignment, GridCell, Organization, Role, User
from patrol.models import Category
from patrol.reference import reference

from .demo_calendar import DAY, WorkCalendar, local_date
from .demo_copy import copy_history
from .demo_history import BASE_PER_DAY, Case, Place, district_profiles, draw_month, month_span
from .demo_timeline import timeline

MARKER = "demo-history"
DIGEST = "demo-history"
VERSION = 1
SEED = 20261201
MONTHS = 12
DEMO_TOWNSHIP, DEMO_DISTRICT = "330106001", "330106"
TOP_UP_AFTER = 3600  # seconds: a later load adds the cases reported since, if older than this
DEPARTMENTS = ["生态环境分局", "城市管理局", "农业农村局", "林业水利局", "住房和城乡建设局"]


def _params() -> dict:
    return {"version": VERSION, "seed": SEED, "months": MONTHS, "per_day": BASE_PER_DAY}


def load_history(*, stdout, now: float | None = None) -> int:
    """Write the history up to `now` (default: the current time); return how many cases were new."""
    now = time.time() if now is None else now
    marker = DemoLoad.objects.filter(name=MARKER).first()
    if marker is not None:
        kept = {k: v for k, v in marker.params.items() if k in _params()}
        if kept != _params():
            stdout.write(
                f"demo history: loaded with {kept}, this code makes {_params()}; the audit trail is append-only, "
                "so the history stays as it is (load into a fresh database to rebuild it)"
            )
            return 0
        start, since = marker.params["start"], marker.params["until"]
    else:
        if not User.objects.filter(username__in=["city_supervisor", "district_supervisor"]).exists():
            return 0  # no demo accounts (benchmarks' scratch databases): no history
        today = local_date(now)
        first = dt.date(today.year - (1 if today.month <= MONTHS else 0), (today.month - MONTHS - 1) % 12 + 1, 1)
        start = month_span(first.year, first.month)[0]
        since = start - 1
    since = max(since, now - 400 * DAY)
    if now <= since:
        return 0
    if marker is not None and now - since < TOP_UP_AFTER:
        # A restart soon after the last load (make run again): the few cases of the last
        # minutes are left for the next top-up (they are written then, from `until` on).
        stdout.write("demo history: up to date; nothing to do")
        return 0
    t0 = time.monotonic()
    with transaction.atomic():
        made = _write(start=start, since=since, now=now)
        params = {**_params(), "start": start, "until": now, "cases": (marker.params.get("cases", 0) if marker else 0)}
        params["cases"] += made
        DemoLoad.objects.update_or_create(name=MARKER, defaults={"params": params})
    stdout.write(f"demo history: {made} new synthetic cases (合成) in {time.monotonic() - t0:.1f}s")
    return made


def _months(since: float, now: float) -> list[tuple[int, int]]:
    a, b = local_date(since + 1), local_date(now)
    out, y, m = [], a.year, a.month
    while (y, m) <= (b.year, b.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _write(*, start: float, since: float, now: float) -> int:
    place, refs = _place()
    exceptions = _holidays()
    cal = WorkCalendar(local_date(start) - dt.timedelta(days=10), local_date(now) + dt.timedelta(days=500), exceptions)
    months = _months(since, now)
    profiles = district_profiles(place.district_codes, SEED, months)
    town_q = np.random.default_rng([SEED, 3]).normal(0, 0.25, len(place.township_codes))
    cases: list[Case] = []
    for year, month in months:
        rng = np.random.default_rng([SEED, year, month, 1])
        drawn = draw_month(year, month, place, cal, SEED, start)
        for c in drawn:
            timeline(c, profiles[c.district, (year, month)], float(town_q[c.township]), cal, rng)
            c.key = f"{year}-{month:02d}:{c.key}"
            if c.duplicate_of:
                c.duplicate_of = f"{year}-{month:02d}:{c.duplicate_of}"
        cases += [c for c in drawn if since < c.reported <= now]
    if not cases:
        return 0
    actors = _actors(place, refs)
    return copy_history(cases, refs=refs, actors=actors, cal=cal, now=now, seed=SEED, digest=DIGEST)


def _holidays() -> dict[dt.date, bool]:
    return dict(reference.holidays())


# ---------------------------------------------------------------------------------------------
# The grid and the people, as the history needs them


def _place() -> tuple[Place, dict]:
    districts = list(AdminArea.objects.filter(level="district").order_by("code").values("id", "code", "name"))
    d_index = {d["id"]: i for i, d in enumerate(districts)}
    towns = list(
        AdminArea.objects.filter(level="township", parent_id__in=d_index)
        .order_by("code")
        .values("id", "code", "name", "parent_id")
    )
    t_index = {t["id"]: i for i, t in enumerate(towns)}
    rng = np.random.default_rng([SEED, 4])
    t_weight = rng.lognormal(0, 0.6, len(towns))
    cells = list(
        GridCell.objects.filter(township_id__in=t_index).order_by("code").values_list("id", "code", "township_id")
    )
    wkb = dict(GridCell.objects.filter(township_id__in=t_index).values_list("id", "geom"))
    c_weight = rng.pareto(1.5, len(cells)) + 0.2
    demo_cells = [i for i, c in enumerate(cells) if c[1].startswith(DEMO_TOWNSHIP)][:3]
    # The demo accounts' own street is a busy urban core, and the demo officer's three cells
    # see plenty: so each demo account finds work of its own on the first screen.
    for i, t in enumerate(towns):
        if t["code"] == DEMO_TOWNSHIP:
            siblings = [j for j, s in enumerate(towns) if s["parent_id"] == t["parent_id"] and j != i]
            t_weight[i] = 2.5 * float(np.mean(t_weight[siblings])) if siblings else t_weight[i]
    c_weight[demo_cells] *= 3
    cats = Category.objects.filter(parent__isnull=False)
    place = Place(
        district_codes=[d["code"] for d in districts],
        township_codes=[t["code"] for t in towns],
        township_district=np.array([d_index[t["parent_id"]] for t in towns]),
        township_weight=t_weight,
        cell_ids=np.array([c[0] for c in cells]),
        cell_township=np.array([t_index[c[2]] for c in cells]),
        cell_weight=c_weight,
        cell_geoms=np.array([shapely.from_wkb(bytes(wkb[c[0]].wkb)) for c in cells], dtype=object),
        days={c.code: (c.days_normal, c.days_high, c.days_urgent) for c in cats},
        default_priority={c.code: c.default_priority for c in cats} | {"other": "normal"},
    )
    other = Category.objects.filter(code="other").first()
    if other:
        place.days["other"] = (other.days_normal, other.days_high, other.days_urgent)
    names = dict(Category.objects.values_list("code", "name"))
    return place, {"districts": districts, "towns": towns, "cells": cells, "names": names}


def _synthetic_user(username: str, name: str, role: str, area_id: int | None, org_id: int | None = None) -> User:
    user = User(username=username, first_name=name, role=role, organization_id=org_id)
    user.set_unusable_password()
    user._scope = area_id
    return user


def _actors(place: Place, refs: dict) -> dict:
    """User ids of the people who act in the history, creating the synthetic ones."""
    districts, towns = refs["districts"], refs["towns"]
    wanted: list[User] = []
    district_user, town_user, unit_user = {}, {}, {}
    for i, d in enumerate(districts):
        name = "district_supervisor" if d["code"] == DEMO_DISTRICT else f"ds{d['code']}"
        district_user[i] = name
        wanted.append(_synthetic_user(name, f"{d['name']}分局督查员（合成）", Role.DISTRICT_SUPERVISOR, d["id"]))
    for i, t in enumerate(towns):
        name = "township_supervisor" if t["code"] == DEMO_TOWNSHIP else f"ts{t['code']}"
        town_user[i] = name
        short = t["name"].removesuffix("（合成）")
        wanted.append(_synthetic_user(name, f"{short}监管员（合成）", Role.TOWNSHIP_SUPERVISOR, t["id"]))
    orgs = dict(Organization.objects.values_list("name", "id"))
    for i, d in enumerate(districts):
        for k, dept in enumerate(DEPARTMENTS, 1):
            org = orgs.get(f"{d['name']}{dept}（演示）")
            if org:
                name = "responsible_unit" if (d["code"], dept) == (DEMO_DISTRICT, "城市管理局") else f"ru{d['code']}{k}"
                unit_user[i, dept] = (name, org)
                wanted.append(
                    _synthetic_user(name, f"{d['name']}{dept}联络员（合成）", Role.RESPONSIBLE_UNIT, d["id"], org)
                )
    for i, t in enumerate(towns):
        short = t["name"].removesuffix("（合成）")
        org = orgs.get(f"{short}办事处（演示）")
        if org:
            unit_user[i, ""] = (f"ru{t['code']}", org)
            wanted.append(
                _synthetic_user(f"ru{t['code']}", f"{short}办事处联络员（合成）", Role.RESPONSIBLE_UNIT, t["id"], org)
            )
    existing = set(User.objects.filter(username__in=[u.username for u in wanted]).values_list("username", flat=True))
    new = [u for u in wanted if u.username not in existing]
    User.objects.bulk_create(new, batch_size=2000)
    ids = dict(User.objects.filter(username__in=[u.username for u in wanted]).values_list("username", "id"))
    User.scope.through.objects.bulk_create(
        [User.scope.through(user_id=ids[u.username], adminarea_id=u._scope) for u in new], batch_size=2000
    )
    officers: dict[int, list[int]] = {}
    cell_index = {c[0]: i for i, c in enumerate(refs["cells"])}
    for cell_id, user_id in (
        GridAssignment.objects.filter(duty="officer", cell_id__in=cell_index).order_by("cell_id", "user_id")
    ).values_list("cell_id", "user_id"):
        officers.setdefault(cell_index[cell_id], []).append(user_id)
    analyst = User.objects.filter(username="imagery_analyst").values_list("id", flat=True).first()
    return {
        "district": {i: ids[n] for i, n in district_user.items()},
        "township": {i: ids[n] for i, n in town_user.items()},
        "unit": {k: (ids[n], org) for k, (n, org) in unit_user.items()},
        "officers": officers,
        "analyst": analyst,
    }
