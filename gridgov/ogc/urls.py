"""OGC API – Features and Tiles under /ogc/; anything else under /ogc/ is a JSON 404."""

from django.urls import path, re_path

from . import openapi, tilesets, views

urlpatterns = [
    path("", views.landing, name="ogc-landing"),
    path("conformance", views.conformance, name="ogc-conformance"),
    path("api", openapi.api_doc, name="ogc-api"),
    path("collections", views.collections, name="ogc-collections"),
    path("collections/<str:cid>", views.collection, name="ogc-collection"),
    path("collections/<str:cid>/queryables", views.queryables, name="ogc-queryables"),
    path("collections/<str:cid>/items", views.items, name="ogc-items"),
    path("collections/<str:cid>/items/<str:fid>", views.item, name="ogc-item"),
    path("collections/<str:cid>/tiles", tilesets.collection_tilesets, name="ogc-collection-tilesets"),
    path("collections/<str:cid>/tiles/<str:tms>", tilesets.collection_tileset, name="ogc-collection-tileset"),
    path(
        "collections/<str:cid>/tiles/<str:tms>/<int:z>/<int:row>/<int:col>",
        tilesets.collection_tile,
        name="ogc-collection-tile",
    ),
    path("tiles", tilesets.dataset_tilesets, name="ogc-tiles"),
    path("tiles/<str:tms>", tilesets.dataset_tileset, name="ogc-tileset"),
    path("tiles/<str:tms>/<int:z>/<int:row>/<int:col>", tilesets.dataset_tile, name="ogc-tile"),
    path("tileMatrixSets", tilesets.tilematrixsets, name="ogc-tilematrixsets"),
    path("tileMatrixSets/<str:tms>", tilesets.tilematrixset, name="ogc-tilematrixset"),
    re_path(r"^(?P<rest>.*)$", views.not_found),
]
