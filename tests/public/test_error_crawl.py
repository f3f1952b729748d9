"""A crawler over the user-facing pages (issue 13, Tests): every demo account and an anonymous
visitor, in Chinese and in English, follow the links from their landing page; each page is also
asked with a query string that is wrong in every parameter the pages read. No page may answer
500, turn into raw JSON, or show a raw code, an internal field name, an exception class or a file
path in what it shows as an error (elements marked as errors or alerts, and the whole page of a
4xx answer that marks no element).
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import Resolver404, resolve

from gridgov.models import User

pytestmark = pytest.mark.django_db

ACCOUNTS = [
    None,
    "city_supervisor",
    "district_supervisor",
    "township_supervisor",
    "officer",
    "planner",
    "responsible_unit",
    "enterprise_contact",  # from the credit demo
]
LANGS = ["zh-hans", "en"]
SEEDS = ["/", "/public/cases/", "/public/report/", "/public/track/"]
# Not pages a user reads: data, downloads, the admin (Django's own), switches and sign-out.
SKIP = ("/static/", "/media/", "/api/", "/tiles/", "/ogc", "/open311/", "/admin/", "/i18n/", "/accounts/logout/")
PER_ROUTE = 2  # pages per URL pattern (a case page stands for all case pages)
BAD_QUERY = (
    "?page=abc&month=2026-13&date_from=not-a-date&date_to=2026-02-30&limit=-1&offset=abc&id=abc"
    "&district=zz&township=zz&status=nope&category=nope&sort=nope&order=nope&q=%25%27"
)

# What an error shown to a user must never contain.
LEAKS = {
    "file path": re.compile(r"(?<![\w:/.])/(?:[A-Za-z_.][\w.\-]*/)+[\w.\-]*|site-packages|Traceback"),
    "exception class": re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)*(?:Error|Exception)\b"),
    "code or field name": re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b"),
}


class _Page(HTMLParser):
    """Links, and the text inside elements marked as errors (class error/errorlist, role=alert,
    a data-testid naming an error), hidden ones included (scripts fill them in later)."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.errors: list[str] = []
        self._stack: list[bool] = []  # per open element: does it mark an error?
        self._skip = 0  # inside <script>/<style>

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag in self.VOID:
            return
        if tag in ("script", "style"):
            self._skip += 1
        classes = (a.get("class") or "").split()
        marks = (
            any(c in ("error", "errorlist", "errornote") for c in classes)
            or a.get("role") == "alert"
            or "error" in (a.get("data-testid") or "")
        )
        if marks:
            self.errors.append("")
        self._stack.append(marks)

    def handle_endtag(self, tag):
        if tag in self.VOID or not self._stack:
            return
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        self._stack.pop()

    def handle_data(self, data):
        if not self._skip and any(self._stack) and self.errors:
            self.errors[-1] += data


def _visible_text(html: str) -> str:
    html = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", html)
    body = re.search(r"(?is)<main\b.*?</main>", html)
    return re.sub(r"<[^>]+>", " ", body.group(0) if body else html)


def _leaks(text: str) -> list[str]:
    return [f"{kind}: {m.group(0)!r}" for kind, rx in LEAKS.items() for m in rx.finditer(text)]


def _route(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.route or match.view_name


def _crawl(client: Client, lang: str, who: str) -> tuple[list[str], int]:
    """Problems found, and how many pages were read."""
    problems: list[str] = []
    seen: set[str] = set()
    per_route: dict[str, int] = {}
    queue = deque(SEEDS)
    pages = 0
    while queue:
        url = queue.popleft()
        path = urlsplit(url).path
        if url in seen or path.startswith(SKIP):
            continue
        seen.add(url)
        route = _route(path)
        if route is None or per_route.get(route, 0) >= PER_ROUTE:
            continue
        per_route[route] = per_route.get(route, 0) + 1
        resp = client.get(url, follow=True)
        final = resp.redirect_chain[-1][0] if resp.redirect_chain else url
        if urlsplit(final).path.startswith(SKIP) or "text/html" not in resp.get("Content-Type", ""):
            continue
        pages += 1
        html = resp.content.decode()
        parser = _Page()
        parser.feed(html)
        for link in parser.links:
            parts = urlsplit(link)
            if not parts.scheme and not parts.netloc and parts.path.startswith("/"):
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
        problems += _check(resp, html, parser, f"{who} {lang} {url}")
        # The same page with every parameter wrong: still a page, with a clean message.
        bad = client.get(urlsplit(final).path + BAD_QUERY)
        where = f"{who} {lang} {urlsplit(final).path}{BAD_QUERY[:20]}…"
        if bad.status_code >= 500:
            problems.append(f"{where}: status {bad.status_code}")
        elif 300 <= bad.status_code < 400:
            pass
        elif "text/html" not in bad.get("Content-Type", ""):
            problems.append(f"{where}: answered {bad.status_code} {bad.get('Content-Type')} instead of a page")
        else:
            bad_parser = _Page()
            bad_html = bad.content.decode()
            bad_parser.feed(bad_html)
            problems += _check(bad, bad_html, bad_parser, where)
    return problems, pages


def _check(resp, html: str, parser: _Page, where: str) -> list[str]:
    if resp.status_code >= 500:
        return [f"{where}: status {resp.status_code}"]
    shown = list(parser.errors)
    if resp.status_code >= 400 and not any(text.strip() for text in shown):
        shown.append(_visible_text(html))  # an error page: all of it is the error
    return [f"{where}: {leak}" for text in shown for leak in _leaks(text)]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("who", ACCOUNTS, ids=lambda w: w or "anonymous")
def test_no_page_shows_internals_in_an_error(lang, who):

    client = Client(raise_request_exception=False)  # a view that raises still answers a page
    client.cookies["django_language"] = lang
    if who:
        client.force_login(User.objects.get(username=who))
    problems, pages = _crawl(client, lang, who or "anonymous")
    assert pages >= 3, f"the crawl read only {pages} pages"
    assert problems == []


@pytest.mark.parametrize("lang", LANGS)
def test_a_failed_sign_in_says_so_plainly(lang):
    client = Client(enforce_csrf_checks=False)
    client.cookies["django_language"] = lang
    resp = client.post("/accounts/login/", {"username": "officer", "password": "wrong"})
    parser = _Page()
    parser.feed(resp.content.decode())
    assert resp.status_code == 200 and parser.errors, "no error shown for a wrong password"
    assert [leak for text in parser.errors for leak in _leaks(text)] == []


def test_imagery_bad_filter_for_a_role_without_access():
    """The role is checked before the filter: the refusal page, not a 500 (found by the crawl)."""
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username="officer"))
    assert client.get("/imagery/?status=nope").status_code == 403
