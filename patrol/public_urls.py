"""Public pages, under /public/: the 曝光台, the citizen report form and report tracking."""

from django.urls import path

from . import public

urlpatterns = [
    path("cases/", public.disclosure_list, name="public-cases"),
    path("cases/map.json", public.disclosure_map, name="public-cases-map"),
    path("cases/<int:pk>/", public.disclosure_detail, name="public-case"),
    path("report/", public.citizen_form, name="public-report"),
    path("places/", public.places, name="public-places"),
    path("track/", public.track_lookup, name="public-track-lookup"),
    path("track/<uuid:token>/", public.track, name="public-track"),
]
