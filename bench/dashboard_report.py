"""Monthly 通报 generation over 1,000,000 cases: the time of one city-wide PDF (HTML + images +
WeasyPrint), for the last full month. baseline = the HTML alone (same run), for reference.
Goal: the PDF within 60 s.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import benchlib  # noqa: E402


def main() -> None:
    from _dashboard_data import scale_database_url

    url = scale_database_url()
    benchlib.setup_django(url)
    from django.utils import timezone

    from dashboard import report

    first = timezone.localdate().replace(day=1)
    prev = first - timezone.timedelta(days=1)
    period = f"{prev.year:04d}-{prev.month:02d}"
    user = report.SystemUser()
    t0 = time.perf_counter()
    html = report.render_html(user=user, period=period)
    html_t = time.perf_counter() - t0
    t0 = time.perf_counter()
    pdf = report.render_pdf(user=user, period=period)
    pdf_t = time.perf_counter() - t0
    print(f"report bench: {period}, HTML {len(html)} chars, PDF {len(pdf)} bytes", file=sys.stderr)
    benchlib.report("dashboard_monthly_report_1M", value=pdf_t, baseline=html_t, goal="<=60s", passed=pdf_t <= 60)


if __name__ == "__main__":
    main()
