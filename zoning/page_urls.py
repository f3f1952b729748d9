"""Pages of the zoning app, under /zoning/."""

from django.urls import path

from . import views

urlpatterns = [
    path("editor/", views.editor, name="zoning-editor"),
    path("analyze/", views.analyze, name="zoning-analyze-page"),
    path("analyze/report/", views.report, name="zoning-report"),
]
