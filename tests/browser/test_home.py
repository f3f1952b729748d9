"""The home page in a real headless browser: the city map draws the districts."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_home_map_draws_the_13_districts(page, live_url):
    page.goto(live_url + "/")
    page.wait_for_selector("#map[data-districts='13']", timeout=20000)
    assert page.locator("path.gg-district").count() >= 13
    assert "杭州市网格一张图" in page.content()
    assert page.locator("[data-testid=district-count]").inner_text() == "13"


def test_clicking_the_map_locates_the_grid_cell(page, live_url):
    page.goto(live_url + "/")
    page.wait_for_selector("#map[data-districts='13']", timeout=20000)
    # Zoom onto West Lake and click the map centre.
    page.evaluate("window.gridgovMap.setView([30.2455, 120.1410], 14, {animate: false})")
    page.locator("#map").click(
        position={
            "x": page.locator("#map").bounding_box()["width"] / 2,
            "y": page.locator("#map").bounding_box()["height"] / 2,
        }
    )
    page.wait_for_function("document.getElementById('locate-result').innerText.includes('西湖区')", timeout=10000)
    assert "网格" in page.locator("[data-testid=locate-result]").inner_text()


def test_the_one_map_shows_the_sources_and_the_quality_stations(page, live_url):
    """一张图 (issues 15 and 17): the enterprises coloured by class and the stations by today's
    level, each a layer the user can switch off; a marker's popup links to its page."""
    page.goto(live_url + "/")
    page.wait_for_selector("#map[data-sources]", timeout=20000)
    page.wait_for_selector("#map[data-quality-stations]", timeout=20000)
    sources = int(page.locator("#map").get_attribute("data-sources"))
    stations = int(page.locator("#map").get_attribute("data-quality-stations"))
    assert sources > 0 and stations > 0
    assert page.locator("path.gg-source").count() == sources
    assert page.locator("path.gg-quality").count() == stations
    # the layer switch: off hides the sources, the stations stay
    page.locator(".leaflet-control-layers-overlays label", has_text="污染源").locator("input").uncheck()
    assert page.locator("path.gg-source").count() == 0 and page.locator("path.gg-quality").count() == stations
