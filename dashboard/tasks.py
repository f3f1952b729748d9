"""Background jobs of the dashboard (procrastinate, autodiscovered by its Django contrib): the
monthly 通报 is rendered here, and last month's city-wide one every night."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone, translation
from procrastinate.contrib.django import app
from procrastinate.exceptions import AlreadyEnqueued

from . import report, report_cache
from .filters import last_month
from .models import MonthlyReport

KEEP = dt.timedelta(days=60)  # renderings nobody asked for in this long are dropped
NIGHTLY_LANGUAGE = "zh-hans"


@app.task(name="dashboard.render_monthly_report", queue="reports", pass_context=False)
def render_monthly_report(entry_id: int) -> str:
    """Render one queued monthly report (HTML if needed, then the PDF)."""
    return report_cache.render(entry_id)


def queue(entry_id: int) -> None:
    """Queue the rendering `entry_id`, once: a job already waiting for it is enough."""
    try:
        render_monthly_report.configure(queueing_lock=f"monthly-report-{entry_id}").defer(entry_id=entry_id)
    except AlreadyEnqueued:
        pass


@app.periodic(cron="30 1 * * *", periodic_id="dashboard-nightly-report")
@app.task(name="dashboard.nightly_monthly_report", queueing_lock="dashboard-nightly-report", pass_context=False)
def nightly_monthly_report(timestamp: int | None = None) -> str:
    """Every night: drop renderings untouched for KEEP, and make last month's city-wide 通报
    again (the day is part of every rendering's stamp, so all are stale by now)."""
    dropped, _ = MonthlyReport.objects.filter(updated_at__lt=timezone.now() - KEEP).delete()
    with translation.override(NIGHTLY_LANGUAGE):
        entry = report_cache.pdf_entry(report.SystemUser(), last_month(), queue=queue)
    return f"{entry.period} {entry.state}, {dropped} old renderings dropped"
