"""The monthly 通报, mounted at /reports/: /reports/monthly/YYYY-MM.pdf and .html, and the state
of its rendering (/reports/monthly/YYYY-MM/status)."""

from django.urls import re_path

from . import report_views

urlpatterns = [
    re_path(
        r"^monthly/(?P<period>[^/]+)\.(?P<fmt>pdf|html)$", report_views.monthly_report, name="dashboard-monthly-report"
    ),
    re_path(
        r"^monthly/(?P<period>[^/.]+)/status$",
        report_views.monthly_report_status,
        name="dashboard-monthly-report-status",
    ),
]
