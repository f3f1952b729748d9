"""Pages in headless Chromium, in Chinese and in English: the public plan page (the demo's
last-quarter plan, drawn and public) and the supervisor's editor and draw page (make a plan,
commit, draw, with the messages each step shows), and the officer's task page offline."""

from __future__ import annotations

import pytest

from tests.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def english(page, base):
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": base}])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_public_plan_page(page, live_url, lang):
    if lang == "en":
        english(page, live_url)
    page.goto(f"{live_url}/public/inspections/")
    page.click("[data-testid=public-plans] a >> nth=-1")  # the oldest plan: last quarter's demo plan
    page.wait_for_selector("[data-testid=commitment]")
    assert page.inner_text("[data-testid=algorithm]") == "gridgov-draw-1"
    assert len(page.inner_text("[data-testid=seed-sha256]")) == 64
    assert len(page.inner_text("[data-testid=seed]")) == 64  # public: the period and its deadline are past
    rows = page.locator("[data-testid=public-inspection]")
    assert rows.count() >= 3
    assert page.locator("[data-testid=public-inspection] svg").count() == rows.count()  # one QR each
    text = page.inner_text("main")
    if lang == "zh":
        assert "随机种子" in text and "合格" in text and "未完成" in text
    else:
        assert "Random seed" in text and "Compliant" in text and "Not done" in text and "随机种子" not in text
    page.locator("[data-testid=public-inspection] a.qr").first.click()
    page.wait_for_selector("[data-testid=code-valid]")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_editor_and_draw_page(page, live_url, lang):
    login(page, live_url, "district_supervisor")
    if lang == "en":
        english(page, live_url)
    page.goto(f"{live_url}/inspections/plans/new/")
    page.fill("input[name=name]", f"浏览器测试计划（合成）{lang}")
    page.fill("input[name=period_start]", "2027-01-01")
    page.fill("input[name=period_end]", "2027-03-31")
    page.check("input[name=scope][value='330106']")
    page.fill("[data-testid=pool-ratio-0]", "150")  # 150 %: refused, nothing saved
    page.click("[data-testid=plan-save]")
    page.wait_for_selector("[data-testid=messages]")
    assert ("抽取比例" if lang == "zh" else "Sampling ratio") in page.inner_text("[data-testid=messages]")
    page.fill("input[name=name]", f"浏览器测试计划（合成）{lang}")
    page.fill("input[name=period_start]", "2027-01-01")
    page.fill("input[name=period_end]", "2027-03-31")
    page.check("input[name=scope][value='330106']")
    page.fill("[data-testid=pool-ratio-0]", "10")
    page.click("[data-testid=plan-save]")
    page.wait_for_selector("[data-testid=commit]")
    assert ("计划已保存为草稿" if lang == "zh" else "Plan saved as a draft") in page.inner_text(
        "[data-testid=messages]"
    )
    page.click("[data-testid=commit]")
    page.wait_for_selector("[data-testid=draw]")
    digest = page.inner_text("[data-testid=seed-sha256]")
    assert len(digest) == 64 and digest in page.inner_text("[data-testid=messages]")
    assert ("已承诺" if lang == "zh" else "Committed") in page.inner_text("[data-testid=messages]")
    page.click("[data-testid=draw]")
    page.wait_for_selector("[data-testid=seed]")
    assert ("已抽取" if lang == "zh" else "Drew") in page.inner_text("[data-testid=messages]")
    assert page.locator("[data-testid=inspection-row]").count() >= 1


@pytest.fixture(scope="module")
def officer_task(django_db_setup, django_db_blocker) -> int:
    """A committed, drawn inspection for the demo officer alone (the live server must see it)."""
    from credit.models import CreditStanding
    from gridgov.models import User
    from inspections import services
    from tests.credit.factories import make_enterprise

    from .conftest import plan_body, xihu_townships

    with django_db_blocker.unblock():
        township = list(xihu_townships())[-2]
        firm = make_enterprise(
            7101, cell=township.grid_cells.order_by("code").first(), name="浏览器离线测试企业（合成）"
        )
        # a pool of black-level sources only: ours, whatever else the township holds
        CreditStanding.objects.create(credit_code=firm.credit_code, score=0, level="black", level_since="2026-01-01")
        pools = [{"credit_levels": ["black"], "ratio": "1"}]
        body = plan_body(township.code, pools=pools, inspectors=["officer"], per_inspection=1)
        sup = User.objects.get(username="district_supervisor")
        plan = services.plan_create(actor=sup, **body)
        services.plan_commit(actor=sup, plan_id=plan.pk)
        services.plan_draw(actor=sup, plan_id=plan.pk)
        return plan.inspections.get().pk


def test_mobile_app_lists_the_drawn_task(page, live_url, officer_task, django_db_blocker):
    """The officer's mobile app (/m/, 我的任务) lists the drawn inspection with its enterprise and
    code. Before the offline test below, which records the task's result (it is then no longer open)."""
    from inspections.models import Inspection

    with django_db_blocker.unblock():
        code = Inspection.objects.get(pk=officer_task).code
    login(page, live_url, "officer")
    page.goto(f"{live_url}/m/")
    page.click("[data-testid=tab-tasks]")
    item = f"[data-testid=inspection-tasks] [data-testid=inspection-task][data-id='{officer_task}']"
    page.wait_for_selector(f"{item} [data-testid=record-result]")
    text = page.inner_text(item)
    assert "浏览器离线测试企业（合成）" in text and code in text


def test_tasks_page_queues_offline_and_sends_once(page, live_url, officer_task, django_db_blocker):
    """The officer's task page (the same module the mobile app loads) records a result offline
    and sends it when back online, exactly once."""
    from inspections.models import InspectionResult

    task_id = officer_task
    login(page, live_url, "officer")
    page.goto(f"{live_url}/inspections/tasks/")
    item = f"[data-testid=inspection-task][data-id='{task_id}']"
    page.wait_for_selector(f"{item} [data-testid=record-result]")
    page.context.set_offline(True)
    page.click(f"{item} [data-testid=record-result]")
    page.wait_for_selector(f"{item}[data-state=queued]")
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_selector(f"{item}[data-state=sent]", timeout=30000)
    page.reload()  # sent once: after a reload it is no longer a task, and the queue keeps the record
    page.wait_for_selector(f"{item}[data-state=sent]")
    with django_db_blocker.unblock():
        assert InspectionResult.objects.filter(inspection_id=task_id).count() == 1
