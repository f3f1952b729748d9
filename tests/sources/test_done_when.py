"""Issue 15's "Done when", end to end with nothing stubbed:

A district supervisor registers an enterprise with an outlet through the HTTP API (a real
server process), a logger on loopback sends an hour of COD above the limit over TCP to the
real receiver, the judging job runs (the function the every-minute task calls), and the case
is in the township's queue (GET /api/patrol/issues/?source=online_monitoring) with the chart
on its page (headless Chromium).

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
from django.db import connection

from gridgov.models import AdminArea, GridCell, Role, User
from monitoring.management.commands.hj212_receiver import database_dsn
from monitoring.services import monitoring_tick
from monitoring.simulator import Client, SimLogger
from tests.conftest import login
from tests.monitoring.receiving import ReceiverThread

from .conftest import credit_code, inside

TOWNSHIP = "330106002"
# django_db makes pytest-django set up the test database (the server and the receiver use it);
# the writes this test commits run in threads of their own, outside the test's transaction.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def committed(fn):
    """Run fn on a connection of its own (a thread), so that what it writes is committed."""
    out: list = []

    def run():
        try:
            out.append(fn())
        finally:
            connection.close()

    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert out, "the committed write failed (see the log)"
    return out[0]


def make_watcher() -> User:
    watcher, _ = User.objects.get_or_create(
        username="e2e_township_2",
        defaults={"role": Role.TOWNSHIP_SUPERVISOR, "first_name": "西湖第2街道网格长（测试）"},
    )
    watcher.set_password(settings.DEMO_PASSWORD)
    watcher.save()
    watcher.scope.set(AdminArea.objects.filter(code=TOWNSHIP))
    return watcher


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

    # 2. the logger sends the last complete hour of COD above the limit, minute by minute
    receiver = ReceiverThread(database_dsn()).start()
    try:
        hour = dt.datetime.now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=1)
        logger = SimLogger(mn=mn, pw="pw2017")
        client = Client("127.0.0.1", receiver.port, resend_after=5)
        client.submit(logger.minute_frame(hour + dt.timedelta(minutes=m), values={"w01018": 80.0}) for m in range(60))
        # in a thread of its own: Playwright's sync API already runs an event loop in this one
        sender = threading.Thread(target=lambda: asyncio.run(client.run(until=time.monotonic() + 60)))
        sender.start()
        sender.join()
        assert client.done and len(client.stats.answered) == 60
    finally:
        receiver.stop()
    answered_at = time.monotonic()

    # 3. the every-minute job judges the hour and opens the case
    summary = committed(monitoring_tick)
    assert summary["exceeded"] >= 1
    took = time.monotonic() - answered_at

    # 4. the case is in the township's queue, naming the MN and the factor
    queue = {"Authorization": f"Token {token(live_url, 'e2e_township_2', settings.DEMO_PASSWORD)}"}
    fc = requests.get(
        f"{live_url}/api/patrol/issues/", params={"source": "online_monitoring"}, headers=queue, timeout=60
    ).json()
    mine = [f for f in fc["features"] if f["properties"]["responsible_unit"] == body["name"]]
    assert len(mine) == 1, fc
    case_id = mine[0]["id"]
    detail = requests.get(f"{live_url}/api/patrol/issues/{case_id}/", headers=queue, timeout=60).json()["properties"]
    assert detail["source"] == "online_monitoring" and detail["township"] == TOWNSHIP
    assert f"MN {mn}" in detail["description"] and "w01018" in detail["description"]
    assert "小时均值 80 mg/L" in detail["description"] and detail["responsible_unit"] == body["name"]
    print(f"case #{case_id} opened {took:.1f}s after the hour's last packet was answered")

    # 5. and its chart, on the case's monitoring page
    login(page, live_url, "e2e_township_2")
    page.goto(f"{live_url}/sources/cases/{case_id}/chart/")
    chart = page.locator("[data-gg-case-chart]")
    page.wait_for_selector("[data-gg-case-chart][data-state=ready]", timeout=30000)
    assert chart.get_attribute("data-kind") == "exceedance"
    assert int(chart.get_attribute("data-points")) >= 1 and chart.get_attribute("data-exceeded") == "1"
    assert page.locator("canvas").count() >= 1
