"""The dashboard in a real headless browser, as the demo district supervisor (西湖区)."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import load_workbook

from tests.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def open_dashboard(page, live_url):
    login(page, live_url, "district_supervisor")
    page.goto(live_url + "/dashboard/")
    page.wait_for_selector("#map[data-features]:not([data-loading='1'])", timeout=20000)
    page.wait_for_selector("#map[data-heat-total]", timeout=20000)


def test_district_supervisor_sees_only_their_district(page, live_url, synthetic_cases):
    from gridgov.models import AdminArea
    from patrol.models import Issue

    open_dashboard(page, live_url)
    towns = AdminArea.objects.filter(parent__code="330106").count()
    assert page.locator("#map").get_attribute("data-level") == "township"
    assert int(page.locator("#map").get_attribute("data-features")) == towns
    assert page.locator("[data-testid=district-filter] option").all_inner_texts() == ["西湖区"]
    assert "西湖区" in page.locator("[data-testid=crumbs]").inner_text()
    assert page.locator("[data-testid=legend]").is_visible()
    # Zoom out to the whole city: the heat map still counts only 西湖区 cases.
    page.evaluate("window.dashboardMap.setView([29.95, 119.55], 8, {animate: false})")
    page.wait_for_timeout(300)
    in_district = Issue.objects.filter(district__code="330106").count()
    page.wait_for_function(f"document.getElementById('map').dataset.heatTotal === '{in_district}'", timeout=15000)
    assert Issue.objects.exclude(district__code="330106").exists()
    # The ranking lists the district's townships only.
    page.wait_for_selector("[data-testid=ranking] table", timeout=15000)
    assert "上城" not in page.locator("[data-testid=ranking]").inner_text()


def test_drill_down_to_a_grid_cell_and_list_its_cases(page, live_url, synthetic_cases):
    open_dashboard(page, live_url)
    page.locator("path.dash-area").first.click(force=True)
    page.wait_for_selector("#map[data-level='grid']:not([data-loading='1'])", timeout=20000)
    crumbs = page.locator("[data-testid=crumbs]").inner_text()
    assert "›" in crumbs and "街道" in crumbs
    page.wait_for_function("document.getElementById('cases').dataset.count !== undefined", timeout=15000)
    # A grid cell: the case list names it and the map stays at grid level.
    cells = page.locator("path.dash-area")
    assert cells.count() > 1
    cells.nth(0).click(force=True)
    page.wait_for_function("document.getElementById('cases-title').innerText.includes('网格')", timeout=15000)
    assert page.locator("#map").get_attribute("data-level") == "grid"


def test_export_xlsx_and_report_links(page, live_url, synthetic_cases, tmp_path):
    open_dashboard(page, live_url)
    since = (dt.date.today() - dt.timedelta(days=365)).isoformat()
    page.fill("input[name=since]", since)
    page.locator("input[name=since]").dispatch_event("change")
    with page.expect_download(timeout=30000) as info:
        page.click("[data-testid=export-xlsx]")
    path = tmp_path / "cases.xlsx"
    info.value.save_as(path)
    rows = list(load_workbook(path).active.values)
    assert rows[0][0] == "编号" and "验收时间" in rows[0]
    assert len(rows) > 1 and all(str(r[7]) == "330106" for r in rows[1:])
    # The 通报 links follow the month chosen (the PDF itself: test_cockpit_browser.py).
    period = page.locator("#report-month").input_value()
    assert page.locator("[data-testid=report-pdf]").get_attribute("href").endswith(f"/reports/monthly/{period}.pdf")


def test_layer_switches(page, live_url, synthetic_cases):
    open_dashboard(page, live_url)
    labels = page.locator("[data-testid=layers]").inner_text()
    for label in ("分级设色", "热力图", "案件（按状态）", "网格"):
        assert label in labels
    if page.locator("[data-testid=layer-candidates]").count():
        page.check("[data-testid=layer-candidates]")
        page.wait_for_selector("#map[data-candidates]", timeout=15000)
    page.uncheck("[data-layer=choropleth]")
    assert page.locator("path.dash-area").count() == 0
    page.check("[data-layer=choropleth]")
    assert page.locator("path.dash-area").count() > 0
