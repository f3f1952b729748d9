"""The planner's day one on the unit editor, in headless Chromium, in Chinese and in English.

Real mouse work on the Leaflet-Geoman toolbar (cut, draw), the reason dialog, the gap warning,
the import panel; every answer is checked in the database state the API reports afterwards.
The live server commits, so each test undoes its writes (tests/zoning/browser.py).
"""

from __future__ import annotations

import json
import random

import pytest

from zoning.models import ControlUnit

from .browser import api, assert_csp_clean, click_ring, open_editor, screen_point

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

UNITS = "/api/zoning/units/"


def unit_api(page, code: str) -> dict:
    return api(page, "GET", f"{UNITS}{code}/").json()


def history(page, code: str) -> list[dict]:
    return api(page, "GET", f"{UNITS}{code}/history/").json()


def select_and_zoom(page, code: str) -> None:
    page.evaluate(f"zoningEditor.selectCode('{code}')")
    page.evaluate("() => { zoningEditor.map.fitBounds(zoningEditor.selected().getBounds(), {animate: false}); }")
    page.wait_for_timeout(500)


def confirm_reason(page, reason: str) -> None:
    page.wait_for_selector("[data-testid=reason-dialog][open]", timeout=30000)
    page.fill("[data-testid=reason-text]", reason)
    page.click("[data-testid=reason-confirm]")


def saved(page, version: int) -> None:
    page.wait_for_function(
        f"() => document.getElementById('message').innerText.includes({json.dumps(str(version))})", timeout=30000
    )


@pytest.mark.parametrize("english", [False, True], ids=["zh", "en"])
def test_cut_a_hole_see_the_gap_warning_and_the_new_geometry(page, live_url, english):
    code = "ZH33011330001" if not english else "ZH33011330002"
    console = open_editor(page, live_url, english=english)
    inside = ControlUnit.objects.get(code=code).geom.point_on_surface
    before = unit_api(page, code)["properties"]["version"]
    select_and_zoom(page, code)
    page.evaluate(f"() => {{ zoningEditor.map.setView([{inside.y}, {inside.x}], 14, {{animate: false}}); }}")
    page.wait_for_timeout(500)
    cut_title = page.locator(".button-container:has(.leaflet-pm-icon-cut)").get_attribute("title")
    assert cut_title == (
        "Cut a hole: draw the area to remove inside the selected unit"
        if english
        else "挖洞：在选中的单元内画出要挖去的范围"
    )
    page.click(".leaflet-pm-icon-cut")
    x, y = screen_point(page, inside.y, inside.x)
    click_ring(page, x, y, 12)
    page.wait_for_function("() => document.getElementById('message').className.includes('ok')", timeout=10000)
    assert page.evaluate("zoningEditor.selected().feature.properties.code") == code
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=reason-dialog][open]", timeout=30000)
    warning = page.locator("[data-testid=gap-warning]").inner_text()
    assert ("ha" in warning) if english else ("公顷" in warning and "不再属于任何管控单元" in warning)
    assert page.locator("path.zoning-gap").count() == 1  # the gap is drawn on the map too
    confirm_reason(page, "浏览器测试：挖洞（合成）")
    saved(page, before + 1)
    assert "warn" in page.locator("[data-testid=message]").get_attribute("class")
    # The saved version has the hole: its shape changed and it lost area.
    last = history(page, code)[-1]
    assert (last["version"], last["action"], last["reason"]) == (before + 1, "update", "浏览器测试：挖洞（合成）")
    assert last["changes"]["geometry_changed"] and last["changes"]["area_removed_m2"] > 1000
    rings = [len(p) for p in unit_api(page, code)["geometry"]["coordinates"]]
    assert max(rings) == 2  # an outer ring and the hole
    # The history shows local time, as the API gives it.
    assert last["created_at"].endswith("+08:00")
    assert last["created_at"][:16].replace("T", " ") in page.locator("[data-testid=history]").inner_text()
    assert_csp_clean(page)
    # Undo through the history: the hole is filled again and no gap remains.
    page.click(f"[data-testid=revert-{before}]")
    page.wait_for_selector("[data-testid=reason-dialog][open]", timeout=30000)
    assert page.locator("[data-testid=gap-warning]").count() == 0
    confirm_reason(page, "浏览器测试：回退挖洞（合成）")
    saved(page, before + 2)
    assert max(len(p) for p in unit_api(page, code)["geometry"]["coordinates"]) == 1
    assert console.errors == []


def adjacent_pair(district: str) -> tuple[ControlUnit, ControlUnit, object]:
    """Two units of a district that share an edge, and a point on that edge."""
    units = list(ControlUnit.objects.filter(code__startswith=f"ZH{district}").order_by("code"))
    for i, a in enumerate(units):
        for b in units[i + 1 :]:
            edge = a.geom.intersection(b.geom)
            if edge.dims == 1 and edge.length > 0.01:
                return a, b, edge.interpolate_normalized(0.5)
    raise AssertionError(f"no adjacent units in {district}")


@pytest.mark.parametrize("english", [False, True], ids=["zh", "en"])
def test_create_a_new_unit_carved_out_of_its_neighbours(page, live_url, english):
    district = "330114" if not english else "330182"
    a, b, on_edge = adjacent_pair(district)
    code = f"ZH{district}1{random.randint(9000, 9999)}"
    console = open_editor(page, live_url, english=english)
    page.evaluate(f"() => {{ zoningEditor.map.setView([{on_edge.y}, {on_edge.x}], 15, {{animate: false}}); }}")
    page.wait_for_timeout(500)
    page.click(".leaflet-pm-icon-polygon")
    x, y = screen_point(page, on_edge.y, on_edge.x)
    click_ring(page, x, y, 30)
    page.wait_for_selector("[data-testid=unit-form]:not([hidden])", timeout=10000)
    # An unsaved drawing can be discarded, not deleted.
    assert page.locator("[data-testid=delete]").is_hidden() and page.locator("[data-testid=discard]").is_visible()
    page.fill("[data-testid=f-code]", code)
    page.fill("[data-testid=f-name]", "浏览器测试新设保护单元（合成）")
    page.select_option("[data-testid=f-category]", "priority")
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=reason-dialog][open]", timeout=30000)
    carved = page.locator("[data-testid=carved]").inner_text()
    assert a.code in carved and b.code in carved
    # The reason is required and counted.
    page.click("[data-testid=reason-confirm]")
    expected_required = "Please give a reason for the change." if english else "请填写调整说明。"
    assert page.locator("[data-testid=reason-error]").inner_text() == expected_required
    assert page.locator("[data-testid=reason-text]").get_attribute("maxlength") == "2000"
    page.fill("[data-testid=reason-text]", "新设保护单元")
    assert page.locator("[data-testid=reason-count]").inner_text() == (
        "6 / 2000 characters" if english else "6 / 2000 字"
    )
    page.click("[data-testid=reason-confirm]")
    saved(page, 1)
    new = unit_api(page, code)
    assert new["properties"]["version"] == 1 and new["properties"]["category"] == "priority"
    for neighbour in (a, b):
        last = history(page, neighbour.code)[-1]
        assert (last["action"], last["reason"]) == ("update", "新设保护单元")
        assert last["changes"]["area_removed_m2"] > 100 and last["changes"]["area_added_m2"] < 1
    assert page.locator("[data-testid=delete]").is_visible()  # saved now: it can be deleted
    assert_csp_clean(page)
    assert console.errors == []
    # Undo: the new unit goes, the neighbours get their shapes back.
    new_version = new["properties"]["version"]
    assert api(page, "DELETE", f"{UNITS}{code}/", {"base_version": new_version, "reason": "测试清理"}).ok
    for neighbour in (a, b):
        current = unit_api(page, neighbour.code)["properties"]["version"]
        body = {"to_version": current - 1, "base_version": current, "reason": "测试清理"}
        r = api(page, "POST", f"{UNITS}{neighbour.code}/revert/", body)
        assert r.ok and not r.json()["coverage_gap"]["opened"]


def test_delete_warns_of_the_gap_and_cancel_writes_nothing(page, live_url):
    code = "ZH33011230001"
    console = open_editor(page, live_url)
    before = unit_api(page, code)["properties"]["version"]
    select_and_zoom(page, code)
    page.click("[data-testid=delete]")
    page.wait_for_selector("[data-testid=reason-dialog][open]", timeout=30000)
    assert "公顷" in page.locator("[data-testid=gap-warning]").inner_text()  # its whole area
    page.click("[data-testid=reason-cancel]")
    assert page.locator("[data-testid=reason-dialog][open]").count() == 0
    assert page.locator("path.zoning-gap").count() == 0
    assert unit_api(page, code)["properties"]["version"] == before
    assert console.errors == []


def feature_collection(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


@pytest.mark.parametrize("english", [False, True], ids=["zh", "en"])
def test_import_with_a_dry_run_then_confirm(page, live_url, english):
    code = "ZH33012230002" if not english else "ZH33012220002"
    unit = ControlUnit.objects.get(code=code)
    other = ControlUnit.objects.exclude(code=code).filter(code__startswith="ZH330122").first()
    console = open_editor(page, live_url, english=english)
    page.click("[data-testid=import-panel] summary")
    # A file with problems: nothing can be imported, each refusal says why.
    inside = other.geom.point_on_surface
    square = {
        "type": "Polygon",
        "coordinates": [
            [[inside.x + dx, inside.y + dy] for dx, dy in ((0, 0), (0.002, 0), (0.002, 0.002), (0, 0.002), (0, 0))]
        ],
    }
    bad = feature_collection(
        {"type": "Feature", "properties": {"code": "ZH9999", "name": "坏编码"}, "geometry": square},
        {"type": "Feature", "properties": {"code": "ZH33012239901", "name": "重叠（合成）"}, "geometry": square},
    )
    page.set_input_files(
        "[data-testid=import-file]", {"name": "bad.geojson", "mimeType": "application/geo+json", "buffer": bad}
    )
    page.click("[data-testid=import-dry-run]")
    page.wait_for_selector("[data-testid=import-refused]", timeout=60000)
    refused = page.locator("[data-testid=import-refused]").inner_text()
    assert "ZH9999" in refused and other.code in refused
    assert page.locator("[data-testid=import-confirm]").count() == 0
    # A clean file: the unit as it is, renamed; the trial says it updates one unit.
    name = "浏览器测试导入更名（合成）"
    good = feature_collection(
        {"type": "Feature", "properties": {"code": code, "name": name}, "geometry": json.loads(unit.geom.json)}
    )
    page.set_input_files(
        "[data-testid=import-file]", {"name": "good.geojson", "mimeType": "application/geo+json", "buffer": good}
    )
    before = unit_api(page, code)["properties"]["version"]
    page.click("[data-testid=import-dry-run]")
    page.wait_for_selector("[data-testid=import-confirm]", timeout=60000)
    assert code in page.locator("[data-testid=import-updated]").inner_text()
    assert unit_api(page, code)["properties"]["version"] == before  # a trial writes nothing
    page.click("[data-testid=import-confirm]")
    confirm_reason(page, "浏览器测试导入（合成）")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=import-message]').className.includes('ok')", timeout=60000
    )
    after = unit_api(page, code)["properties"]
    assert (after["version"], after["name"]) == (before + 1, name)
    assert history(page, code)[-1]["action"] == "import"
    assert_csp_clean(page)
    assert console.errors == []
    body = {"to_version": before, "base_version": before + 1, "reason": "测试清理"}
    assert api(page, "POST", f"{UNITS}{code}/revert/", body).ok


def test_invalid_geometry_is_shown_on_the_map(page, live_url):
    console = open_editor(page, live_url)
    select_and_zoom(page, "ZH33011130001")
    # Replace the unit's outline with a bow-tie around its own centre.
    page.evaluate("""() => { const l = zoningEditor.selected(); const c = l.getBounds().getCenter(); const d = 0.005;
        l.setLatLngs([[c.lat - d, c.lng - d], [c.lat + d, c.lng + d], [c.lat + d, c.lng - d], [c.lat - d, c.lng + d]]);
        l._zoningEdited = true; }""")
    page.click("[data-testid=save]")
    page.wait_for_selector(".gg-error-marker", timeout=30000)
    assert "Self-intersection" in page.locator(".leaflet-popup-content").inner_text()
    assert page.locator("[data-testid=accept-repair]").count() == 1
    assert page.locator("[data-testid=reason-dialog][open]").count() == 0  # refused before any reason is asked
    # Chromium logs the refused preview (400) as a failed resource: the one expected line.
    assert [e for e in console.errors if "status of 400" not in e] == []
    assert len(console.errors) == 1


def test_planner_marks_an_item_as_forbidding_construction(page, live_url):
    code = "ZH33011130002"
    console = open_editor(page, live_url)
    select_and_zoom(page, code)
    version = int(page.locator("input[name=version]").input_value())
    page.fill("[data-testid=f-bans]", "禁止新建化工项目（浏览器测试，合成）")
    page.click("[data-testid=save]")
    confirm_reason(page, "浏览器测试禁止建设")
    saved(page, version + 1)
    items = unit_api(page, code)["properties"]["access_list"]
    assert {"dimension": "spatial", "text": "禁止新建化工项目（浏览器测试，合成）", "forbids_construction": True} in [
        {k: i[k] for k in ("dimension", "text", "forbids_construction")} for i in items
    ]
    page.click(f"[data-testid=revert-{version}]")
    confirm_reason(page, "浏览器测试回退")
    saved(page, version + 2)
    assert page.locator("[data-testid=f-bans]").input_value() == ""
    assert console.errors == []


@pytest.mark.parametrize("english", [False, True], ids=["zh", "en"])
def test_supervisor_views_read_only_with_legend_and_toolbar_language(page, live_url, english):
    console = open_editor(page, live_url, "city_supervisor", english=english)
    assert page.locator("[data-testid=read-only]").count() == 1
    assert page.locator(".leaflet-pm-toolbar").count() == 0
    assert page.locator("[data-testid=import-panel]").count() == 0
    legend = page.locator("[data-testid=legend]").inner_text()
    words = (
        ("Priority protection unit", "Key control unit", "General control unit", "Ecological red line")
        if english
        else (
            "优先保护单元",
            "重点管控单元",
            "一般管控单元",
            "生态保护红线",
        )
    )
    assert all(w in legend for w in words)
    page.evaluate("zoningEditor.selectCode('ZH33010630001')")
    assert page.locator("[data-testid=save]").count() == 0
    page.wait_for_selector("[data-testid=history] li", timeout=10000)
    # the oldest entry (newest first; other browser tests may have added versions since)
    entry = page.locator("[data-testid=history] li").last.inner_text()
    assert ("Version 1" in entry and "Create" in entry) if english else ("第 1 版" in entry and "新增" in entry)
    assert_csp_clean(page)
    assert console.errors == []


@pytest.mark.parametrize("english", [False, True], ids=["zh", "en"])
def test_the_planner_s_toolbar_speaks_the_page_s_language(page, live_url, english):
    open_editor(page, live_url, english=english)
    title = page.locator(".button-container:has(.leaflet-pm-icon-edit)").get_attribute("title")
    assert title == ("Edit vertices" if english else "编辑节点")
    rectangle = page.locator(".button-container:has(.leaflet-pm-icon-rectangle)").get_attribute("title")
    assert rectangle == ("Draw a new unit or site (rectangle)" if english else "绘制新单元或选址（矩形）")
