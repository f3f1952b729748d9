"""API of 双随机一公开, under /api/inspections/."""

from django.urls import path

from . import api

urlpatterns = [
    path("plans/", api.PlanListView.as_view(), name="inspections-plans"),
    path("plans/<int:pk>/", api.PlanDetailView.as_view(), name="inspections-plan-detail"),
    path("plans/<int:pk>/commit/", api.PlanCommitView.as_view(), name="inspections-plan-commit"),
    path("plans/<int:pk>/draw/", api.PlanDrawView.as_view(), name="inspections-plan-draw"),
    path("tasks/", api.TaskListView.as_view(), name="inspections-tasks"),
    path("results/", api.ResultCreateView.as_view(), name="inspections-results"),
]
