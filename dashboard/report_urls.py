"""The monthly 通报 report, mounted at /reports/: /reports/monthly/YYYY-MM.pdf and .html."""

from django.urls import re_path

from . import views

urlpatterns = [
    re_path(r"^monthly/(?P<period>[^/]+)\.(?P<fmt>pdf|html)$", views.monthly_report, name="dashboard-monthly-report"),
]
