"""Day one of each role in a real browser (Chromium), in Chinese and in English, on the demo data
(plus one published case and one case dispatched to the demo unit, made through the services):

- grid officer: signs in at / and lands on /m/; the map centres on the (mocked) GPS fix; the pin
  shows its township and cell and warns outside the officer's own cells; a report made offline
  arrives once; my tasks split assigned work from own reports, nearest first, each linked;
- responsible unit: its own cases under 我的待办, rectify with a photo (after a confirmation);
- citizen: the form → a tracking code → the tracking page;
- public: the 曝光台 shows published cases with before/after photos and no names or phones;
- supervisor: case actions ask for confirmation first; publish, then 撤销曝光.

No page may raise a JavaScript error (pageerror) along the way.
"""

from __future__ import annotations

import re
import uuid

import pytest

from tests.conftest import login
from tests.patrol.conftest import jpeg_bytes

from .conftest import ID_NUMBER, NAME, PHONE, make_published_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
LANGS = ["zh-hans", "en"]


@pytest.fixture(scope="module")
def committed(django_db_setup, django_db_blocker):
    """A published case, and a case dispatched to the demo unit, committed for the live server."""
    from django.contrib.gis.geos import Point

    from gridgov.models import GridCell, Organization, User
    from patrol.actions.reporting import issue_report
    from patrol.actions.transitions import issue_transition

    with django_db_blocker.unblock():
        published = make_published_case(tag=" 浏览器")
        # One more per language for the supervisor, who withdraws it.
        to_withdraw = [make_published_case(tag=f" 撤销 {lang}")["issue"].pk for lang in LANGS]
        officer = User.objects.get(username="officer")
        sup = User.objects.get(username="district_supervisor")
        cell = GridCell.objects.filter(assignments__user=officer).order_by("code").first()
        p = cell.geom.point_on_surface
        unit = Organization.objects.get(name="西湖区城市管理局（演示）")
        dispatched = []
        for _ in LANGS:
            issue, _created = issue_report(
                reporter=officer,
                point=Point(p.x, p.y, srid=4326),
                category="solid_waste.illegal_dumping",
                description="待整改的建筑垃圾（合成，浏览器测试）",
                client_uuid=uuid.uuid4(),
            )
            issue_transition(issue_id=issue.pk, action="verify", actor=sup)
            issue_transition(issue_id=issue.pk, action="dispatch", actor=sup, unit_id=unit.pk)
            dispatched.append(issue.pk)
        return {"published": published, "dispatched": dispatched, "to_withdraw": to_withdraw}


def _context(browser, live_url, lang: str, **kw):
    kw.setdefault("viewport", {"width": 1280, "height": 900})
    ctx = browser.new_context(locale="zh-CN" if lang != "en" else "en-GB", **kw)
    ctx.add_cookies([{"name": "django_language", "value": lang, "url": live_url}])
    # The test machine has no internet: the basemap's tile servers fail at once (as on an
    # intranet) instead of waiting on DNS, and the map falls back to the city's own layers.
    ctx.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort("internetdisconnected"))
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"{exc}: {exc.stack}"))
    page.on("console", lambda msg: _console_error(errors, msg))
    return ctx, page, errors


def _console_error(errors: list[str], msg) -> None:
    """A console error, except the browser's own line for a request made with no network (the
    basemap here, everything in the offline steps): a script that mishandles it still shows as
    a pageerror."""
    if msg.type == "error" and "net::ERR_INTERNET_DISCONNECTED" not in msg.text:
        errors.append(f"console: {msg.text} @ {msg.location.get('url', '')}")


def _phone(browser, live_url, lang, geo):
    return _context(
        browser,
        live_url,
        lang,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        geolocation={"latitude": geo[1], "longitude": geo[0], "accuracy": 8},
        permissions=["geolocation"],
    )


def _cells(username="officer"):
    from gridgov.models import GridCell

    own = list(GridCell.objects.filter(assignments__user__username=username).order_by("code"))
    other = GridCell.objects.filter(township=own[0].township).exclude(pk__in=[c.pk for c in own]).order_by("code")[0]
    return own, other


def _inside(cell) -> tuple[float, float]:
    p = cell.geom.point_on_surface
    return round(p.x, 7), round(p.y, 7)


@pytest.mark.parametrize("lang", LANGS)
def test_officer_day_one_on_the_phone(browser, live_url, committed, lang):
    own, other = _cells()
    here = _inside(own[0])
    ctx, page, errors = _phone(browser, live_url, lang, here)
    # Signing in from the city map lands on the mobile app.
    page.goto(f"{live_url}/")
    page.click("header .account a")
    page.fill("input[name=username]", "officer")
    page.fill("input[name=password]", "gridgov-demo")
    page.click("[data-testid=login-submit]")
    page.wait_for_url(f"{live_url}/m/")
    assert page.locator("[data-testid=tab-report]").inner_text() == ("Report" if lang == "en" else "上报")

    # The map centres on the fix, even though it arrives during the opening zoom.
    page.wait_for_selector("[data-testid=gps-status][data-accuracy='8']")
    page.wait_for_function(
        "([lon, lat]) => { const c = window.patrolApp.map.getCenter();"
        " return Math.abs(c.lat - lat) < 1e-4 && Math.abs(c.lng - lon) < 1e-4 && window.patrolApp.map.getZoom() >= 17; }",
        arg=list(here),
        timeout=15000,
    )
    # Panned away, the recentre button brings the fix back.
    page.evaluate("window.patrolApp.map.setView([30.3, 120.3], 15, {animate: false})")
    page.click("[data-testid=recentre]")
    centre = page.evaluate("(() => { const c = window.patrolApp.map.getCenter(); return [c.lng, c.lat]; })()")
    assert abs(centre[0] - here[0]) < 1e-4 and abs(centre[1] - here[1]) < 1e-4

    # The pin names its township and cell; inside the officer's own cells there is no warning.
    page.click("[data-testid=report-here]")
    hint = page.locator("#pin-hint").inner_text()
    assert ("blue marker" in hint) if lang == "en" else ("蓝色标记" in hint)
    page.wait_for_function("document.getElementById('pin-place').dataset.cell !== ''", timeout=15000)
    place = page.locator("[data-testid=pin-place]")
    assert own[0].code in place.inner_text() and "西湖第1街道" in place.inner_text()
    assert page.locator("[data-testid=pin-warning]").is_hidden()
    # Standing in a neighbour's cell: the warning says so before anything is sent.
    ctx.set_geolocation({"latitude": _inside(other)[1], "longitude": _inside(other)[0], "accuracy": 9})
    page.wait_for_selector("[data-testid=gps-status][data-accuracy='9']")
    page.click("[data-testid=report-here]")
    page.wait_for_function(f"document.getElementById('pin-place').dataset.cell === '{other.code}'", timeout=15000)
    warning = page.locator("[data-testid=pin-warning]")
    assert warning.is_visible() and own[0].code in warning.inner_text()
    assert (
        ("outside your own grid cells" in warning.inner_text())
        if lang == "en"
        else ("不在您负责的网格内" in warning.inner_text())
    )

    # Offline: the report waits, and arrives exactly once when the phone is back online.
    from patrol.models import Issue

    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    text = f"离线上报 {uuid.uuid4().hex[:8]}（合成）"
    ctx.set_offline(True)
    page.wait_for_function("!navigator.onLine")
    page.select_option("[data-testid=category]", "air.open_burning")
    page.fill("[data-testid=description]", text)
    page.set_input_files(
        "[data-testid=photo]", files=[{"name": "p.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}]
    )
    page.click("[data-testid=submit]")
    page.wait_for_selector(f"[data-testid=queue-item][data-state=queued]:has-text('{text}')")
    assert Issue.objects.filter(description=text).count() == 0
    ctx.set_offline(False)
    page.wait_for_selector(f"[data-testid=queue-item][data-state=sent]:has-text('{text}')", timeout=30000)
    assert Issue.objects.filter(description=text).count() == 1

    # My tasks: work assigned to me apart from my own reports, nearest first, each linked to its case.
    page.click("[data-testid=tab-tasks]")
    page.locator("[data-testid=tasks-reported] [data-testid=task-item]").first.wait_for(timeout=15000)
    for kind in ("assigned", "reported"):
        items = page.locator(f"[data-testid=tasks-{kind}] [data-testid=task-item]")
        kinds = items.evaluate_all("els => els.map(e => e.dataset.kind)")
        assert set(kinds) <= {kind}
        distances = items.evaluate_all("els => els.map(e => +e.dataset.distance)")
        assert distances == sorted(distances)
    mine = Issue.objects.get(description=text)
    link = page.locator(f"[data-testid=tasks-reported] [data-testid=task-item][data-id='{mine.pk}'] a")
    assert link.get_attribute("href") == f"/patrol/{mine.pk}/"
    assert errors == []
    ctx.close()


def test_officer_grid_outlines_come_back_after_an_offline_start(browser, live_url):
    lang = "zh-hans"  # nothing here depends on the language
    from gridgov.models import GridCell

    own, _other = _cells()
    ctx, page, errors = _phone(browser, live_url, lang, _inside(own[0]))
    login(page, live_url, "officer")
    page.goto(f"{live_url}/m/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_selector("[data-testid=gps-status][data-accuracy='8']")
    # The app opens with no network somewhere it has never been (滨江区): the shell comes from
    # the service worker, and every grid tile there comes back empty.
    away = _inside(GridCell.objects.filter(township__parent__code="330108").order_by("code").first())
    ctx.set_offline(True)
    ctx.set_geolocation({"latitude": away[1], "longitude": away[0], "accuracy": 7})
    page.reload()
    page.wait_for_selector("[data-testid=gps-status][data-accuracy='7']")
    page.wait_for_timeout(1500)
    paths = "window.patrolApp.cells.getContainer().querySelectorAll('path').length"
    assert page.evaluate(paths) == 0
    ctx.set_offline(False)
    page.wait_for_function(f"{paths} > 0", timeout=20000)
    assert errors == []
    ctx.close()


@pytest.mark.parametrize("lang", LANGS)
def test_responsible_unit_rectifies_its_own_case_with_photos(browser, live_url, committed, lang):
    issue_id = committed["dispatched"][LANGS.index(lang)]
    ctx, page, errors = _context(browser, live_url, lang)
    login(page, live_url, "responsible_unit")
    page.goto(f"{live_url}/patrol/")
    task = page.locator(f"[data-testid=web-task][data-kind=assigned] a[href='/patrol/{issue_id}/']")
    assert task.count() == 1
    task.click()
    page.click("[data-testid=action-start_rectification]")
    page.wait_for_selector("[data-testid=issue-status][data-status=rectifying]")
    page.set_input_files(
        "[data-testid=photos-submit_rectification]",
        files=[{"name": "after.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes(color=(10, 200, 10))}],
    )
    page.fill("[data-testid=note-submit_rectification]", "已清运完毕（合成）")
    page.click("[data-testid=action-submit_rectification]")
    dialog = page.locator("[data-testid=confirm-dialog]")
    dialog.wait_for(state="visible")
    assert ("Confirm" in dialog.inner_text()) if lang == "en" else ("确认提交整改" in dialog.inner_text())
    page.click("[data-testid=confirm-ok]")
    page.wait_for_selector("[data-testid=issue-status][data-status=submitted]")
    after = page.locator("[data-testid=photos-rectification] img")
    assert after.count() == 1 and after.evaluate("img => img.naturalWidth") > 0
    # Its neighbours' cases stay out of sight.
    from patrol.models import Issue

    assert errors == []
    foreign = Issue.objects.exclude(responsible_unit__members__username="responsible_unit").exclude(
        reporter__username="responsible_unit"
    )
    assert page.goto(f"{live_url}/patrol/{foreign.first().pk}/").status == 404
    ctx.close()


@pytest.mark.parametrize("lang", LANGS)
def test_citizen_reports_and_follows_the_case(browser, live_url, lang):
    from patrol.models import Issue

    ctx, page, errors = _context(browser, live_url, lang, viewport={"width": 390, "height": 844}, is_mobile=True)
    page.goto(f"{live_url}/public/report/")
    assert page.locator("h1").inner_text() == ("Report a problem" if lang == "en" else "我要举报")
    text = f"河道里有人倾倒垃圾 {uuid.uuid4().hex[:6]}（合成）"
    page.select_option("[data-testid=citizen-category]", "water.river_litter")
    page.fill("[data-testid=citizen-address]", "西湖第1街道")
    page.click("[data-testid=place-find]")
    page.locator("[data-testid=place-result]").first.click()
    page.wait_for_function("document.querySelector('[data-testid=citizen-lat]').value !== ''")
    page.fill("[data-testid=citizen-description]", text)
    page.set_input_files(
        "[data-testid=citizen-photos]", files=[{"name": "c.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}]
    )
    page.fill("[data-testid=citizen-name]", "赵小姐")
    page.fill("[data-testid=citizen-phone]", "13600002222")
    page.click("[data-testid=citizen-submit]")
    page.wait_for_selector("[data-testid=report-received]")
    code = page.locator("[data-testid=tracking-code]").inner_text()
    issue = Issue.objects.get(description=text)
    assert str(issue.token) == code and issue.source == "citizen" and issue.photos.count() == 1
    assert issue.township.code == "330106001"
    body = page.locator("body").inner_text()
    assert "赵小姐" not in body and "13600002222" not in body
    # Later, with the code only.
    page.goto(f"{live_url}/public/track/")
    page.fill("[data-testid=track-code]", code)
    page.click("[data-testid=track-submit]")
    page.wait_for_url(re.compile(rf"/public/track/{code}/$"))
    assert page.locator("[data-testid=tracking-progress]").inner_text() == (
        "Received, to be verified" if lang == "en" else "已受理，待核实"
    )
    assert errors == []
    ctx.close()


@pytest.mark.parametrize("lang", LANGS)
def test_public_sees_published_cases_with_before_after_photos_and_no_personal_data(browser, live_url, committed, lang):
    issue = committed["published"]["issue"]
    ctx, page, errors = _context(browser, live_url, lang)
    page.goto(f"{live_url}/public/cases/")
    assert page.locator("h1").inner_text().startswith("Public disclosure" if lang == "en" else "曝光台")
    page.wait_for_function("+document.getElementById('public-map').dataset.cases > 0", timeout=15000)
    row = page.locator(f"[data-testid=public-case][data-id='{issue.pk}']")
    if not row.count():  # paged: newest first, so it is on the first page unless many were published since
        pytest.fail("the published case is not on the first page of the 曝光台")
    for side in ("public-before", "public-after"):
        img = row.locator(f"[data-testid={side}] img").first
        img.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    body = page.locator("body").inner_text()
    assert NAME not in body and PHONE not in body and ID_NUMBER not in body
    assert not re.findall(r"(?<!\d)1[3-9]\d{9}(?!\d)", body.replace(" ", ""))
    row.locator("h2 a").click()
    page.wait_for_url(f"{live_url}/public/cases/{issue.pk}/")
    text = page.locator("[data-testid=public-text]").inner_text()
    assert "王某" in text and "[电话已隐去]" in text  # the published record, whatever the reader's language
    assert errors == []
    ctx.close()


@pytest.mark.parametrize("lang", LANGS)
def test_supervisor_confirms_before_publishing_and_unpublishes(browser, live_url, committed, lang):
    from patrol.models import Issue

    issue_id = committed["to_withdraw"][LANGS.index(lang)]
    ctx, page, errors = _context(browser, live_url, lang)
    login(page, live_url, "district_supervisor")
    page.goto(f"{live_url}/patrol/{issue_id}/")
    assert page.locator("[data-testid=published-text]").inner_text().startswith("业主王某")
    assert page.locator("[data-testid=photos-report] img").count() == 1
    assert page.locator("[data-testid=photos-rectification] img").count() == 1
    assert page.locator("[data-testid=photos-acceptance] img").count() == 1
    # 撤销曝光: the reason is required; cancelling the dialog changes nothing.
    page.fill("[data-testid=note-unpublish]", "照片涉及隐私（合成）")
    page.click("[data-testid=action-unpublish]")
    page.locator("[data-testid=confirm-dialog]").wait_for(state="visible")
    page.click("[data-testid=confirm-cancel]")
    page.wait_for_timeout(300)
    assert Issue.objects.get(pk=issue_id).is_public
    page.click("[data-testid=action-unpublish]")
    page.click("[data-testid=confirm-ok]")
    page.wait_for_selector("[data-testid=messages]")
    assert not Issue.objects.get(pk=issue_id).is_public
    done = page.locator("[data-testid=messages]").inner_text()
    assert ("Withdraw publication" in done) if lang == "en" else (done == "已撤销曝光")
    assert page.locator("[data-testid=published-badge]").count() == 0
    assert page.request.get(f"{live_url}/public/cases/{issue_id}/").status == 404
    assert errors == []
    ctx.close()


@pytest.mark.parametrize("lang", LANGS)
def test_enterprise_contact_lands_on_its_file_and_asks_for_credit_repair(browser, live_url, lang):
    """The credit demo's 环保联络员 (credit/demo.py CONTACT) signs in from the map, lands on its
    enterprise's file, asks for repair of its order to stop production (past the three-month
    minimum) with the form, and finds its enterprise in the public credit list."""
    from credit.demo import demo_code
    from credit.models import RepairRequest
    from sources.models import Enterprise

    own = Enterprise.objects.get(credit_code=demo_code(3))
    ctx, page, errors = _context(browser, live_url, lang)
    page.goto(f"{live_url}/")
    page.click("header .account a")
    page.fill("input[name=username]", "enterprise_contact")
    page.fill("input[name=password]", "gridgov-demo")
    page.click("[data-testid=login-submit]")
    page.wait_for_url(f"{live_url}/sources/{own.credit_code}/")  # its own file (patrol LANDING)
    assert page.locator("[data-testid=credit-block]").count() == 1
    # The first language's run files the request through the form (committed by the server);
    # the second finds it awaiting review instead of a second form.
    if page.locator("[data-testid=repair-form]").count():
        form = page.locator("[data-testid=repair-form]").first
        form.locator("textarea").fill("已完成整改并通过验收（合成）")
        form.locator("[data-testid=repair-submit]").click()
        page.wait_for_function("() => !document.querySelector('[data-testid=repair-form]')")
        page.reload()
    assert page.locator("[data-testid=repair-pending]").count() == 1
    assert RepairRequest.objects.filter(credit_code=own.credit_code, status="pending").count() == 1
    page.goto(f"{live_url}/public/credit/")
    assert own.name in page.locator("main").inner_text()
    assert errors == []
    ctx.close()
