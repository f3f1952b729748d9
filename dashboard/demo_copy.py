"""COPY of the demo history's rows: cases, their audit rows, photos and 督办 notices.

Raw COPY on purpose (see `dashboard.demo_load`): tens of thousands of cases and a quarter of a
million audit rows in seconds. Ids of the new cases are drawn from the table's own sequence
first, so the audit rows, photo links and duplicates can name them in the same COPY.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import uuid
from pathlib import Path

import numpy as np
from django.core.files.storage import default_storage
from django.db import connection

from gridgov.demo import synthetic_photo
from patrol.models import Photo

from .demo_calendar import local_date
from .demo_history import DEPARTMENT_FOR, Case
from .demo_timeline import state_at

NAMESPACE = uuid.UUID("0c5d1f7e-52a4-4d55-8f5e-6f1f0f6b2c11")
POOL = 3  # shared example photos per top-level category and stage
PHOTO_DIR = "patrol/photos"
UTC = dt.UTC
ISSUE_COLUMNS = (
    "id, client_uuid, content_digest, token, source, description, point, accuracy_m, crs_note, contact, "
    "grid_cell_code, zone_hits, status, priority, deadline, deadline_overridden, escalation_level, "
    "next_escalation_at, is_public, public_description, reported_at, verified_at, dispatched_at, rectified_at, "
    "accepted_at, escalated_at, published_at, closed_at, updated_at, category, district_id, duplicate_of_id, "
    "grid_cell_id, reporter_id, responsible_unit_id, township_id"
)
EVENT_COLUMNS = "issue_id, action, from_status, to_status, actor_id, at, note, point, photo_hashes, data"


def client_uuid(key: str, seed: int) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"history:{seed}:{key}")


_JSON: dict[tuple, str] = {}


def _json(data: dict) -> str:
    """json.dumps, once per distinct (small, flat) dict: most steps carry the same few."""
    key = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in data.items())
    text = _JSON.get(key)
    if text is None:
        text = _JSON[key] = json.dumps(data, ensure_ascii=False)
    return text


def _ts(t: float | None) -> str | None:
    return None if t is None else dt.datetime.fromtimestamp(t, UTC).isoformat()


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_SPECIAL = re.compile(r"[\\\t\n\r]").search
# COPY's text format, by the type of the value (the rows hold nothing else).
_FORMAT = {
    type(None): lambda v: "\\N",
    bool: lambda v: "t" if v else "f",
    int: str,
    float: repr,
    str: lambda v: v.translate(_ESCAPES) if _SPECIAL(v) else v,
    uuid.UUID: str,
    list: lambda v: "{" + ",".join(v) + "}",  # SHA-256 hex strings: nothing to quote
}


def _line(row) -> str:
    return "\t".join([_FORMAT[type(v)](v) for v in row]) + "\n"


def _copy(cur, target: str, rows, chunk: int = 20_000) -> None:
    """COPY rows into `target` ("table (columns)"), formatted here: psycopg's write_row costs
    several times more per row for these plain values."""
    raw = cur.cursor if hasattr(cur, "cursor") else cur
    with raw.copy(f"COPY {target} FROM STDIN") as copy:
        for i in range(0, len(rows), chunk):
            copy.write("".join(map(_line, rows[i : i + chunk])))


def copy_history(cases: list[Case], *, refs: dict, actors: dict, cal, now: float, seed: int, digest: str) -> int:
    """Insert the cases (reported up to `now`) with their steps up to `now`; return how many."""
    keys = {c.key for c in cases}
    uuids = {c.key: client_uuid(c.key, seed) for c in cases}
    with connection.cursor() as cur:
        # Cases already written by an earlier load (originals of new duplicates, or a retry).
        cur.execute("SELECT client_uuid, id FROM patrol_issue WHERE client_uuid = ANY(%s)", [list(uuids.values())])
        known = {u: i for u, i in cur.fetchall()}
        originals = [c.duplicate_of for c in cases if c.duplicate_of and c.duplicate_of not in keys]
        cur.execute(
            "SELECT client_uuid, id FROM patrol_issue WHERE client_uuid = ANY(%s)",
            [[client_uuid(k, seed) for k in originals]],
        )
        earlier = {u: i for u, i in cur.fetchall()}
        cases = [c for c in cases if uuids[c.key] not in known]
        if not cases:
            return 0
        cur.execute(
            "SELECT nextval(pg_get_serial_sequence('patrol_issue', 'id')) FROM generate_series(1, %s)", [len(cases)]
        )
        ids = {c.key: row[0] for c, row in zip(cases, cur.fetchall(), strict=True)}
    photos = _Photos(refs["names"])
    issue_rows, event_rows, links, escalated = [], [], [], []
    for n, c in enumerate(cases):
        row, done = state_at(c, now, cal.deadline(c.reported, c.days))
        issue_id = ids[c.key]
        reporter = _actor_id(done[0].actor, c, actors, n)
        unit_user, unit_org = _unit_of(c, actors)
        dup = None
        if c.duplicate_of:
            dup = ids.get(c.duplicate_of) or earlier.get(client_uuid(c.duplicate_of, seed))
            if dup is None:  # its original was not written (cut off): not a duplicate then
                continue
        point = f"SRID=4326;POINT({c.lon:.7f} {c.lat:.7f})"
        town, dist = refs["towns"][c.township], refs["districts"][c.district]
        place_name = f"{dist['name']}{town['name'].removesuffix('（合成）')}"
        cat_name = refs["names"].get(c.category, c.category)
        public = ""
        if row.is_public:
            public = f"（合成）典型案例：{place_name}{c.text}。" + (
                "经督促，责任单位已整改到位。" if row.status == "accepted" else "现正督促责任单位限期整改。"
            )
        issue_rows.append(
            (
                issue_id, uuids[c.key], digest, uuid.uuid4(), c.source, f"（合成）{c.text}", point,
                round(float(5 + (n * 7919 % 200) / 10), 1) if c.source == "patrol" else None, "", "{}",
                refs["cells"][c.cell][1], "[]", row.status, c.priority, _ts(row.deadline), False,
                row.escalation_level, _ts(row.next_escalation_at), row.is_public, public, _ts(c.reported),
                _ts(row.verified_at), _ts(row.dispatched_at), _ts(row.rectified_at), _ts(row.accepted_at),
                _ts(row.escalated_at), _ts(row.published_at), _ts(row.closed_at), _ts(row.updated_at),
                c.category, dist["id"], dup, refs["cells"][c.cell][0], reporter, unit_org, town["id"],
            )
        )  # fmt: skip
        caption = f"{place_name} · {local_date(c.reported):%Y-%m-%d}"
        submits = [e for e in done if e.action == "submit_rectification"]
        for k, e in enumerate(done):
            hashes: list[str] = []
            if e.photo == "report" or (e.action == "report" and c.published):
                sha = (
                    photos.unique("before", issue_id, cat_name, caption, reporter)
                    if c.published
                    else (photos.pool("before", c.category, n))
                )
                hashes = [sha]
                links.append((issue_id, sha))
            elif e.photo == "rectified":
                last = e is submits[-1]
                sha = (
                    photos.unique("after", issue_id, cat_name, caption, unit_user)
                    if c.published and last
                    else (photos.pool("after", c.category, n + k))
                )
                hashes = [sha]
            data = {k2: v for k2, v in e.data.items() if not k2.startswith("_")}
            if e.action == "dispatch":
                data = {"unit": unit_org, **data}
            if e.action == "mark_duplicate":
                data = {"duplicate_of": dup}
            actor = unit_user if e.actor and e.actor[0] == "unit" else _actor_id(e.actor, c, actors, n + k)
            event_rows.append(
                (issue_id, e.action, e.from_status, e.to_status, actor, _ts(e.at), e.note,
                 point if e.action == "report" else None, hashes, _json(data))
            )  # fmt: skip
        if row.escalation_level and row.status in ("dispatched", "rectifying"):
            escalated.append(issue_id)
    photos.save()
    with connection.cursor() as cur:
        _copy(cur, f"patrol_issue ({ISSUE_COLUMNS})", issue_rows)
        _copy(cur, f"patrol_issueevent ({EVENT_COLUMNS})", event_rows)
        _copy(cur, "patrol_issue_photos (issue_id, photo_id)", sorted(set(links)))
        _notify(cur, escalated)
        cur.execute("ANALYZE patrol_issue")
        cur.execute("ANALYZE patrol_issueevent")
    return len(issue_rows)


def _unit_of(case: Case, actors: dict) -> tuple[int | None, int | None]:
    """(liaison user id, organization id) of the case's responsible unit."""
    d, t, dept = case.unit
    hit = actors["unit"].get((t, "")) if dept == "" else actors["unit"].get((d, dept))
    hit = hit or actors["unit"].get((d, DEPARTMENT_FOR["other"]))
    return hit if hit else (None, None)


def _actor_id(key: tuple | None, case: Case, actors: dict, pick: int) -> int | None:
    if key is None:
        return None
    kind = key[0]
    if kind == "officer":
        people = actors["officers"].get(case.cell) or []
        return people[pick % len(people)] if people else actors["township"].get(case.township)
    if kind == "township":
        return actors["township"].get(case.township)
    if kind == "district":
        return actors["district"].get(case.district)
    if kind == "unit":
        return _unit_of(case, actors)[0]
    if kind == "analyst":
        return actors["analyst"]
    return None


def _notify(cur, issue_ids: list[int]) -> None:
    """The notices the escalation job sends for the cases still escalated (as its SQL does)."""
    cur.execute(
        """INSERT INTO patrol_notification (recipient_id, issue_id, kind, message, created_at)
           SELECT DISTINCT u.id, i.id, 'escalation',
                  '案件 #' || i.id || ' 逾期，'
                  || CASE i.escalation_level WHEN 1 THEN '请区县督办' ELSE '请市级督办' END,
                  i.escalated_at
             FROM patrol_issue i
             JOIN gridgov_user u ON u.is_active AND (
                    (i.escalation_level = 1 AND u.role = 'district_supervisor' AND EXISTS (
                        SELECT 1 FROM gridgov_user_scope s WHERE s.user_id = u.id AND s.adminarea_id = i.district_id))
                 OR (i.escalation_level >= 2 AND u.role = 'city_supervisor'))
            WHERE i.id = ANY(%s)""",
        [issue_ids],
    )


class _Photos:
    """Synthetic photos (合成 in the picture), stored as `patrol.actions.photos` stores them:
    the JPEG under `patrol/photos/<sha256>.jpg`, a Photo row keyed by that SHA-256."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.rows: dict[str, Photo] = {}
        self.files: dict[str, bytes] = {}
        self.shared: dict[tuple, str] = {}

    def _add(self, data: bytes, uploaded_by: int | None) -> str:
        sha = hashlib.sha256(data).hexdigest()
        if sha not in self.rows:
            self.rows[sha] = Photo(
                sha256=sha,
                image=f"{PHOTO_DIR}/{sha}.jpg",
                width=480,
                height=360,
                size_bytes=len(data),
                content_type="image/jpeg",
                exif={},
                uploaded_by_id=uploaded_by,
            )
            self.files[sha] = data
        return sha

    def pool(self, stage: str, category: str, pick: int) -> str:
        top = category.split(".")[0]
        key = (top, stage, pick % POOL)
        if key not in self.shared:
            title = f"示例照片 · {self.names.get(top, top)}"
            data = synthetic_photo(stage=stage, title=title, caption="演示数据，非真实现场", seed=hash_seed(*key))
            self.shared[key] = self._add(data, None)
        return self.shared[key]

    def unique(self, stage: str, issue_id: int, name: str, caption: str, uploaded_by: int | None) -> str:
        data = synthetic_photo(
            stage=stage, title=f"案件 #{issue_id} · {name}", caption=caption, seed=issue_id * 2 + (stage == "after")
        )
        return self._add(data, uploaded_by)

    def save(self) -> None:
        """Write the files that are not there yet, then the rows that are not there yet."""
        for sha, data in self.files.items():
            path = Path(default_storage.path(f"{PHOTO_DIR}/{sha}.jpg"))
            if path.exists():
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        Photo.objects.bulk_create(list(self.rows.values()), batch_size=1000, ignore_conflicts=True)


def hash_seed(*parts) -> int:
    return int(np.frombuffer(hashlib.sha256(repr(parts).encode()).digest()[:8], dtype=np.uint64)[0] % (2**32))
