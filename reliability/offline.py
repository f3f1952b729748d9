"""R5, offline client: the mobile app (/m/) in headless Chromium queues reports with photos
while offline; the network is then toggled during sync and the page reloaded once mid-sync.
Every report must arrive exactly once (checked in the database by client_uuid).

Drives the app only through its data-testid contract (issue 4): report-here, category,
description, photo, submit, queue-item[data-state=queued|sending|sent|failed].
"""

from __future__ import annotations

import io
import os
import random
import sys
import time
import uuid

import psycopg
import requests

from .load import Result, points_in_area

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [  # as tests/conftest.py
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = os.environ.get("DEMO_PASSWORD", "gridgov-demo")


def _photo(i: int) -> bytes:
    from PIL import Image

    rng = random.Random(i ^ 0x5EED)
    out = io.BytesIO()
    Image.frombytes("RGB", (40, 30), rng.randbytes(40 * 30 * 3)).save(out, format="JPEG")
    return out.getvalue()


def run_offline(
    *, base: str, database_url: str, reports: int = 100, toggles: int = 10, sync_timeout: float = 300
) -> Result:
    from playwright.sync_api import sync_playwright

    if requests.get(f"{base}/m/", timeout=30, allow_redirects=False).status_code == 404:
        return Result(line="R5 offline BLOCKED (/m/ absent) FAIL", ok=False)
    lat, lon = points_in_area(base, n=1, seed=11)[0]
    run = uuid.uuid4().hex[:8]
    marker = f"R5-{run}"
    t0 = time.monotonic()
    notes: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        ctx = browser.new_context(
            locale="zh-CN",
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
            geolocation={"latitude": lat, "longitude": lon, "accuracy": 8},
            permissions=["geolocation"],
        )
        page = ctx.new_page()
        page.on("dialog", lambda d: (notes.append(f"alert:{d.message[:40]}"), d.dismiss()))
        page.goto(f"{base}/accounts/login/")
        page.fill("input[name=username]", "officer")
        page.fill("input[name=password]", PASSWORD)
        page.click("[data-testid=login-submit]")
        page.wait_for_load_state("networkidle")
        page.goto(f"{base}/m/")
        page.wait_for_load_state("networkidle")
        try:
            page.wait_for_selector("[data-testid=gps-status][data-accuracy]", timeout=20000)
        except Exception:
            gps = page.text_content("[data-testid=gps-status]")
            return Result(line=f"R5 offline BLOCKED (no GPS fix in /m/: {gps!r}) FAIL", ok=False)
        items = page.locator("[data-testid=queue-item]")
        already = items.count()

        ctx.set_offline(True)
        for i in range(reports):
            page.click("[data-testid=report-here]")
            page.select_option("[data-testid=category]", "other")
            page.fill("[data-testid=description]", f"{marker} 离线上报 {i:03d}（合成）")
            page.set_input_files(
                "[data-testid=photo]", files=[{"name": f"p{i}.jpg", "mimeType": "image/jpeg", "buffer": _photo(i)}]
            )
            page.click("[data-testid=submit]")
            page.wait_for_function(
                f"document.querySelectorAll('[data-testid=queue-item]').length >= {already + i + 1}", timeout=15000
            )
        queued_states = page.eval_on_selector_all("[data-testid=queue-item]", "els => els.map(e => e.dataset.state)")
        offline_sent = sum(1 for s in queued_states[:reports] if s == "sent")
        t_queued = time.monotonic() - t0

        # Back online, then the network flaps while the queue drains; one reload in the middle.
        ctx.set_offline(False)
        reloaded = False
        for k in range(toggles):
            time.sleep(0.8 + random.random() * 0.8)
            ctx.set_offline(True)
            time.sleep(0.4 + random.random() * 0.6)
            ctx.set_offline(False)
            if k == toggles // 2 and not reloaded:
                page.reload()
                page.wait_for_load_state("domcontentloaded")
                reloaded = True
        deadline = time.monotonic() + sync_timeout
        states: list[str] = []
        while time.monotonic() < deadline:
            states = page.eval_on_selector_all(
                "[data-testid=queue-item]",
                f"els => els.filter(e => e.textContent.includes('{marker}')).map(e => e.dataset.state)",
            )
            if len(states) >= reports and all(s in ("sent", "failed") for s in states):
                break
            time.sleep(1)
        uuids = page.eval_on_selector_all(
            "[data-testid=queue-item]",
            f"els => els.filter(e => e.textContent.includes('{marker}')).map(e => e.dataset.id)",
        )
        browser.close()

    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as conn:
        rows = conn.execute(
            "SELECT i.client_uuid::text, count(*) OVER (PARTITION BY i.client_uuid), "
            "(SELECT count(*) FROM patrol_issue_photos p WHERE p.issue_id = i.id) "
            "FROM patrol_issue i WHERE i.description LIKE %s",
            (f"{marker} %",),
        ).fetchall()
    stored_uuids = {r[0] for r in rows}
    stored = len(rows)
    duplicated = stored - len(stored_uuids)
    lost = len(set(uuids) - stored_uuids)
    missing_items = reports - len(set(uuids))
    no_photo = sum(1 for r in rows if r[2] != 1)
    sent = sum(1 for s in states if s == "sent")
    failed = sum(1 for s in states if s == "failed")
    ok = (
        stored == reports
        and len(stored_uuids) == reports
        and duplicated == 0
        and lost == 0
        and missing_items == 0
        and sent == reports
        and no_photo == 0
    )
    for n in notes[:5]:
        print(f"# R5 {n}", file=sys.stderr)
    line = (
        f"R5 offline reports={reports} toggles={toggles} reloads=1 queued_offline_in_s={t_queued:.0f} "
        f"sent_while_offline={offline_sent} sent={sent} failed={failed} stored={stored} lost={lost} "
        f"duplicated={duplicated} photo_missing={no_photo} secs={time.monotonic() - t0:.0f} {'PASS' if ok else 'FAIL'}"
    )
    return Result(line=line, ok=ok)
