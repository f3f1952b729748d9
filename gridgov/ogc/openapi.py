"""The OpenAPI 3.0 document of /ogc/ (`service-desc`), built from the collection registry.

Each collection's items path is listed with its own queryables as parameters: GDAL's OAPIF
driver reads them there to send `-where` clauses to the server, and `filter-lang` names
`cql-text` beside the CQL2 names because GDAL 3.6 looks for that draft name.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from . import cql2, params
from .registry import collections_for
from .tilesets import TMS_ID
from .views import json_response, ogc_view, url

OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_TYPES = {"date-time": {"type": "string", "format": "date-time"}}


def _param(name: str, schema: dict, where: str = "query", required: bool = False, description: str = "") -> dict:
    out = {"name": name, "in": where, "required": required, "schema": schema, "style": "form", "explode": False}
    if where == "path":
        out.pop("style")
        out.pop("explode")
    if description:
        out["description"] = description
    return out


def _response(description: str, media: str) -> dict:
    return {"description": description, "content": {media: {"schema": {"type": "object"}}}}


ERRORS = {
    "400": _response("invalid parameter", "application/json"),
    "404": _response("not found", "application/json"),
}


def _items_params(fields) -> list[dict]:
    crs = {"type": "string", "enum": params.CRS_LIST}
    out = [
        _param("f", {"type": "string", "enum": params.ITEMS_FORMATS}),
        _param(
            "limit", {"type": "integer", "minimum": 1, "maximum": params.MAX_LIMIT, "default": params.DEFAULT_LIMIT}
        ),
        _param("offset", {"type": "integer", "minimum": 0, "maximum": params.MAX_OFFSET}),
        _param("bbox", {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 6}),
        _param("bbox-crs", crs),
        _param("crs", crs),
        _param("datetime", {"type": "string"}, description="instant or interval (ISO 8601, '..' for open)"),
        _param("ids", {"type": "array", "items": {"type": "string"}}),
        _param("properties", {"type": "array", "items": {"type": "string"}}),
        _param("sortby", {"type": "array", "items": {"type": "string"}}, description="[+|-]property,…"),
        _param("filter", {"type": "string"}, description="CQL2 (text or JSON)"),
        _param("filter-lang", {"type": "string", "enum": list(cql2.LANGS), "default": "cql2-text"}),
        _param("filter-crs", crs),
    ]
    for f in fields:
        out.append(_param(f.name, SCHEMA_TYPES.get(f.type, {"type": f.type}), description=str(f.title)))
    return out


def _get(summary: str, parameters: list, media: str) -> dict:
    return {
        "get": {"summary": summary, "parameters": parameters, "responses": {"200": _response(summary, media), **ERRORS}}
    }


@ogc_view
def api_doc(request):
    params.metadata_query(request)
    fmt = _param("f", {"type": "string", "enum": ["json", "html"]})
    cid = _param("collectionId", {"type": "string"}, "path", True)
    fid = _param("featureId", {"type": "string"}, "path", True)
    tms = _param("tileMatrixSetId", {"type": "string", "enum": [TMS_ID]}, "path", True)
    tile = [
        _param("tileMatrix", {"type": "string"}, "path", True),
        _param("tileRow", {"type": "integer", "minimum": 0}, "path", True),
        _param("tileCol", {"type": "integer", "minimum": 0}, "path", True),
    ]
    mvt = "application/vnd.mapbox-vector-tile"
    paths = {
        "/": _get("landing page", [fmt], "application/json"),
        "/conformance": _get("conformance classes", [fmt], "application/json"),
        "/collections": _get("collections", [fmt], "application/json"),
        "/collections/{collectionId}": _get("collection", [cid, fmt], "application/json"),
        "/collections/{collectionId}/queryables": _get("queryables", [cid, fmt], "application/schema+json"),
        "/collections/{collectionId}/items": _get("features", [cid, *_items_params(())], "application/geo+json"),
        "/collections/{collectionId}/items/{featureId}": _get(
            "feature",
            [cid, fid, _param("f", {"type": "string", "enum": params.ITEM_FORMATS}), *_items_params(())[5:7]],
            "application/geo+json",
        ),
        "/collections/{collectionId}/tiles": _get("vector tilesets of a collection", [cid], "application/json"),
        "/collections/{collectionId}/tiles/{tileMatrixSetId}": _get("vector tileset", [cid, tms], "application/json"),
        "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}": _get(
            "vector tile", [cid, tms, *tile], mvt
        ),
        "/tiles": _get("vector tilesets of all layers", [], "application/json"),
        "/tiles/{tileMatrixSetId}": _get("vector tileset of all layers", [tms], "application/json"),
        "/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}": _get(
            "vector tile of all layers", [tms, *tile], mvt
        ),
        "/tileMatrixSets": _get("tile matrix sets", [], "application/json"),
        "/tileMatrixSets/{tileMatrixSetId}": _get("tile matrix set", [tms], "application/json"),
    }
    for c in collections_for(request.user):
        paths[f"/collections/{c.id}/items"] = _get(
            str(c.title), _items_params(c.fields_for(request.user)), "application/geo+json"
        )
    doc = {
        "openapi": "3.0.3",
        "info": {"title": _("GridGov OGC API"), "version": "2.0.0", "description": _("要素（第 1–3 部分）与矢量瓦片")},
        "servers": [{"url": url(request, "ogc-landing").rstrip("/")}],
        "paths": paths,
    }
    return json_response(doc, content_type=OPENAPI)
