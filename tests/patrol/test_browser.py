"""The loop in a real browser: the web pages (dispatch → rectify → accept/fail) and the mobile
app on a phone-sized screen that reports offline and delivers exactly once when back online."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from patrol.transitions import CONFIRMED_ACTIONS
from tests.conftest import login
from tests.patrol.conftest import LOOP_WITH_ONE_FAIL, jpeg_bytes

pytestmark = pytest.mark.browser

HAS_STATE = (
    "t => [...document.querySelectorAll('[data-testid=queue-item]')]"
    ".some(e => e.textContent.includes(t) && e.dataset.state === 'STATE')"
)


def _csrf(context) -> str:
    return next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")


def _new(browser, **kw):
    ctx = browser.new_context(locale="zh-CN", **kw)
    return ctx, ctx.new_page()


def test_web_loop_dispatch_rectify_fail_accept(browser, live_url, here):
    ctx, page = _new(browser, viewport={"width": 1280, "height": 900})
    login(page, live_url, "officer")
    page.goto(f"{live_url}/patrol/")
    r = page.request.post(
        f"{live_url}/api/patrol/issues/",
        data=json.dumps(
            {
                "client_uuid": str(uuid.uuid4()),
                "lat": here.y,
                "lon": here.x,
                "category": "air.dust",
                "description": "网页闭环测试（合成）",
                "accuracy_m": 5,
            }
        ),
        headers={"Content-Type": "application/json", "X-CSRFToken": _csrf(ctx), "Referer": live_url + "/"},
    )
    assert r.status == 201, r.text()
    issue_id = r.json()["id"]
    ctx.close()

    def act(username, action, *, note="", photos=False, before=None):
        c, p = _new(browser, viewport={"width": 1280, "height": 900})
        login(p, live_url, username)
        p.goto(f"{live_url}/patrol/{issue_id}/")
        if before:
            before(p)
        if note:
            p.fill(f"[data-testid=note-{action}]", note)
        if photos:
            p.set_input_files(
                f"[data-testid=photos-{action}]",
                files=[{"name": "evidence.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes(color=(9, 99, 9))}],
            )
        p.click(f"[data-testid=action-{action}]")
        if action in CONFIRMED_ACTIONS:  # the page asks first
            p.click("[data-testid=confirm-ok]")
        p.wait_for_load_state("networkidle")
        status = p.get_attribute("[data-testid=issue-status]", "data-status")
        c.close()
        return status

    assert act("township_supervisor", "verify", note="属实") == "verified"
    assert (
        act(
            "township_supervisor",
            "dispatch",
            before=lambda p: p.select_option("[data-testid=dispatch-unit]", label="西湖区城市管理局（演示）"),
        )
        == "dispatched"
    )
    assert act("responsible_unit", "start_rectification") == "rectifying"
    assert act("responsible_unit", "submit_rectification", photos=True, note="已覆盖裸土") == "submitted"
    assert act("officer", "fail", note="仍有扬尘") == "rectifying"
    assert act("responsible_unit", "submit_rectification", photos=True, note="再次整改") == "submitted"
    assert act("officer", "accept", note="复查合格") == "accepted"
    # The page shows the whole trail.
    c, p = _new(browser)
    login(p, live_url, "township_supervisor")
    p.goto(f"{live_url}/patrol/{issue_id}/")
    actions = p.eval_on_selector_all("[data-testid=events] li", "els => els.map(e => e.dataset.action)")
    assert actions == LOOP_WITH_ONE_FAIL
    c.close()


def test_web_illegal_action_is_explained(browser, live_url):
    c, p = _new(browser)
    login(p, live_url, "officer")
    p.goto(f"{live_url}/patrol/")
    assert p.is_visible("[data-testid=issue-table]")
    c.close()


def test_mobile_report_offline_then_delivered_exactly_once(browser, live_url, here, db):
    from patrol.models import Issue

    ctx = browser.new_context(
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        geolocation={"latitude": here.y, "longitude": here.x, "accuracy": 12},
        permissions=["geolocation"],
    )
    page = ctx.new_page()
    login(page, live_url, "officer")
    page.goto(f"{live_url}/m/")
    page.wait_for_selector("[data-testid=gps-status][data-accuracy='12']")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    text = f"离线上报测试 {uuid.uuid4().hex[:8]}（合成）"

    ctx.set_offline(True)
    page.wait_for_function("!navigator.onLine")
    page.click("[data-testid=report-here]")
    page.select_option("[data-testid=category]", "air.open_burning")
    page.fill("[data-testid=description]", text)
    page.set_input_files(
        "[data-testid=photo]",
        files=[{"name": "p.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes(color=(200, 10, 10))}],
    )
    page.click("[data-testid=submit]")
    item = page.locator("[data-testid=queue-item]", has_text=text)
    item.wait_for()
    page.wait_for_function(
        HAS_STATE.replace("STATE", "queued"),
        arg=text,
    )
    assert Issue.objects.filter(description=text).count() == 0

    # Closing the app while offline loses nothing: the shell comes from the service worker and
    # the report from IndexedDB.
    page.reload()
    page.locator("[data-testid=queue-item]", has_text=text).wait_for()
    assert page.locator("[data-testid=queue-item]", has_text=text).get_attribute("data-state") in ("queued", "sending")

    ctx.set_offline(False)
    page.wait_for_function(
        HAS_STATE.replace("STATE", "sent"),
        arg=text,
        timeout=30000,
    )
    # Retrying does nothing more: the queue only sends 'queued' items and the server keys by client_uuid.
    page.evaluate("window.patrolApp.flush()")
    page.wait_for_timeout(500)
    issues = list(Issue.objects.filter(description=text))
    assert len(issues) == 1
    assert issues[0].photos.count() == 1 and issues[0].source == "patrol"
    sent = page.locator("[data-testid=queue-item]", has_text=text)
    assert sent.get_attribute("data-issue") == str(issues[0].pk)
    assert re.match(r"^\d+$", sent.get_attribute("data-issue"))
    ctx.close()


def test_mobile_tasks_show_deadlines_and_manifest(browser, live_url):
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    login(page, live_url, "responsible_unit")
    page.goto(f"{live_url}/m/")
    page.click("[data-testid=tab-tasks]")
    page.locator("[data-testid=task-item]").first.wait_for(timeout=15000)
    assert page.locator("[data-testid=task-item].overdue").count() >= 1  # the demo has overdue cases
    man = page.request.get(f"{live_url}/m/manifest.webmanifest").json()
    assert man["display"] == "standalone" and man["scope"] == "/m/"
    sw = page.request.get(f"{live_url}/m/sw.js")
    assert sw.ok and "caches" in sw.text()
    ctx.close()
