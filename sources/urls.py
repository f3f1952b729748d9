from django.urls import path

from . import api

urlpatterns = [
    path("enterprises/", api.EnterprisesView.as_view(), name="sources-enterprises"),
    path("enterprises/<str:credit_code>/", api.EnterpriseView.as_view(), name="sources-enterprise"),
    path("enterprises/<str:credit_code>/outlets/", api.OutletsView.as_view(), name="sources-enterprise-outlets"),
    path("cases/<int:issue_id>/series/", api.CaseSeriesView.as_view(), name="sources-case-series"),
]
