"""manage.py monthly_report YYYY-MM [--output path] [--html]: the city-wide 通报, for scheduled runs."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gridgov.errors import GridGovError

from ... import report


class Command(BaseCommand):
    help = "Write the monthly 通报 report (PDF, or HTML with --html) for the whole city."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("period", help="YYYY-MM")
        parser.add_argument("--output", "-o", default=None, help="file to write (default monthly-report-YYYY-MM.pdf)")
        parser.add_argument("--html", action="store_true", help="write HTML instead of PDF")

    def handle(self, *args, period: str, output: str | None, html: bool, **options) -> None:
        t0 = time.monotonic()
        user = report.SystemUser()
        path = Path(output or f"monthly-report-{period}.{'html' if html else 'pdf'}")
        try:
            if html:
                path.write_text(report.render_html(user=user, period=period), encoding="utf-8")
            else:
                path.write_bytes(report.render_pdf(user=user, period=period))
        except GridGovError as exc:
            raise CommandError(exc.message)
        self.stdout.write(f"monthly report {period} written to {path} in {time.monotonic() - t0:.1f}s")
