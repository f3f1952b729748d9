"""Supervisors' pages of 双随机一公开, under /inspections/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.plan_list, name="inspections-page"),
    path("plans/new/", views.plan_new, name="inspections-plan-new"),
    path("plans/<int:pk>/", views.plan_detail, name="inspections-plan"),
    path("plans/<int:pk>/act/", views.plan_act, name="inspections-plan-act"),
    path("tasks/", views.tasks_page, name="inspections-tasks-page"),
]
