"""Scale data routing, the monthly 通报 (HTML, PDF, management command)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection

from dashboard.demo import SYNTHETIC_DIGEST

from .conftest import SYNTHETIC_CASES

pytestmark = pytest.mark.django_db


def test_synthetic_cases_are_routed_and_marked(synthetic_cases):
    with connection.cursor() as cur:
        cur.execute(
            """SELECT count(*),
                      count(*) FILTER (WHERE NOT ST_Covers(c.geom, i.point)),
                      count(*) FILTER (WHERE c.township_id <> i.township_id OR t.parent_id <> i.district_id),
                      count(*) FILTER (WHERE i.description NOT LIKE '（合成）%%'),
                      count(DISTINCT i.status), count(DISTINCT i.category), count(DISTINCT i.township_id),
                      min(i.reported_at) < now() - interval '600 days', max(i.reported_at) <= now(),
                      count(*) FILTER (WHERE i.closed_at < i.reported_at OR i.dispatched_at < i.verified_at
                                          OR i.accepted_at < i.rectified_at),
                      count(*) FILTER (WHERE i.status = 'accepted' AND i.accepted_at IS NULL)
                 FROM patrol_issue i JOIN gridgov_gridcell c ON c.id = i.grid_cell_id
                 JOIN gridgov_adminarea t ON t.id = i.township_id
                WHERE i.content_digest = %s""",
            [SYNTHETIC_DIGEST],
        )
        n, outside, misrouted, unmarked, statuses, cats, towns, two_years, not_future, disorder, no_accept = (
            cur.fetchone()
        )
    assert n == SYNTHETIC_CASES
    assert (outside, misrouted, unmarked, disorder, no_accept) == (0, 0, 0, 0, 0)
    assert statuses >= 6 and cats >= 15 and towns >= 100
    assert two_years and not_future
    # Clustering: the busiest 10% of townships hold far more than 10% of the cases.
    with connection.cursor() as cur:
        cur.execute(
            """SELECT sum(n) FILTER (WHERE r <= 21)::float / sum(n) FROM (
                 SELECT count(*) n, row_number() OVER (ORDER BY count(*) DESC) r FROM patrol_issue
                  WHERE content_digest = %s GROUP BY township_id) t""",
            [SYNTHETIC_DIGEST],
        )
        assert cur.fetchone()[0] > 0.25


def test_load_demo_is_idempotent(synthetic_cases):
    from dashboard import demo

    out = io.StringIO()
    demo.load_demo(stdout=out, force=False, cases=SYNTHETIC_CASES)
    assert "nothing to do" in out.getvalue()
    demo.load_demo(stdout=out, force=False, cases=None)  # no --cases: nothing happens


def test_monthly_report_html_for_district_supervisor(client, synthetic_cases, march_cases):
    from gridgov.models import User

    client.force_login(User.objects.get(username="district_supervisor"))
    r = client.get("/reports/monthly/2020-03.html")
    assert r.status_code == 200
    html = r.content.decode()
    for text in ("月度通报", "主要数据", "乡镇街道排名", "空间分布", "超期案件清单", "data:image/png;base64,"):
        assert text in html
    assert "西湖" in html and "上城第1街道" not in html  # only the district's townships are ranked
    assert html.count("data:image/png") == 4


def test_monthly_report_pdf_and_bad_period(client, march_cases):
    from gridgov.models import User

    assert client.get("/reports/monthly/2020-03.pdf").status_code == 403
    from dashboard import report_cache
    from dashboard.models import MonthlyReport

    client.force_login(User.objects.get(username="city_supervisor"))
    # First ask: queued for the worker, a progress page (202) polling the status.
    r = client.get("/reports/monthly/2020-03.pdf")
    assert r.status_code == 202 and "data-status-url" in r.content.decode()
    entry = MonthlyReport.objects.get(period="2020-03", reader="all")
    assert entry.state == MonthlyReport.State.QUEUED
    assert client.get("/reports/monthly/2020-03/status").json()["ready"] is False
    # What the worker's task does; then the PDF is served at once, until the data change.
    assert report_cache.render(entry.pk) == "done"
    assert client.get("/reports/monthly/2020-03/status").json()["ready"] is True
    r = client.get("/reports/monthly/2020-03.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    march_cases["b"].status = "submitted"
    march_cases["b"].save()
    assert client.get("/reports/monthly/2020-03.pdf").status_code == 202
    # A wrong month is a page naming the field, not raw JSON.
    bad = client.get("/reports/monthly/2020-13.html")
    assert bad.status_code == 400 and bad["Content-Type"].startswith("text/html")
    assert "统计月份应为 YYYY-MM" in bad.content.decode()


def test_monthly_report_command(tmp_path, march_cases):
    out = tmp_path / "r.html"
    buf = io.StringIO()
    call_command("monthly_report", "2020-03", "--output", str(out), "--html", stdout=buf)
    assert "written" in buf.getvalue()
    assert "全市" in out.read_text(encoding="utf-8")
