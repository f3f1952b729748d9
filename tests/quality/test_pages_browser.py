"""The stations on the one-map (一张图) and a station's page, in real headless Chromium.

Colours: HJ 633-2012/2026 Appendix A, written out here apart from quality/aqi.py, which the map's
colours come from (through the stations' GeoJSON).
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from .conftest import local, send_hours
from .test_receiving import AIR_HOUR

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

# the highest AQI of each level and its colour (Appendix A's RGB in hex); above 300: maroon
APPENDIX_A = ((50, "#00E400"), (100, "#FFFF00"), (150, "#FF7E00"), (200, "#FF0000"), (300, "#99004C"))
ABOVE_300 = "#7E0023"
NO_DATA = "#9e9e9e"  # static/quality/layer.js: grey without a valid AQI today

# code → the fill of the station's marker, read from the map's layers (the popup names the code)
MARKER_FILLS_JS = """() => {
  const out = {};
  window.gridgovMap.eachLayer((l) => {
    if (!l.options || !/gg-quality-air/.test(l.options.className || "") || !l.getPopup()) return;
    const code = /<code>([^<]+)<\\/code>/.exec(l.getPopup().getContent())[1];
    out[code] = l.getElement().getAttribute("fill");
  });
  return out;
}"""


def level_colour(aqi) -> str:
    if not isinstance(aqi, int):
        return NO_DATA
    return next((colour for upper, colour in APPENDIX_A if aqi <= upper), ABOVE_300)


def test_each_air_station_marker_is_filled_with_its_aqi_level_colour(page, live_url, committed_station, receiver, api):
    # a station of our own with today's first hour (PM2.5 75 → IAQI 114 by HJ 633-2026: 轻度污染,
    # orange), so the map has a known colour whatever time the demo's data end
    st = committed_station("air")
    send_hours(receiver().port, st, "22", {local(timezone.localdate(), 0): dict(AIR_HOUR)})
    features = api.get("/api/quality/stations/", {"kind": "air", "limit": 1000}).json()["features"]
    today = {f["properties"]["code"]: f["properties"]["today"] for f in features}
    assert today[st.code]["aqi"] == 114
    expected = {code: level_colour(t["aqi"] if t else None) for code, t in today.items()}
    assert expected[st.code] == "#FF7E00"

    page.goto(live_url + "/")
    page.wait_for_selector("#map[data-quality-stations]", timeout=20000)
    fills = page.evaluate(MARKER_FILLS_JS)
    assert fills == expected


@pytest.mark.parametrize("code", ["330106A01", "330106W01"])  # quality/demo.py: 西湖区's air station, 西湖
def test_a_station_page_draws_its_hourly_and_daily_charts(page, live_url, code):
    page.goto(f"{live_url}/quality/stations/{code}/")
    for chart in ("chart-hourly", "chart-daily"):
        el = f"[data-testid={chart}]"
        page.wait_for_selector(f"{el}[data-state=ready]", timeout=20000)
        assert int(page.locator(el).get_attribute("data-points")) > 0, chart
        assert page.locator(f"{el} canvas").count() > 0, chart
        box = page.locator(f"{el} canvas").first.bounding_box()
        assert box["width"] > 100 and box["height"] > 100, (chart, box)
