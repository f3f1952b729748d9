from django.urls import path

from . import views

urlpatterns = [
    path("cases/<int:issue_id>/chart/", views.case_chart, name="sources-case-chart"),
    path("<str:credit_code>/", views.enterprise_page, name="sources-enterprise-page"),
]
