"""Intranets without internet (issue 13 §1): the API docs are served from here, and maps draw
the city's own layers with a notice when the basemap cannot be reached."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_api_docs_load_swagger_ui_from_our_static_files():
    page = Client().get("/api/docs/").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert "/static/vendor/swagger-ui-dist-5.35.0/swagger-ui-bundle.js" in assets
    assert "/static/vendor/swagger-ui-dist-5.35.0/swagger-ui.css" in assets
    assert all(a.startswith("/") and not a.startswith("//") for a in assets), assets
    assert "cdn" not in page and "@latest" not in page
    # The set-up script comes from the same view (?script), not inline.
    script = Client().get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


def block_the_internet(context, base: str) -> list[str]:
    """Abort every request that is not to our server; return the list of blocked URLs."""
    blocked = []

    def route(r):
        if r.request.url.startswith(base):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    return blocked


@pytest.mark.browser
def test_api_docs_render_with_the_network_blocked(browser, live_url):
    context = browser.new_context()
    blocked = block_the_internet(context, live_url)
    page = context.new_page()
    page.goto(live_url + "/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30000)
    assert "GridGov API" in page.locator(".swagger-ui .title").inner_text()
    assert page.locator(".swagger-ui .opblock").count() > 20
    assert blocked == []
    context.close()


@pytest.mark.browser
def test_without_a_basemap_the_map_draws_the_city_and_says_so(browser, live_url):
    context = browser.new_context(locale="zh-CN")
    blocked = block_the_internet(context, live_url)
    page = context.new_page()
    page.goto(live_url + "/")
    notice = page.wait_for_selector("[data-testid=basemap-notice]", timeout=30000)
    assert "底图不可用" in notice.inner_text()
    # Districts and the water zones drawn as the basemap, in their own pane under the overlays.
    page.wait_for_selector("#map[data-city-layers='2']", state="attached", timeout=30000)
    assert page.locator(".leaflet-ggCityBase-pane path").count() >= 13
    assert page.locator("#map").get_attribute("data-basemap") == "city"
    assert blocked and all("tile.openstreetmap.org" in u for u in blocked)
    # The failing basemap is dropped: no more tile requests after the fallback.
    before = len(blocked)
    page.evaluate("window.gridgovMap.setZoom(11)")
    page.wait_for_timeout(1500)
    assert len(blocked) == before
    context.close()


@pytest.mark.browser
def test_the_notice_is_in_english_in_english_mode(browser, live_url):
    context = browser.new_context()
    block_the_internet(context, live_url)
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_url}])
    page = context.new_page()
    page.goto(live_url + "/")
    notice = page.wait_for_selector("[data-testid=basemap-notice]", timeout=30000)
    assert notice.inner_text().startswith("Basemap unavailable")
    context.close()
