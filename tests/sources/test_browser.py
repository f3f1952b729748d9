"""The enterprise file and the monitoring page in headless Chromium, in Chinese and English,
on the demo (its showcase enterprise: fixed credit code, a recent COD exceedance)."""

from __future__ import annotations

import pytest

from sources.demo import SHOWCASE_CODE
from tests.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def _english(page, base: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": base}])


def test_enterprise_page_for_staff_draws_the_charts_against_the_limit(live_url, page):
    login(page, live_url, "district_supervisor")
    page.goto(f"{live_url}/sources/{SHOWCASE_CODE}/")
    assert page.locator("[data-testid=credit-code]").inner_text() == SHOWCASE_CODE
    assert page.locator("[data-testid=management-class]").inner_text() == "重点管理"
    assert page.locator("[data-testid=exceedance-open]").is_visible()
    # the 24-hour and 30-day charts of the first outlet's factor, from the store
    page.wait_for_selector("[data-testid=chart-24h-DW001][data-state=ready]", timeout=30000)
    page.wait_for_selector("[data-testid=chart-30d-DW001][data-state=ready]", timeout=30000)
    assert int(page.get_attribute("[data-testid=chart-24h-DW001]", "data-points")) >= 1000  # minutes
    assert int(page.get_attribute("[data-testid=chart-30d-DW001]", "data-points")) >= 700  # hours
    page.select_option("[data-testid=factor-select-DW001]", "w01018")
    page.wait_for_selector("[data-testid=chart-30d-DW001][data-state=ready]", timeout=30000)
    assert page.locator("[data-testid=enterprise-cases] tbody tr a").count() >= 1  # the exceedance case
    assert page.locator("[data-testid=credit-block]").is_visible()
    assert page.locator("[data-testid=inspections-block]").is_visible()
    _english(page, live_url)
    page.goto(f"{live_url}/sources/{SHOWCASE_CODE}/")
    assert page.locator("[data-testid=management-class]").inner_text() == "Key management"
    assert "Outlets and online monitoring" in page.content()


def test_enterprise_page_for_the_public_shows_public_fields_only(live_url, page):
    page.goto(f"{live_url}/sources/{SHOWCASE_CODE}/")
    assert page.locator("[data-testid=public-view]").is_visible()
    assert page.locator("[data-testid=permit-number]").inner_text().startswith(SHOWCASE_CODE)
    html = page.content()
    assert "330106DW001" not in html and "123456" not in html  # never MN or PW
    assert page.locator("[data-testid=outlet-DW001]").count() == 0


def test_monitoring_page_for_supervisors(live_url, page):
    login(page, live_url, "city_supervisor")
    page.goto(f"{live_url}/monitoring/")
    total = int(page.locator("[data-testid=logger-total]").inner_text())
    online = int(page.locator("[data-testid=logger-online]").inner_text())
    offline = int(page.locator("[data-testid=logger-offline]").inner_text())
    assert total >= 50 and online + offline == total
    assert page.locator("[data-testid=online-rate]").inner_text().endswith("%")
    assert page.locator("[data-testid=monitoring-cases] tbody tr a").count() >= 1
    assert page.locator("[data-testid=loggers] tbody tr").count() == min(total, 500)
    _english(page, live_url)
    page.goto(f"{live_url}/monitoring/")
    assert "Online rate" in page.content() and "Refused packets" in page.content()


def test_monitoring_page_is_for_supervisors_only(live_url, page):
    page.goto(f"{live_url}/monitoring/")
    assert "/accounts/login/" in page.url
    login(page, live_url, "officer")
    response = page.goto(f"{live_url}/monitoring/")
    assert response.status == 403
