"""R1 (load) and R2 (faults): simulated grid officers submitting cases with photos.

Each officer thread loops until the deadline: upload one photo (unique bytes), then report a
case naming it; the same submission is resent 0-2 times, sometimes concurrently with itself.
Clients retry with backoff on connection errors and 5xx, as the mobile app does, until their
report is acknowledged (200/201) or the grace period ends. Afterwards the database is read by
client_uuid: every acknowledged submission must be stored exactly once, with its photo.
"""

from __future__ import annotations

import io
import os
import random
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
import requests

OFFICER = "officer"
TOWNSHIP = "330106001"  # the demo officer's township (西湖区, around 30.25N 120.10E)
CATEGORIES = ["air.open_burning", "water.river_litter", "solid_waste.illegal_dumping", "noise.construction"]
REQUEST_TIMEOUT = 30.0


def jpeg(rng: random.Random, side: int = 48) -> bytes:
    """A small JPEG with random pixels: unique bytes, so a unique SHA-256 per submission."""
    from PIL import Image

    img = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=70)
    return out.getvalue()


def token(base: str, username: str = OFFICER, password: str | None = None) -> str:
    password = password or os.environ.get("DEMO_PASSWORD", "gridgov-demo")
    r = requests.post(f"{base}/api/auth/token/", json={"username": username, "password": password}, timeout=30)
    r.raise_for_status()
    return r.json()["token"]


def points_in_area(base: str, *, n: int = 120, seed: int = 7) -> list[tuple[float, float]]:
    """Points inside the officer's township, each checked with GET /api/locate/."""
    rng = random.Random(seed)
    areas = requests.get(f"{base}/api/areas/", params={"level": "township", "parent": TOWNSHIP[:6]}, timeout=30).json()
    geom = next(a["geometry"] for a in areas["features"] if a["properties"]["code"] == TOWNSHIP)
    coords = _flatten(geom["coordinates"])
    minlon, maxlon = min(c[0] for c in coords), max(c[0] for c in coords)
    minlat, maxlat = min(c[1] for c in coords), max(c[1] for c in coords)
    found: list[tuple[float, float]] = []
    for _ in range(n * 10):
        lat, lon = rng.uniform(minlat, maxlat), rng.uniform(minlon, maxlon)
        r = requests.get(f"{base}/api/locate/", params={"lat": f"{lat:.6f}", "lon": f"{lon:.6f}"}, timeout=10)
        if r.status_code == 200 and r.json()["township"]["code"] == TOWNSHIP:
            found.append((round(lat, 6), round(lon, 6)))
            if len(found) >= n:
                break
    if not found:
        raise RuntimeError(f"no point of township {TOWNSHIP} found around 30.25N 120.10E")
    return found


def _flatten(coords) -> list:
    if coords and isinstance(coords[0], (int, float)):
        return [coords]
    return [c for part in coords for c in _flatten(part)]


@dataclass
class Figures:
    sent: int = 0  # POST /api/patrol/issues/ requests, resends and retries included
    requests: int = 0
    s5xx: int = 0
    errors: int = 0  # connection errors and timeouts
    conflicts: int = 0  # 409 on an identical resend: a bug
    other4xx: int = 0
    latencies: list[float] = field(default_factory=list)
    acked: dict[str, set[int]] = field(default_factory=dict)  # client_uuid -> ids answered
    submissions: set[str] = field(default_factory=set)
    unacked: set[str] = field(default_factory=set)
    conflict_bodies: list[str] = field(default_factory=list)
    s5xx_at: list[float] = field(default_factory=list)  # monotonic times of 5xx answers
    fault_at: list[float] = field(default_factory=list)  # monotonic times faults were injected
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, status: int | None, seconds: float, *, issue: bool) -> None:
        with self.lock:
            self.requests += 1
            if issue:
                self.sent += 1
            if status is None:
                self.errors += 1
                return
            self.latencies.append(seconds)
            if status >= 500:
                self.s5xx += 1
                self.s5xx_at.append(time.monotonic())
            elif status == 409:
                self.conflicts += 1
            elif status >= 400:
                self.other4xx += 1


class Officer:
    def __init__(self, *, base: str, tok: str, points, figures: Figures, seed: int, give_up_at: float) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {tok}"
        self.points = points
        self.f = figures
        self.rng = random.Random(seed)
        self.give_up_at = give_up_at

    def _post(self, path: str, *, issue: bool, **kw) -> requests.Response | None:
        """POST with retries and backoff until a non-5xx answer, or the grace period ends."""
        delay = 0.1
        session = kw.pop("session", self.session)
        while True:
            t0 = time.monotonic()
            try:
                r = session.post(self.base + path, timeout=REQUEST_TIMEOUT, **kw)
            except requests.RequestException:
                self.f.record(None, time.monotonic() - t0, issue=issue)
                r = None
            else:
                self.f.record(r.status_code, time.monotonic() - t0, issue=issue)
                if r.status_code < 500:
                    return r
            if time.monotonic() + delay > self.give_up_at:
                return None
            time.sleep(delay * (0.5 + self.rng.random()))
            delay = min(delay * 2, 2.0)

    def send_report(self, body: dict, session=None) -> None:
        r = self._post("/api/patrol/issues/", issue=True, json=body, session=session or self.session)
        if r is not None and r.status_code == 409:
            with self.f.lock:
                self.f.conflict_bodies.append(f"{body['client_uuid']}: {r.text[:300]}")
        if r is not None and r.status_code in (200, 201):
            with self.f.lock:
                self.f.acked.setdefault(body["client_uuid"], set()).add(r.json()["id"])

    def submit_one(self) -> None:
        photo = jpeg(self.rng)
        r = self._post("/api/patrol/photos/", issue=False, files={"photo": ("p.jpg", photo, "image/jpeg")})
        if r is None or r.status_code not in (200, 201):
            return
        sha = r.json()["sha256"]
        lat, lon = self.rng.choice(self.points)
        cuid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        body = {
            "client_uuid": cuid,
            "lat": lat,
            "lon": lon,
            "accuracy_m": round(self.rng.uniform(3, 30), 1),
            "category": self.rng.choice(CATEGORIES),
            "description": f"可靠性压测（合成）{cuid[:8]}",
            "photo_hashes": [sha],
        }
        with self.f.lock:
            self.f.submissions.add(cuid)
        resends = self.rng.choice([0, 1, 2])
        if resends and self.rng.random() < 0.5:
            # Concurrently with itself: the first send and its resends race on separate connections.
            threads = []
            for _ in range(resends):
                other = requests.Session()
                other.headers.update(self.session.headers)
                threads.append(threading.Thread(target=self.send_report, args=(body, other), daemon=True))
            for t in threads:
                t.start()
            self.send_report(body)
            for t in threads:
                t.join()
        else:
            for _ in range(1 + resends):
                self.send_report(body)

    def run(self, stop_at: float) -> None:
        while time.monotonic() < stop_at:
            self.submit_one()


@dataclass
class Result:
    line: str
    ok: bool


def run_load(
    *,
    name: str,
    label: str,
    base: str,
    database_url: str,
    clients: int,
    seconds: float,
    during: Callable[[float, list[float]], list[str]] | None = None,
    allow_5xx: bool = False,
    grace: float = 60.0,
) -> Result:
    """Run the officers; `during(stop_at)` (in its own thread) injects faults and returns notes."""
    tok = token(base)
    pts = points_in_area(base, n=60)
    f = Figures()
    t0 = time.monotonic()
    stop_at = t0 + seconds
    give_up_at = stop_at + grace
    # A fresh salt per run: two runs against one database must not replay each other's
    # client_uuids (the same seeds would regenerate the same submissions).
    salt = random.SystemRandom().getrandbits(48)
    officers = [
        Officer(base=base, tok=tok, points=pts, figures=f, seed=salt + i, give_up_at=give_up_at) for i in range(clients)
    ]
    threads = [threading.Thread(target=o.run, args=(stop_at,), daemon=True) for o in officers]
    notes: list[str] = []
    fault = None
    if during:
        fault = threading.Thread(target=lambda: notes.extend(during(stop_at, f.fault_at)), daemon=True)
        fault.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, give_up_at + REQUEST_TIMEOUT - time.monotonic()))
    if fault:
        fault.join(timeout=120)
    hung = sum(t.is_alive() for t in threads)

    # After the storm: the server must answer again without a restart.
    recovered = False
    for _ in range(50):
        try:
            if (
                requests.get(base + "/healthz", timeout=5).status_code == 200
                and requests.get(base + "/api/patrol/categories/", timeout=5).status_code == 200
            ):
                recovered = True
                break
        except requests.RequestException:
            pass
        time.sleep(0.2)

    uuids = sorted(f.submissions)
    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as conn:
        rows = conn.execute(
            "SELECT i.client_uuid::text, count(*), min(i.id), "
            " (SELECT count(*) FROM patrol_issue_photos p WHERE p.issue_id = min(i.id)) "
            "FROM patrol_issue i WHERE i.client_uuid = ANY(%s::uuid[]) GROUP BY i.client_uuid",
            (uuids,),
        ).fetchall()
    stored = {r[0]: (r[1], r[2], r[3]) for r in rows}
    acked = f.acked
    lost = sum(1 for u in acked if u not in stored)
    duplicated = sum(c - 1 for c, _, _ in stored.values()) + sum(1 for ids in acked.values() if len(ids) > 1)
    wrong_id = sum(1 for u, ids in acked.items() if u in stored and ids != {stored[u][1]})
    no_photo = sum(1 for c, _, n in stored.values() if n != 1)
    unacked = len(set(uuids) - set(acked))
    lat = sorted(f.latencies) or [0.0]
    p50 = statistics.median(lat) * 1000
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
    ok = (
        lost == 0
        and duplicated == 0
        and wrong_id == 0
        and no_photo == 0
        and f.conflicts == 0
        and unacked == 0
        and hung == 0
        and recovered
        and (allow_5xx or f.s5xx == 0)
        and len(acked) > 0
    )
    for b in f.conflict_bodies[:5]:
        print(f"# {name} 409 on an identical resend: {b}", file=sys.stderr)
    if f.fault_at:
        # A 5xx while the database is down is expected; one 5 s after a fault means no recovery.
        late = sum(1 for t in f.s5xx_at if not any(a - 0.5 <= t <= a + 5 for a in f.fault_at))
        notes.append(f"5xx_later_than_5s_after_a_fault={late}")
        ok = ok and late == 0
    extra = "".join(f" {n}" for n in notes)
    line = (
        f"{name} {label} clients={clients} secs={seconds:g} sent={f.sent} distinct={len(uuids)} stored={len(stored)} "
        f"lost={lost} duplicated={duplicated} 5xx={f.s5xx} conn_errors={f.errors} conflicts409={f.conflicts} "
        f"unacked={unacked} photo_missing={no_photo} p50_ms={p50:.0f} p99_ms={p99:.0f} "
        f"recovered={'yes' if recovered else 'NO'}{extra} {'PASS' if ok else 'FAIL'}"
    )
    return Result(line=line, ok=ok)
