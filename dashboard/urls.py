"""API of the supervision dashboard, mounted at /api/dashboard/."""

from django.urls import path

from . import api

urlpatterns = [
    path("aggregate/", api.AggregateView.as_view(), name="dashboard-aggregate"),
    path("heat/", api.HeatView.as_view(), name="dashboard-heat"),
    path("ranking/", api.RankingView.as_view(), name="dashboard-ranking"),
    path("cases/", api.CasesView.as_view(), name="dashboard-cases"),
    path("export/", api.ExportView.as_view(), name="dashboard-export"),
    path("overview/", api.OverviewView.as_view(), name="dashboard-overview"),
    path("todo/", api.TodoView.as_view(), name="dashboard-todo"),
]
