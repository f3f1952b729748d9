"""Issue 15's "Done when", end to end with nothing stubbed:

A district supervisor registers an enterprise with an outlet through the HTTP API (a real
server process), a logger on loopback sends an hour of COD above the limit over TCP to the
real receiver, the judging job runs (the function the every-minute task calls), and within two
minutes of the hour's last packet the case is in the township's queue (GET
/api/patrol/issues/?source=online_monitoring, theirs to verify) with the chart on its page,
/patrol/<id>/ (headless Chromium). GET /api/patrol/tasks/ ("my tasks") is not that queue: it
lists work assigned or submitted, and a case waiting to be verified is neither.

Everything here is committed, as in production: the enterprise lies in 西湖第2街道 (合成),
a township the other tests leave alone, and its supervisor is an account of this test.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
import uuid

import pytest
import requests
from django.conf import settings
from django.utils import timezone

from gridgov.models import AdminArea, GridCell, Role, User
from monitoring.management.commands.hj212_receiver import database_dsn
from monitoring.services import monitoring_tick
from monitoring.simulator import Client, SimLogger
from tests.conftest import login
from tests.monitoring.receiving import ReceiverThread, committed

from .conftest import credit_code, inside

TOWNSHIP = "330106002"
JOB_PERIOD_S = 60  # the judging job's period (monitoring/tasks.py)
# django_db makes pytest-django set up the test database (the server and the receiver use it);
# the writes this test commits run in threads of their own, outside the test's transaction.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def make_watcher() -> User:
    watcher, _ = User.objects.get_or_create(
        username="e2e_township_2",
        defaults={"role": Role.TOWNSHIP_SUPERVISOR, "first_name": "西湖第2街道网格长（测试）"},
    )
    watcher.set_password(settings.DEMO_PASSWORD)
    watcher.save()
    watcher.scope.set(AdminArea.objects.filter(code=TOWNSHIP))
    return watcher


def send(port: int, frames: list[tuple[str, bytes]]) -> None:
    """Send frames as a logger does and wait until every one is answered (stored)."""
    client = Client("127.0.0.1", port, resend_after=5)
    client.submit(frames)
    # in a thread of its own: Playwright's sync API already runs an event loop in this one
    sender = threading.Thread(target=lambda: asyncio.run(client.run(until=time.monotonic() + 60)))
    sender.start()
    sender.join()
    assert client.done and len(client.stats.answered) == len(frames)


def token(base: str, username: str, password: str) -> str:
    r = requests.post(f"{base}/api/auth/token/", json={"username": username, "password": password}, timeout=30)
    r.raise_for_status()
    return r.json()["token"]


def test_supervisor_registers_logger_sends_case_in_township_queue(live_url, page):
    cell = GridCell.objects.filter(township__code=TOWNSHIP).order_by("code").first()
    committed(make_watcher)
    lat, lon = inside(cell)
    code = credit_code("91330106MA3")
    mn = f"E2E{uuid.uuid4().hex[:12].upper()}"

    # 1. the district supervisor registers the enterprise and its outlet
    sup = {"Authorization": f"Token {token(live_url, 'district_supervisor', settings.DEMO_PASSWORD)}"}
    body = {
        "credit_code": code,
        "name": f"西湖示范印染有限公司{code[-4:]}（合成）",
        "industry_code": "1713",
        "management_class": "key",
        "lat": lat,
        "lon": lon,
        "permit": {"number": code + "001P", "valid_from": "2024-01-01", "valid_to": "2028-12-31"},
    }
    r = requests.post(f"{live_url}/api/sources/enterprises/", json=body, headers=sup, timeout=60)
    assert r.status_code == 201, r.text
    assert r.json()["township"]["code"] == TOWNSHIP
    outlet = {"code": "DW001", "lat": lat, "lon": lon, "mn": mn, "password": "pw2017", "limits": {"w01018": 50}}
    r = requests.post(f"{live_url}/api/sources/enterprises/{code}/outlets/", json=outlet, headers=sup, timeout=60)
    assert r.status_code == 201, r.text

    # 2. the logger sends the last complete hour of COD above the limit, minute by minute: the
    # first 59 minutes, then the one that completes the hour. The clock starts before that last
    # packet is sent, so what is measured includes its trip through the receiver and the store.
    receiver = ReceiverThread(database_dsn()).start()
    try:
        hour = timezone.localtime().replace(minute=0, second=0, microsecond=0, tzinfo=None) - dt.timedelta(hours=1)
        logger = SimLogger(mn=mn, pw="pw2017")
        frames = [logger.minute_frame(hour + dt.timedelta(minutes=m), values={"w01018": 80.0}) for m in range(60)]
        send(receiver.port, frames[:59])
        last_packet_at = time.monotonic()
        send(receiver.port, frames[59:])

        # 3. the every-minute job judges the hour and opens the case
        summary = committed(monitoring_tick)
        assert summary["exceeded"] >= 1
    finally:
        receiver.stop()

    # 4. the case is in the township's queue, naming the MN and the factor
    queue = {"Authorization": f"Token {token(live_url, 'e2e_township_2', settings.DEMO_PASSWORD)}"}
    fc = requests.get(
        f"{live_url}/api/patrol/issues/",
        params={"source": "online_monitoring", "status": "reported"},
        headers=queue,
        timeout=60,
    ).json()
    mine = [f for f in fc["features"] if f["properties"]["responsible_unit"] == body["name"]]
    # The job runs once a minute (monitoring/tasks.py: cron "* * * * *") and this test calls it
    # at once, so the case may come up to a minute later than measured here: what is measured,
    # packet to case in the queue, must leave that minute within the two.
    took = time.monotonic() - last_packet_at
    assert len(mine) == 1, fc
    assert took + JOB_PERIOD_S <= 120, f"case {took:.1f}s after the hour's last packet, plus up to {JOB_PERIOD_S}s"
    case_id = mine[0]["id"]
    detail = requests.get(f"{live_url}/api/patrol/issues/{case_id}/", headers=queue, timeout=60).json()["properties"]
    assert detail["source"] == "online_monitoring" and detail["township"] == TOWNSHIP
    assert f"MN {mn}" in detail["description"] and "w01018" in detail["description"]
    assert "小时均值 80 mg/L" in detail["description"] and detail["responsible_unit"] == body["name"]
    # the township's to verify (核实立案): the first step of the closed loop is theirs
    assert detail["status"] == "reported" and "verify" in detail["allowed_actions"]
    print(f"case #{case_id} in the township's queue {took:.1f}s after the hour's last packet was sent")

    # 5. its page, with the chart of the series
    login(page, live_url, "e2e_township_2")
    page.goto(f"{live_url}/patrol/{case_id}/")
    page.wait_for_selector("[data-gg-case-chart][data-state=ready]", timeout=30000)
    assert page.get_attribute("[data-testid=issue-status]", "data-status") == "reported"
    assert page.locator("[data-testid=form-verify]").count() == 1
    assert page.locator("[data-testid=responsible-unit]").inner_text() == body["name"]
    chart = page.locator("[data-gg-case-chart]")
    assert chart.get_attribute("data-kind") == "exceedance"
    assert int(chart.get_attribute("data-points")) >= 1 and chart.get_attribute("data-exceeded") == "1"
    assert page.locator("[data-testid=case-chart] canvas").count() >= 1
    assert mn in page.locator(".case-chart-caption").inner_text()
    # and on the chart's own page (sources/case_chart_page.html)
    page.goto(f"{live_url}/sources/cases/{case_id}/chart/")
    page.wait_for_selector("[data-gg-case-chart][data-state=ready]", timeout=30000)
    assert page.get_attribute("[data-gg-case-chart]", "data-exceeded") == "1"
