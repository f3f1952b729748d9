"""OGC API – Features under /ogc/."""

from django.urls import path

from . import ogc

urlpatterns = [
    path("", ogc.landing, name="ogc-landing"),
    path("conformance", ogc.conformance, name="ogc-conformance"),
    path("api", ogc.api_doc, name="ogc-api"),
    path("collections", ogc.collections, name="ogc-collections"),
    path("collections/<str:cid>", ogc.collection, name="ogc-collection"),
    path("collections/<str:cid>/items", ogc.items, name="ogc-items"),
    path("collections/<str:cid>/items/<str:fid>", ogc.item, name="ogc-item"),
]
