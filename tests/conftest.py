"""Shared fixtures. The whole suite runs against the real PostGIS that `make db` starts.

The test database is created once per run and the Hangzhou demo (real districts, synthetic
townships, cells and people) is loaded into it once; tests run inside transactions that roll
back, so they see the demo and leave it as it was.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
# Playwright's sync API runs an event loop in the test thread; Django's ORM guard would then
# refuse the (synchronous, same-thread) database access of browser tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
DEMO_ACCOUNTS = [
    "city_supervisor",
    "district_supervisor",
    "township_supervisor",
    "officer",
    "planner",
    "responsible_unit",
]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_demo", verbosity=0)


@pytest.fixture
def api(db):
    """An anonymous API client."""
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def user_api(db):
    """Return a factory: user_api("planner") is an APIClient logged in as that demo account."""
    from rest_framework.test import APIClient

    from gridgov.models import User

    def make(username: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(User.objects.get(username=username))
        return client

    return make


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_url(django_db_setup, django_db_blocker) -> str:
    """A real server process serving the test database (with the demo loaded) on loopback.

    pytest-django's live_server flushes the database after each test, which would wipe the
    demo for later tests; a separate process reading the committed test database does not.
    """
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1", "CONN_MAX_AGE": "0"}
    log = open(ROOT / "var" / f"live-server-{port}.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"live server exited; see var/live-server-{port}.log")
            time.sleep(0.2)
    yield base
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _csp_safe_wait_for_function(wait):
    """Playwright polls a plain expression string with eval(), which the pages' Content-Security-
    Policy forbids (no 'unsafe-eval'); a function it calls directly. Turn expressions into
    functions, so every browser test runs under the real policy."""

    def wait_for_function(self, expression, *args, **kwargs):
        text = expression.strip() if isinstance(expression, str) else ""
        if text and "=>" not in text and not text.startswith(("function", "async")):
            expression = f"() => ({text})"
        return wait(self, expression, *args, **kwargs)

    return wait_for_function


def _playwright_under_csp() -> None:
    from playwright.sync_api import Frame, Page

    for cls in (Page, Frame):
        cls.wait_for_function = _csp_safe_wait_for_function(cls.wait_for_function)


_playwright_under_csp()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (its own browser download cannot be reached)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    yield pg
    context.close()


def login(page, base_url: str, username: str, password: str | None = None) -> None:
    """Log a browser page in through the real login form."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password or settings.DEMO_PASSWORD)
    with page.expect_navigation():  # to the page it leads to, loaded (callers go on from there)
        page.click("[data-testid=login-submit]")
    assert "/accounts/login/" not in page.url, f"{username} could not log in"
