"""URLs of the zoning API, under /api/zoning/."""

from django.urls import path

from . import api

urlpatterns = [
    path("units/", api.UnitListView.as_view(), name="zoning-units"),
    path("units/<str:code>/", api.UnitDetailView.as_view(), name="zoning-unit"),
    path("units/<str:code>/history/", api.UnitHistoryView.as_view(), name="zoning-unit-history"),
    path("units/<str:code>/versions/<int:version>/", api.UnitVersionView.as_view(), name="zoning-unit-version"),
    path("units/<str:code>/revert/", api.UnitRevertView.as_view(), name="zoning-unit-revert"),
    path("zones/", api.ZoneListView.as_view(), name="zoning-zones"),
    path("analyze/", api.AnalyzeView.as_view(), name="zoning-analyze"),
    path("analyze/rules/", api.RulesView.as_view(), name="zoning-rules"),
    path("import/", api.ImportView.as_view(), name="zoning-import"),
    path("export/", api.ExportView.as_view(), name="zoning-export"),
]
