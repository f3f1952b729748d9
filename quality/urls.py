from django.urls import path

from . import api

urlpatterns = [
    path("stations/", api.StationsView.as_view(), name="quality-stations"),
    path("stations/<str:code>/series/", api.StationSeriesView.as_view(), name="quality-station-series"),
    path("aqi/", api.AqiView.as_view(), name="quality-aqi"),
    path("aqi/calc/", api.AqiCalcView.as_view(), name="quality-aqi-calc"),
    path("water-class/", api.WaterClassView.as_view(), name="quality-water-class"),
]
