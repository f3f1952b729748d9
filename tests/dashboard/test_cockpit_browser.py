"""The cockpit and the monthly 通报 in real headless Chromium, in Chinese and in English, on the
demo history (loaded for the test database by tests/conftest.py), with no console error.

The PDF is made by the worker: the test starts the real worker program (procrastinate, one
shot) against the test database once the progress page has queued the rendering.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings

from dashboard.filters import last_month
from gridgov.models import AdminArea
from tests.conftest import ROOT, login

pytestmark = [pytest.mark.browser]

LANGUAGES = {
    "zh-hans": {"closure": "结案率", "todo": "我的待办", "report": "生态环境网格化监管月度通报", "cases": "典型案例"},
    "en": {
        "closure": "Closure rate",
        "todo": "My to-do",
        "report": "Monthly report on ecological and environmental grid supervision",
        "cases": "Typical cases",
    },
}
HAN = re.compile(r"[\u4e00-\u9fff]")


def _context(browser, live_url, lang):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900}, accept_downloads=True)
    if lang == "en":
        context.add_cookies([{"name": "django_language", "value": "en", "url": live_url}])
    # Basemap servers are out of reach here: abort them at once rather than wait on DNS.
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(live_url) else route.abort())
    return context


def _watch(page, live_url) -> list[str]:
    """Console errors and uncaught exceptions of the page (not the aborted basemap requests)."""
    problems: list[str] = []

    def console(m):
        if m.type == "error" and (m.location or {}).get("url", "").startswith(live_url):
            problems.append(f"{m.text} @ {m.location}")

    page.on("console", console)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    return problems


@pytest.mark.django_db
@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_cockpit_first_screen(browser, live_url, lang):
    words = LANGUAGES[lang]
    context = _context(browser, live_url, lang)
    page = context.new_page()
    problems = _watch(page, live_url)
    login(page, live_url, "district_supervisor")
    page.goto(live_url + "/dashboard/")
    page.wait_for_selector("#kpis[data-loaded='1']", timeout=30000)
    closure = page.locator("[data-testid=kpi-closure_rate]").inner_text()
    assert words["closure"] in closure and "%" in closure
    assert page.locator("[data-testid=kpis] .kpi").count() == 5
    # Last month is full: the charts have points and the district's townships are ranked.
    for chart in ("chart-trend", "chart-category", "chart-source", "chart-close"):
        page.wait_for_selector(f"#{chart}[data-points]", timeout=30000)
        assert int(page.locator(f"#{chart}").get_attribute("data-points")) > 0, chart
    page.wait_for_selector("#ranking[data-level='township'] table", timeout=30000)
    towns = AdminArea.objects.filter(parent__code="330106").count()
    assert page.locator("#ranking tr[data-code]").count() == towns
    # 我的待办: the district supervisor has cases waiting, each a link to its case.
    assert words["todo"] in page.locator("[data-testid=todo]").inner_text()
    page.wait_for_selector("#todo-list[data-count]", timeout=30000)
    assert int(page.locator("#todo-list").get_attribute("data-count")) > 0
    assert page.locator("#todo-list a[href^='/patrol/']").count() > 0
    # Environmental quality beside the case ranking: the district supervisor's district, ranked
    # among all 13 on each figure.
    quality = page.locator("[data-testid=quality] tr[data-district]")
    assert quality.count() == 1 and quality.get_attribute("data-district") == "330106"
    assert re.fullmatch(r"\d+", page.locator("[data-testid=rank-330106]").inner_text().split()[0])
    # The map opens on the district, its townships drawn.
    page.wait_for_selector("#map[data-features]:not([data-loading='1'])", timeout=30000)
    assert page.locator("#map").get_attribute("data-level") == "township"
    if lang == "en":
        for testid in ("kpis", "status-legend", "layers"):
            text = page.locator(f"[data-testid={testid}]").inner_text()
            assert not HAN.search(text.replace("（合成）", "")), (testid, text)
        quality = page.locator("[data-testid=quality] h2, [data-testid=quality] thead").all_inner_texts()
        assert len(quality) == 2 and not [t for t in quality if HAN.search(t)], quality
    assert problems == []
    context.close()


@pytest.fixture(scope="module")
def worker_env(live_url):
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return {**os.environ, "DATABASE_URL": url}


def _run_worker(env):
    """The real worker program, once: it takes the queued rendering and exits."""
    subprocess.run(
        [sys.executable, "manage.py", "procrastinate", "worker", "--one-shot", "--queues", "reports"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
        capture_output=True,
    )


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_monthly_report_html_and_pdf(browser, live_url, worker_env, lang, tmp_path):
    words = LANGUAGES[lang]
    period = last_month()
    context = _context(browser, live_url, lang)
    page = context.new_page()
    problems = _watch(page, live_url)
    login(page, live_url, "city_supervisor")
    page.goto(f"{live_url}/reports/monthly/{period}.html")
    assert page.locator("h1").inner_text() == words["report"]
    docno = page.locator("[data-testid=document-number]").inner_text()
    assert period[:4] in docno
    assert int(page.locator("[data-testid=key-figures] td.v").first.inner_text()) > 0
    assert page.locator("[data-testid=ranking] tr").count() == 14  # header + the 13 districts
    # Environmental quality (issue 17) right after the case ranking, in section 二: one row per
    # district (the demo has stations in all 13), each figure with its rank and its change.
    quality = page.locator("[data-testid=quality-district-table]")
    assert quality.locator("tbody tr[data-district]").count() == 13
    assert quality.locator("thead tr").nth(1).locator("th").count() == 13  # value, rank, change per figure
    html = page.content()
    assert html.index('data-testid="ranking"') < html.index('data-testid="quality-district-table"')
    assert html.index('data-testid="quality-district-table"') < html.index('class="maps"')
    assert words["cases"] in page.content()
    assert page.locator("[data-testid=typical-case]").count() > 0
    assert page.locator("[data-testid=photo-before]").count() > 0
    assert page.locator("[data-testid=synthetic-note]").is_visible()
    if lang == "en":
        # Names of places and people and the published case texts stay Chinese (they are
        # data); the document's own words do not.
        headings = page.locator("h1, h2, th, figcaption, h3[data-testid=quality]").all_inner_texts()
        assert headings and not [h for h in headings if HAN.search(h)]
    # The PDF: the progress page queues it, the worker makes it, the page downloads it.
    page.goto(f"{live_url}/reports/monthly/{period}.pdf")
    page.wait_for_selector("[data-testid=report-progress]")
    _run_worker(worker_env)
    with page.expect_download(timeout=60000) as info:
        page.wait_for_selector("#report-done:not([hidden])", timeout=60000)
    pdf = tmp_path / "report.pdf"
    info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert problems == []
    context.close()


def test_a_month_with_no_data_says_so(browser, live_url):
    context = _context(browser, live_url, "zh-hans")
    page = context.new_page()
    problems = _watch(page, live_url)
    login(page, live_url, "city_supervisor")
    page.goto(f"{live_url}/reports/monthly/2001-01.html")
    assert "暂无案件数据" in page.locator("[data-testid=empty-month]").inner_text()
    assert problems == []
    # A wrong month: a page naming the field (its 400 is the one console line Chromium logs).
    page.goto(f"{live_url}/reports/monthly/2001-13.html")
    assert "统计月份应为 YYYY-MM" in page.locator("body").inner_text()
    assert [p.split(" @ ")[0] for p in problems] == [
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]
    context.close()
