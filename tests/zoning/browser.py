"""Helpers of the zoning pages' browser tests: sign-in and language, console errors, CSP, the map.

The live server commits to the test database and other browser tests share it, so every test
that writes undoes its writes through the API at the end (a revert or a delete is a version
too: the history keeps both).
"""

from __future__ import annotations

import re

from tests.conftest import login

# What the sandbox cannot reach: the online basemap (the page falls back to the city's own
# layers and says so) and /favicon.ico, which templates/base.html does not declare (the lead's).
EXPECTED_FAILURES = ("tile.openstreetmap.org", "tianditu.gov.cn", "autonavi.com", "/favicon.ico")


class Console:
    """Console errors, uncaught exceptions and CSP violations of a page, minus the expected."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("console", self._console)

    def _console(self, message) -> None:
        if message.type != "error":
            return
        where = (message.location or {}).get("url", "")
        text = f"{message.text} ({where})"
        if not any(x in text for x in EXPECTED_FAILURES):
            self.errors.append(text)


def open_page(page, live_url: str, path: str, *, user: str | None = None, english: bool = False) -> Console:
    if english:
        page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_url}])
    console = Console(page)
    if user:
        login(page, live_url, user)
    page.goto(live_url + path)
    return console


def open_editor(page, live_url: str, user: str = "planner", *, english: bool = False) -> Console:
    console = open_page(page, live_url, "/zoning/editor/", user=user, english=english)
    page.wait_for_function("() => Number(document.getElementById('map').dataset.units || 0) > 0", timeout=30000)
    return console


def assert_csp_clean(page) -> None:
    """No inline event handlers; every inline script that runs carries the page's nonce."""
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", page.content(), flags=re.I)
    unnonced = page.evaluate(
        "() => [...document.scripts].filter(s => !s.src && s.type !== 'application/json' && !s.nonce).length"
    )
    assert unnonced == 0


def screen_point(page, lat: float, lon: float) -> tuple[float, float]:
    """Page pixel of a WGS84 point on the page's map (the demo's basemap is not shifted)."""
    return tuple(
        page.evaluate(
            """([lat, lon]) => { const m = window.zoningEditor ? zoningEditor.map : zoningAnalyze.map;
                const p = m.latLngToContainerPoint([lat, lon]); const r = m.getContainer().getBoundingClientRect();
                return [p.x + r.left, p.y + r.top]; }""",
            [lat, lon],
        )
    )


def click_ring(page, x: float, y: float, half: float) -> None:
    """Click a square ring of `half` pixels around (x, y), ending on its first vertex."""
    for dx, dy in [(-half, -half), (half, -half), (half, half), (-half, half), (-half, -half)]:
        page.mouse.click(x + dx, y + dy)
        page.wait_for_timeout(150)


def csrf(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")


def api(page, method: str, path: str, body: dict | None = None):
    """The live server's API as the page's signed-in user (session and CSRF cookie)."""
    headers = {"X-CSRFToken": csrf(page), "Referer": page.url}
    r = page.request.fetch(page.url.split("/zoning/")[0] + path, method=method, data=body, headers=headers)
    return r
