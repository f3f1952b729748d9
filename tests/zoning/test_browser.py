"""The editor and the analysis page in headless Chromium against the live test server.

The live server commits to the test database, so assertions are relative to what the page
shows first (versions go up by one per save).
"""

from __future__ import annotations

import pytest

from tests.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

VERDICTS = ("判定通过", "受限准入", "判定不通过", "待补充信息")


def open_editor(page, live_url, user):
    login(page, live_url, user)
    page.goto(live_url + "/zoning/editor/")
    page.wait_for_function("Number(document.getElementById('map').dataset.units || 0) > 0", timeout=20000)


def test_planner_edits_sees_history_and_reverts(page, live_url):
    open_editor(page, live_url, "planner")
    assert page.locator(".leaflet-pm-toolbar").count() > 0  # Geoman controls for planners
    code = page.evaluate("zoningEditor.units.getLayers()[0].feature.properties.code")
    page.evaluate(f"zoningEditor.selectCode('{code}')")
    version = int(page.locator("input[name=version]").input_value())
    page.fill("[data-testid=f-name]", "浏览器测试改名（合成）")
    page.fill("[data-testid=f-reason]", "浏览器测试")
    page.click("[data-testid=save]")
    page.wait_for_function(
        f"document.getElementById('message').innerText.includes('第 {version + 1} 版')", timeout=15000
    )
    page.wait_for_selector(f"[data-testid=revert-{version}]", timeout=10000)
    assert "浏览器测试" in page.locator("[data-testid=history]").inner_text()
    page.fill("[data-testid=f-reason]", "浏览器测试回退")
    page.click(f"[data-testid=revert-{version}]")
    page.wait_for_function(
        f"document.getElementById('message').innerText.includes('第 {version + 2} 版')", timeout=15000
    )
    assert page.locator("[data-testid=f-name]").input_value() != "浏览器测试改名（合成）"


def test_invalid_geometry_is_shown_on_the_map(page, live_url):
    open_editor(page, live_url, "planner")
    code = page.evaluate("zoningEditor.units.getLayers()[0].feature.properties.code")
    page.evaluate(f"zoningEditor.selectCode('{code}')")
    # Replace the unit's outline with a bow-tie around its own centre.
    page.evaluate("""() => { const l = zoningEditor.selected(); const c = l.getBounds().getCenter(); const d = 0.005;
        l.setLatLngs([[c.lat - d, c.lng - d], [c.lat + d, c.lng + d], [c.lat + d, c.lng - d], [c.lat - d, c.lng + d]]);
        l._zoningEdited = true; }""")
    page.fill("[data-testid=f-reason]", "浏览器测试无效几何")
    page.click("[data-testid=save]")
    page.wait_for_selector(".gg-error-marker", timeout=15000)
    assert "Self-intersection" in page.locator(".leaflet-popup-content").inner_text()
    assert page.locator("[data-testid=accept-repair]").count() == 1
    page.screenshot(path="var/zoning-editor-error.png")


def test_supervisor_views_read_only(page, live_url):
    open_editor(page, live_url, "city_supervisor")
    assert page.locator("[data-testid=read-only]").count() == 1
    assert page.locator(".leaflet-pm-toolbar").count() == 0
    code = page.evaluate("zoningEditor.units.getLayers()[0].feature.properties.code")
    page.evaluate(f"zoningEditor.selectCode('{code}')")
    assert page.locator("[data-testid=save]").count() == 0
    page.wait_for_selector("[data-testid=history] li", timeout=10000)


def test_analysis_page_draws_result_and_report(page, live_url):
    page.goto(live_url + "/zoning/analyze/")
    page.wait_for_function(
        "window.zoningAnalyze && document.querySelectorAll('path.leaflet-interactive').length > 10", timeout=20000
    )
    # A 1 km square in the West Lake hills (red line in the demo).
    page.evaluate("""() => { const m = zoningAnalyze.map;
        const l = L.polygon([[30.215, 120.115], [30.225, 120.115], [30.225, 120.125], [30.215, 120.125]]).addTo(m);
        zoningAnalyze.setSite(l); }""")
    page.click("[data-testid=run-analysis]")
    page.wait_for_selector("[data-testid=verdict]", timeout=15000)
    assert page.locator("[data-testid=verdict]").inner_text() == "判定不通过"
    assert "ZH330106" in page.locator("[data-testid=analysis-result]").inner_text()
    page.screenshot(path="var/zoning-analyze.png")
    with page.context.expect_page() as report_info:
        page.click("[data-testid=report-html]")
    report = report_info.value
    report.wait_for_selector("[data-testid=report-verdict]", timeout=20000)
    assert report.locator("[data-testid=report-verdict]").inner_text() in VERDICTS
    assert report.locator("img.map").get_attribute("src").startswith("data:image/png;base64,")


def test_planner_marks_an_item_as_forbidding_construction(page, live_url):
    open_editor(page, live_url, "planner")
    code = page.evaluate(
        "zoningEditor.units.getLayers().map(l => l.feature.properties).find(p => p.category === 'general').code"
    )
    page.evaluate(f"zoningEditor.selectCode('{code}')")
    version = int(page.locator("input[name=version]").input_value())
    assert page.locator("[data-testid=f-bans]").input_value() == ""  # general demo units ban nothing
    page.fill("[data-testid=f-bans]", "禁止新建化工项目（浏览器测试，合成）")
    page.fill("[data-testid=f-reason]", "浏览器测试禁止建设")
    page.click("[data-testid=save]")
    page.wait_for_function(
        f"document.getElementById('message').innerText.includes('第 {version + 1} 版')", timeout=15000
    )
    items = page.evaluate(f"fetch('/api/zoning/units/{code}/').then(r => r.json()).then(f => f.properties.access_list)")
    assert {"dimension": "spatial", "text": "禁止新建化工项目（浏览器测试，合成）", "forbids_construction": True} in [
        {k: i[k] for k in ("dimension", "text", "forbids_construction")} for i in items
    ]
    # Back as it was, through the history (a new version).
    page.fill("[data-testid=f-reason]", "浏览器测试回退")
    page.click(f"[data-testid=revert-{version}]")
    page.wait_for_function(
        f"document.getElementById('message').innerText.includes('第 {version + 2} 版')", timeout=15000
    )
    assert page.locator("[data-testid=f-bans]").input_value() == ""


def test_the_analysis_page_offers_uploads_only_after_sign_in(page, live_url):
    page.goto(live_url + "/zoning/analyze/")
    assert page.locator("[data-testid=site-file]").count() == 0
    assert page.locator("[data-testid=site-file-login]").count() == 1
    login(page, live_url, "officer")
    page.goto(live_url + "/zoning/analyze/")
    assert page.locator("[data-testid=site-file]").count() == 1
