"""Web pages of the patrol loop, under /patrol/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.issue_list, name="patrol-page-list"),
    path("landing/", views.landing, name="patrol-landing"),
    path("<int:pk>/", views.issue_detail, name="patrol-page-detail"),
    path("<int:pk>/act/", views.issue_act, name="patrol-page-act"),
]
