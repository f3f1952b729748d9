"""The review queue in a real headless browser: an analyst sees candidates and confirms one."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import login

pytestmark = [pytest.mark.browser]


@pytest.fixture
def fresh_job(django_db_setup, django_db_blocker, tmp_path):
    """A committed job of its own (the live server reads committed data); removed afterwards.
    The patrol case a confirmation opens stays: patrol keeps cases and their audit trail."""
    from geodata import services
    from geodata.demo import make_demo_pair
    from geodata.models import DetectionJob, Scene
    from gridgov.models import User

    with django_db_blocker.unblock():
        meta = make_demo_pair(tmp_path / "pair", size=384, seed=21)
        analyst = User.objects.get(username="imagery_analyst")
        b = services.scene_register(path=meta["before"], acquired=dt.date(2024, 5, 1))
        a = services.scene_register(path=meta["after"], acquired=dt.date(2025, 5, 1))
        job = services.job_run(services.job_create(before=b, after=a, user=analyst, defer=False))
        assert job.candidate_count > 0
    yield job
    with django_db_blocker.unblock():
        DetectionJob.objects.filter(pk=job.pk).delete()
        Scene.objects.filter(pk__in=[b.pk, a.pk]).delete()


def test_analyst_confirms_a_candidate_and_gets_a_case(page, live_url, fresh_job, django_db_blocker):
    login(page, live_url, "imagery_analyst")
    page.goto(f"{live_url}/imagery/?job={fresh_job.pk}&all=1")
    page.wait_for_selector("[data-testid=candidate]")
    assert page.locator("[data-testid=candidate]").count() == min(fresh_job.candidate_count, 20)
    assert "合成" in page.content()
    page.wait_for_selector("#map path.leaflet-interactive", timeout=15000)
    first = page.locator("[data-testid=candidate]").first
    first.locator("[data-testid=confirm]").click()
    link = first.locator("[data-testid=case-link]")
    link.wait_for(timeout=15000)
    case_id = int(link.inner_text().split("#")[1])
    from geodata.models import ChangeCandidate

    with django_db_blocker.unblock():
        c = ChangeCandidate.objects.select_related("issue").get(pk=int(first.get_attribute("data-id")))
    assert c.status == "confirmed" and c.issue_id == case_id and c.issue.source == "imagery"


def test_dismiss_needs_a_reason_in_the_page(page, live_url, fresh_job):
    login(page, live_url, "imagery_analyst")
    page.goto(f"{live_url}/imagery/?job={fresh_job.pk}&all=1")
    item = page.locator("[data-testid=candidate]").first
    item.locator("[data-testid=dismiss]").click()
    assert "理由" in item.locator("[data-testid=candidate-result]").inner_text()
    item.locator("[data-testid=dismiss-reason]").fill("耕地季节性翻耕，非违法")
    item.locator("[data-testid=dismiss]").click()
    page.wait_for_function(
        "document.querySelector('[data-testid=candidate]').dataset.status === 'dismissed'", timeout=10000
    )
