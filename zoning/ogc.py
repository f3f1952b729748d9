"""OGC API – Features Part 1 (core, GeoJSON) with Part 2 `crs`, so QGIS and GDAL read GridGov.

Plain Django views returning JSON: the standard fixes the shapes, DRF would add nothing.
Raw SQL for the items because the GeoJSON, the optional reprojection and the count come out
of PostGIS in one statement per page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db import connection
from django.http import Http404, JsonResponse
from django.urls import reverse

from gridgov.errors import InvalidInput
from gridgov.geo import parse_bbox

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
CRS_LIST = [CRS84, EPSG4490, EPSG4326]
MAX_LIMIT = 10_000
DEFAULT_LIMIT = 100

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    table: str
    columns: dict[str, str]  # property -> SQL expression
    where: str = "TRUE"


COLLECTIONS = {
    c.id: c
    for c in [
        Collection(
            "control-units",
            "环境管控单元",
            "三线一单环境管控单元（演示数据为合成）",
            "zoning_controlunit t",
            {
                "code": "t.code",
                "name": "t.name",
                "category": "t.category",
                "version": "t.version",
                "synthetic": "t.synthetic",
            },
        ),
        Collection(
            "red-line",
            "生态保护红线",
            "生态保护红线（演示数据为合成）",
            "zoning_zone t",
            {
                "code": "t.code",
                "name": "t.name",
                "subtype": "t.subtype",
                "version": "t.version",
                "synthetic": "t.synthetic",
            },
            where="t.layer = 'red_line'",
        ),
        Collection(
            "grid-cells",
            "网格",
            "网格化监管单元网格（合成）",
            "gridgov_gridcell t",
            {"code": "t.code", "name": "t.name", "level": "t.level", "synthetic": "t.synthetic"},
        ),
        Collection(
            "admin-areas",
            "行政区",
            "市、区县、乡镇街道",
            "gridgov_adminarea t",
            {"code": "t.code", "name": "t.name", "level": "t.level", "synthetic": "t.synthetic"},
        ),
    ]
}


def _abs(request, name: str, **kwargs) -> str:
    return request.build_absolute_uri(reverse(name, kwargs=kwargs))


def _json(data: dict, status: int = 200, content_type: str = "application/json", headers: dict | None = None):
    response = JsonResponse(data, status=status, content_type=content_type, json_dumps_params={"ensure_ascii": False})
    for k, v in (headers or {}).items():
        response[k] = v
    return response


def _error(message: str, status: int = 400):
    return _json(
        {"code": "InvalidParameterValue" if status == 400 else "NotFound", "description": message}, status=status
    )


def landing(request):
    return _json(
        {
            "title": "GridGov OGC API – Features",
            "description": "杭州生态环境网格化监管：三线一单分区、网格与行政区（演示数据为合成）",
            "links": [
                {
                    "href": _abs(request, "ogc-landing"),
                    "rel": "self",
                    "type": "application/json",
                    "title": "this document",
                },
                {
                    "href": _abs(request, "ogc-api"),
                    "rel": "service-desc",
                    "type": "application/vnd.oai.openapi+json;version=3.0",
                    "title": "API definition",
                },
                {"href": _abs(request, "ogc-conformance"), "rel": "conformance", "type": "application/json"},
                {"href": _abs(request, "ogc-collections"), "rel": "data", "type": "application/json"},
            ],
        }
    )


def conformance(request):
    return _json({"conformsTo": CONFORMANCE})


def _extent(c: Collection) -> list[float]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(t.geom) e FROM {c.table} WHERE {c.where}) s"
        )
        row = cursor.fetchone()
    return [round(v, 6) for v in row] if row and row[0] is not None else [118.3, 29.2, 120.8, 30.6]


def _collection_doc(request, c: Collection) -> dict:
    return {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "extent": {"spatial": {"bbox": [_extent(c)], "crs": CRS84}},
        "crs": CRS_LIST,
        "storageCrs": CRS84,
        "links": [
            {"href": _abs(request, "ogc-collection", cid=c.id), "rel": "self", "type": "application/json"},
            {"href": _abs(request, "ogc-items", cid=c.id), "rel": "items", "type": "application/geo+json"},
        ],
    }


def collections(request):
    return _json(
        {
            "links": [{"href": _abs(request, "ogc-collections"), "rel": "self", "type": "application/json"}],
            "collections": [_collection_doc(request, c) for c in COLLECTIONS.values()],
        }
    )


def _get_collection(cid: str) -> Collection:
    c = COLLECTIONS.get(cid)
    if c is None:
        raise Http404(cid)
    return c


def collection(request, cid: str):
    try:
        return _json(_collection_doc(request, _get_collection(cid)))
    except Http404:
        return _error(f"no collection {cid!r}", 404)


def _geom_sql(crs: str) -> str:
    # EPSG:4490 and EPSG:4326 are latitude-first by definition; CRS84 is longitude-first.
    if crs == EPSG4490:
        return "ST_AsGeoJSON(ST_FlipCoordinates(ST_Transform(t.geom, 4490)), 7)"
    if crs == EPSG4326:
        return "ST_AsGeoJSON(ST_FlipCoordinates(t.geom), 7)"
    return "ST_AsGeoJSON(t.geom, 7)"


def _parse_int(value, *, field: str, default: int, lo: int, hi: int) -> int:
    if value in (None, ""):
        return default
    try:
        n = int(value)
    except ValueError:
        raise InvalidInput(f"'{field}' must be an integer", field=field)
    if n < lo:
        raise InvalidInput(f"'{field}' must be ≥ {lo}", field=field)
    return min(n, hi)


def items(request, cid: str):
    try:
        c = _get_collection(cid)
    except Http404:
        return _error(f"no collection {cid!r}", 404)
    try:
        limit = _parse_int(request.GET.get("limit"), field="limit", default=DEFAULT_LIMIT, lo=1, hi=MAX_LIMIT)
        offset = _parse_int(request.GET.get("offset"), field="offset", default=0, lo=0, hi=10**9)
        crs = request.GET.get("crs") or CRS84
        if crs not in CRS_LIST:
            return _error(f"unsupported crs {crs!r}; use one of {', '.join(CRS_LIST)}")
        where = [c.where]
        params: list = []
        if request.GET.get("bbox"):
            bbox_crs = request.GET.get("bbox-crs") or CRS84
            parts = request.GET["bbox"].split(",")
            if bbox_crs in (EPSG4490, EPSG4326) and len(parts) == 4:
                parts = [parts[1], parts[0], parts[3], parts[2]]  # lat-first axis order
            x0, y0, x1, y1 = parse_bbox(",".join(parts))
            where.append("t.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)")
            params += [x0, y0, x1, y1]
    except InvalidInput as exc:
        return _error(exc.message)
    cond = " AND ".join(f"({w})" for w in where)
    cols = ", ".join(c.columns.values())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {c.table} WHERE {cond}", params)
        matched = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT {cols}, {_geom_sql(crs)} FROM {c.table} WHERE {cond} ORDER BY t.code LIMIT %s OFFSET %s",
            params + [limit, offset],
        )
        rows = cursor.fetchall()
    keys = list(c.columns)
    features = [
        {
            "type": "Feature",
            "id": r[0],
            "geometry": json.loads(r[-1]),
            "properties": dict(zip(keys, r[:-1], strict=True)),
        }
        for r in rows
    ]
    base = _abs(request, "ogc-items", cid=c.id)
    query = request.GET.copy()
    links = [{"href": request.build_absolute_uri(), "rel": "self", "type": "application/geo+json"}]
    if offset + len(rows) < matched:
        query["offset"] = str(offset + limit)
        query["limit"] = str(limit)
        links.append({"href": f"{base}?{query.urlencode()}", "rel": "next", "type": "application/geo+json"})
    if offset > 0:
        query["offset"] = str(max(0, offset - limit))
        links.append({"href": f"{base}?{query.urlencode()}", "rel": "prev", "type": "application/geo+json"})
    return _json(
        {
            "type": "FeatureCollection",
            "features": features,
            "numberMatched": matched,
            "numberReturned": len(features),
            "links": links,
        },
        content_type="application/geo+json",
        headers={"Content-Crs": f"<{crs}>"},
    )


def item(request, cid: str, fid: str):
    try:
        c = _get_collection(cid)
    except Http404:
        return _error(f"no collection {cid!r}", 404)
    crs = request.GET.get("crs") or CRS84
    if crs not in CRS_LIST:
        return _error(f"unsupported crs {crs!r}")
    cols = ", ".join(c.columns.values())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {cols}, {_geom_sql(crs)} FROM {c.table} WHERE ({c.where}) AND t.code = %s", [fid])
        r = cursor.fetchone()
    if r is None:
        return _error(f"no feature {fid!r} in {cid}", 404)
    return _json(
        {
            "type": "Feature",
            "id": r[0],
            "geometry": json.loads(r[-1]),
            "properties": dict(zip(list(c.columns), r[:-1], strict=True)),
            "links": [
                {"href": request.build_absolute_uri(), "rel": "self", "type": "application/geo+json"},
                {"href": _abs(request, "ogc-collection", cid=c.id), "rel": "collection", "type": "application/json"},
            ],
        },
        content_type="application/geo+json",
        headers={"Content-Crs": f"<{crs}>"},
    )


def api_doc(request):
    """A small OpenAPI 3.0 document describing the endpoints above."""
    param = lambda name, schema, where="query", required=False: {  # noqa: E731
        "name": name,
        "in": where,
        "required": required,
        "schema": schema,
    }
    items_params = [
        param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}),
        param("offset", {"type": "integer", "minimum": 0}),
        param("bbox", {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4}),
        param("bbox-crs", {"type": "string", "enum": CRS_LIST}),
        param("crs", {"type": "string", "enum": CRS_LIST}),
    ]
    paths = {
        "/": {"get": {"summary": "landing page", "responses": {"200": {"description": "links"}}}},
        "/conformance": {
            "get": {"summary": "conformance classes", "responses": {"200": {"description": "conformsTo"}}}
        },
        "/collections": {"get": {"summary": "collections", "responses": {"200": {"description": "collections"}}}},
        "/collections/{collectionId}": {
            "get": {
                "parameters": [param("collectionId", {"type": "string", "enum": list(COLLECTIONS)}, "path", True)],
                "responses": {"200": {"description": "collection"}},
            }
        },
        "/collections/{collectionId}/items": {
            "get": {
                "parameters": [
                    param("collectionId", {"type": "string", "enum": list(COLLECTIONS)}, "path", True),
                    *items_params,
                ],
                "responses": {"200": {"description": "GeoJSON FeatureCollection"}},
            }
        },
        "/collections/{collectionId}/items/{featureId}": {
            "get": {
                "parameters": [
                    param("collectionId", {"type": "string"}, "path", True),
                    param("featureId", {"type": "string"}, "path", True),
                    param("crs", {"type": "string", "enum": CRS_LIST}),
                ],
                "responses": {"200": {"description": "GeoJSON Feature"}, "404": {"description": "not found"}},
            }
        },
    }
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "GridGov OGC API – Features", "version": "1.0.0"},
        "servers": [{"url": _abs(request, "ogc-landing").rstrip("/")}],
        "paths": paths,
    }
    return _json(doc, content_type="application/vnd.oai.openapi+json;version=3.0")
