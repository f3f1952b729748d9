from django.urls import path

from . import api

urlpatterns = [
    path("series/", api.SeriesView.as_view(), name="monitoring-series"),
    path("loggers/", api.LoggersView.as_view(), name="monitoring-loggers"),
]
