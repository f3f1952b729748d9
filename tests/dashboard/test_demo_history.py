"""The demo history (§2): twelve months of synthetic cases across the 13 districts, loaded for the
test database by `load_demo` (tests/conftest.py), and its top-up on a later load."""

from __future__ import annotations

import io

import pytest
from django.db import connection

from dashboard import demo_load
from gridgov.models import DemoLoad
from patrol.models import Issue

pytestmark = pytest.mark.django_db

DIGEST = "content_digest = 'demo-history'"


def one(sql: str):
    with connection.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()


def test_a_year_across_every_district_in_every_state():
    n, districts, months, unmarked, early, closed_early, statuses = one(
        f"""SELECT count(*), count(DISTINCT district_id),
                   count(DISTINCT date_trunc('month', reported_at AT TIME ZONE 'Asia/Shanghai')),
                   count(*) FILTER (WHERE description NOT LIKE '（合成）%%'),
                   count(*) FILTER (WHERE deadline < reported_at),
                   count(*) FILTER (WHERE closed_at < reported_at OR accepted_at < rectified_at),
                   count(DISTINCT status)
              FROM patrol_issue WHERE {DIGEST}"""
    )
    assert 20_000 <= n <= 80_000  # "some tens of thousands"
    assert districts == 13 and months >= 12  # twelve whole months and the current one
    assert (unmarked, early, closed_early) == (0, 0, 0)
    assert statuses >= 8
    overdue, escalated, published, reopened, photos = one(
        f"""SELECT count(*) FILTER (WHERE deadline < now() AND status IN ('dispatched', 'rectifying')),
                   count(*) FILTER (WHERE escalation_level > 0),
                   count(*) FILTER (WHERE published_at IS NOT NULL),
                   (SELECT count(DISTINCT e.issue_id) FROM patrol_issueevent e JOIN patrol_issue j ON j.id = e.issue_id
                     WHERE j.{DIGEST} AND e.action = 'reopen'),
                   (SELECT count(*) FROM patrol_issue_photos p JOIN patrol_issue j ON j.id = p.issue_id WHERE j.{DIGEST})
              FROM patrol_issue WHERE {DIGEST}"""
    )
    assert overdue > 0 and escalated > 0 and published > 50 and reopened > 0 and photos >= published


def test_seasons_show():
    # Straw burning in June and October, dust in spring, catering fumes in winter.
    straw_peak, straw_rest, dust_spring, dust_autumn, fumes_winter, fumes_summer = one(
        f"""SELECT count(*) FILTER (WHERE category = 'air.straw_burning' AND m IN (6, 10)) / 2.0,
                   count(*) FILTER (WHERE category = 'air.straw_burning' AND m NOT IN (6, 10)) / 10.0,
                   count(*) FILTER (WHERE category = 'air.dust' AND m IN (3, 4, 5)),
                   count(*) FILTER (WHERE category = 'air.dust' AND m IN (9, 10, 11)),
                   count(*) FILTER (WHERE category = 'air.catering_fumes' AND m IN (12, 1, 2)),
                   count(*) FILTER (WHERE category = 'air.catering_fumes' AND m IN (6, 7, 8))
              FROM (SELECT category, extract(month FROM reported_at AT TIME ZONE 'Asia/Shanghai')::int m
                      FROM patrol_issue WHERE {DIGEST}) t"""
    )
    assert straw_peak > 3 * straw_rest
    assert dust_spring > 1.3 * dust_autumn
    assert fumes_winter > 1.3 * fumes_summer


def test_a_load_soon_after_does_nothing_and_a_later_one_tops_up():
    marker = DemoLoad.objects.get(name=demo_load.MARKER)
    until, cases = marker.params["until"], marker.params["cases"]
    before = Issue.objects.filter(content_digest=demo_load.DIGEST).count()
    out = io.StringIO()
    assert demo_load.load_history(stdout=out, now=until + 600) == 0
    assert "nothing to do" in out.getvalue()
    assert Issue.objects.filter(content_digest=demo_load.DIGEST).count() == before
    # Two days on: the cases reported since are written, and only those.
    made = demo_load.load_history(stdout=out, now=until + 2 * 86400)
    assert made > 0
    assert Issue.objects.filter(content_digest=demo_load.DIGEST).count() == before + made
    marker.refresh_from_db()
    assert marker.params["until"] == until + 2 * 86400 and marker.params["cases"] == cases + made
    # Again at the same moment: nothing new.
    assert demo_load.load_history(stdout=out, now=until + 2 * 86400) == 0
