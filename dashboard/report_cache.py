"""The monthly 通报's cache: one rendering per month, reader and language, kept until its data change.

A rendering takes seconds (charts, then WeasyPrint for the PDF), so it is kept in
`MonthlyReport` and made again only when its stamp changes: the cases of the month and the month
before (their number and last change, and those published in the month), the day (the overdue
list and "generated at" are as of the day: stale every night), and REPORT_VERSION (this code).
The PDF is made by the worker (`dashboard.tasks.render_monthly_report`) while the page shows
its progress; the HTML of a first view is made in the request and kept for the PDF.

Readers: everyone whose visible cases are the whole city shares one rendering ("all"); anyone
else has their own ("user:<id>": supervisors of a district or township, units, …), so no one
is ever served a rendering of cases they may not see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone, translation

from gridgov.jurisdiction import user_scope
from patrol.selectors import SCOPE_ROLES

from . import report, selectors
from .filters import parse_month, previous_month
from .models import MonthlyReport

REPORT_VERSION = 3  # bump when the report's content or layout changes
ALL = "all"
# A queued or running rendering older than this is taken for lost (worker stopped): queued again.
STALLED = dt.timedelta(minutes=10)


def reader_key(user) -> str:
    if getattr(user, "is_superuser", False):
        return ALL
    if getattr(user, "role", "") in SCOPE_ROLES and user_scope(user).everything:
        return ALL
    return f"user:{user.pk}"


def reader_user(entry: MonthlyReport):
    """Whose cases a rendering shows: the whole city, or the user it was requested by."""
    return report.SystemUser() if entry.reader == ALL else entry.requested_by


def stamp(user, period: str) -> str:
    """What a rendering of this month for this reader depends on (see the module docstring)."""
    start, end = parse_month(period)
    prev_start, _prev_end = parse_month(previous_month(start))
    cases = selectors.cases_for(user).filter(
        Q(reported_at__gte=prev_start, reported_at__lt=end) | Q(published_at__gte=start, published_at__lt=end)
    )
    agg = cases.aggregate(n=Count("id"), last=Max("updated_at"))
    last = agg["last"].isoformat() if agg["last"] else "-"
    return f"v{REPORT_VERSION}|{timezone.localdate().isoformat()}|{agg['n']}|{last}"


def entry_for(user, period: str, language: str) -> MonthlyReport:
    key = reader_key(user)
    entry, _created = MonthlyReport.objects.get_or_create(
        period=period,
        reader=key,
        language=language,
        defaults={"requested_by": None if key == ALL else user, "stamp": ""},
    )
    return entry


def html_for(user, period: str) -> str:
    """The report's HTML for this reader in the active language: kept, or made now and kept."""
    language = translation.get_language()
    entry = entry_for(user, period, language)
    current = stamp(user, period)
    if entry.html and entry.html_stamp == current:
        return entry.html
    html = report.render_html(user=reader_user(entry) or user, period=period)
    MonthlyReport.objects.filter(pk=entry.pk).update(html=html, html_stamp=current, updated_at=timezone.now())
    return html


def pdf_entry(user, period: str, *, queue: Callable[[int], None]) -> MonthlyReport:
    """The PDF rendering for this reader in the active language; `queue(entry id)` (the worker's
    task, `dashboard.tasks.queue`) unless it is ready for the current data or being made."""
    language = translation.get_language()
    entry = entry_for(user, period, language)
    current = stamp(user, period)
    if entry.stamp == current and entry.state == MonthlyReport.State.DONE and entry.pdf:
        return entry
    busy = entry.state in (MonthlyReport.State.QUEUED, MonthlyReport.State.RUNNING)
    if entry.stamp == current and busy and timezone.now() - entry.updated_at < STALLED:
        return entry
    with transaction.atomic():
        MonthlyReport.objects.filter(pk=entry.pk).update(
            stamp=current, state=MonthlyReport.State.QUEUED, progress=0, stage="", error="", updated_at=timezone.now()
        )
        transaction.on_commit(lambda: queue(entry.pk))
    entry.refresh_from_db()
    return entry


def render(entry_id: int) -> str:
    """Make the rendering (in the worker): HTML unless kept for the same data, then the PDF."""
    entry = MonthlyReport.objects.select_related("requested_by").filter(pk=entry_id).first()
    if entry is None:
        return "missing"
    reader = reader_user(entry)
    rows = MonthlyReport.objects.filter(pk=entry.pk)

    def progress(pct: int, stage: str) -> None:
        rows.update(progress=pct, stage=str(stage)[:64], state=MonthlyReport.State.RUNNING, updated_at=timezone.now())

    with translation.override(entry.language):
        try:
            current = stamp(reader, entry.period)
            progress(5, translation.gettext("开始生成"))
            html = entry.html if entry.html and entry.html_stamp == current else None
            if html is None:
                html = report.render_html(user=reader, period=entry.period, progress=progress)
                rows.update(html=html, html_stamp=current)
            progress(75, translation.gettext("生成 PDF"))
            pdf = report.pdf_from_html(html)
        except Exception as exc:  # the page shows that it failed; the log has the rest
            rows.update(state=MonthlyReport.State.FAILED, error=type(exc).__name__[:256], updated_at=timezone.now())
            raise
    rows.update(
        pdf=pdf,
        stamp=current,
        state=MonthlyReport.State.DONE,
        progress=100,
        stage="",
        rendered_at=timezone.now(),
        updated_at=timezone.now(),
    )
    return "done"
