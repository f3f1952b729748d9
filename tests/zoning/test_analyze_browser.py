"""The site analysis page in headless Chromium, in Chinese and in English: a drawn site, its
verdict, the table with the areas the API wrote, the legend, the report in a new window with its
own link; uploads offered only after sign-in. Nothing here writes zoning data."""

from __future__ import annotations

import pytest

from .browser import api, assert_csp_clean, open_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

# A 1 km square in the West Lake hills: the demo's red line covers part of it (zoning demo data).
SITE = [[30.215, 120.115], [30.225, 120.115], [30.225, 120.125], [30.215, 120.125]]
GEOMETRY = {"type": "Polygon", "coordinates": [[[lon, lat] for lat, lon in SITE + SITE[:1]]]}


def open_analyze(page, live_url, *, user=None, english=False):
    console = open_page(page, live_url, "/zoning/analyze/", user=user, english=english)
    page.wait_for_function(
        "() => window.zoningAnalyze && document.querySelectorAll('path.leaflet-interactive').length > 10",
        timeout=30000,
    )
    return console


def draw_site(page) -> None:
    page.evaluate(
        """(site) => { const m = zoningAnalyze.map; const l = L.polygon(site).addTo(m); zoningAnalyze.setSite(l); }""",
        SITE,
    )


@pytest.mark.parametrize("english", [False, True], ids=["zh", "en"])
def test_a_drawn_site_gets_its_verdict_table_and_report(page, live_url, english):
    console = open_analyze(page, live_url, user="officer", english=english)
    legend = page.locator("[data-testid=legend]").inner_text()
    words = ("Site", "Ecological red line") if english else ("选址范围", "生态保护红线")
    assert all(w in legend for w in words)
    draw_site(page)
    page.click("[data-testid=run-analysis]")
    page.wait_for_selector("[data-testid=verdict]", timeout=30000)
    # What the API answers for the same site as the same user, in the same language.
    expected = api(page, "POST", "/api/zoning/analyze/", {"geometry": GEOMETRY, "crs": "wgs84"}).json()
    assert expected["verdict_key"] == "fail" and expected["red_line_conflict"]
    verdict = page.locator("[data-testid=verdict]")
    assert verdict.inner_text() == ("Fails" if english else "判定不通过")
    assert "v-fail" in verdict.get_attribute("class")
    assert page.locator("[data-testid=site-area]").inner_text() == expected["site_area"]["text"]
    assert ("ha" in expected["site_area"]["text"]) if english else ("公顷" in expected["site_area"]["text"])
    rows = page.locator("[data-testid=overlaps] tr[data-code]")
    assert rows.count() == len(expected["overlaps"]) > 0
    for o in expected["overlaps"]:
        cells = page.locator(f"[data-testid=overlaps] tr[data-code='{o['code']}'] td").all_inner_texts()
        assert cells[3:] == [o["area"]["m2"], o["area"]["ha"], o["area"]["mu"], o["share"]]
    assert_csp_clean(page)
    page.fill("[data-testid=report-project]", "浏览器测试项目（合成）")
    with page.context.expect_page() as report_info:
        page.click("[data-testid=report-html]")
    report = report_info.value
    report.wait_for_selector("[data-testid=report-verdict]", timeout=60000)
    assert report.locator("[data-testid=report-verdict]").inner_text() == verdict.inner_text()
    assert report.locator("img.map").get_attribute("src").startswith("data:image/png;base64,")
    # The report's address is its own link: opened again it shows the same report.
    token = report.locator("[data-testid=report-id]").inner_text()
    assert report.url.endswith(f"/zoning/analyze/report/?id={token}")
    again = page.context.new_page()
    again.goto(report.url)
    assert again.locator("[data-testid=report-id]").inner_text() == token
    assert "浏览器测试项目（合成）" in again.content()
    assert console.errors == []


def test_uploads_are_offered_only_after_sign_in(page, live_url):
    console = open_analyze(page, live_url)
    assert page.locator("[data-testid=site-file]").count() == 0
    assert page.locator("[data-testid=site-file-login]").count() == 1
    assert page.locator(".button-container:has(.leaflet-pm-icon-rectangle)").get_attribute("title") == (
        "绘制新单元或选址（矩形）"
    )
    assert console.errors == []
    open_analyze(page, live_url, user="officer")
    assert page.locator("[data-testid=site-file]").count() == 1
    assert_csp_clean(page)
