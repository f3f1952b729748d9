"""Content-Security-Policy: every page runs under it without a violation (issue 12 §8)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from gridgov.models import User
from tests.conftest import login

pytestmark = pytest.mark.django_db

PAGES = ["/", "/dashboard/", "/patrol/", "/m/", "/zoning/editor/", "/zoning/analyze/", "/imagery/", "/api/docs/"]
ADMIN_PAGES = ["/admin/", "/admin/gridgov/gridcell/", "/admin/patrol/category/"]


def policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split(" ", 1)[1] for d in header.split("; ")}


def test_the_policy_allows_scripts_only_from_here_or_with_the_nonce():
    r = Client().get("/")
    p = policy(r)
    nonce = re.fullmatch(r"'self' 'nonce-([\w-]+)'", p["script-src"]).group(1)
    assert p["object-src"] == "'none'" and p["frame-ancestors"] == "'none'" and p["base-uri"] == "'self'"
    assert "unsafe-inline" not in p["script-src"] and "unsafe-eval" not in p["script-src"]
    # A new nonce for every response.
    assert nonce not in Client().get("/")["Content-Security-Policy"]


@pytest.mark.parametrize("path", PAGES + ADMIN_PAGES)
def test_every_inline_script_carries_the_nonce_and_no_element_an_inline_handler(path):
    client = Client()
    client.force_login(User.objects.get(username="city_supervisor"))
    r = client.get(path)
    assert r.status_code == 200
    html = r.content.decode()
    nonce = re.search(r"'nonce-([\w-]+)'", r["Content-Security-Policy"]).group(1)
    for tag in re.findall(r"<script\b[^>]*>", html):
        if "src=" in tag or 'type="application/json"' in tag:
            continue
        assert f'nonce="{nonce}"' in tag, tag
    assert not re.search(r"<[^>]+\son(click|change|load|submit|input)\s*=", html)
    assert "javascript:" not in html


@pytest.mark.browser
def test_pages_show_no_csp_violation_in_chromium(browser, live_url):
    context = browser.new_context(locale="zh-CN")
    # Tile servers are out of reach here: abort them at once rather than wait on DNS.
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(live_url) else route.abort())
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    login(page, live_url, "city_supervisor")
    for path in PAGES + ADMIN_PAGES:
        page.goto(live_url + path)
        page.wait_for_load_state("networkidle")
        assert not problems, (path, problems)
    context.close()


TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)([^>]*)>", re.I)
INLINE_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)


@pytest.mark.parametrize("template", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html")))
def test_no_template_has_an_inline_script_without_the_nonce_or_an_inline_handler(template):
    """Every template, not only the pages the crawl above reaches: a new app's page cannot slip
    an inline script or `onclick=` past the policy (the browser would refuse to run it)."""
    text = (TEMPLATES / template).read_text()
    for match in INLINE_SCRIPT.finditer(text):
        assert "csp_nonce" in match.group(1), f"{template}: inline <script> without nonce"
    assert not INLINE_HANDLER.search(text), f"{template}: inline event handler"
