from django.urls import path

from . import views

urlpatterns = [
    path("", views.overview, name="quality-overview"),
    path("stations/<str:code>/", views.station_page, name="quality-station-page"),
]
