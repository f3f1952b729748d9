"""OGC API – Features: landing page, conformance, collections, queryables, items, one item.

Plain Django views: the standard fixes the shapes, DRF would add nothing. Each resource answers
JSON by default and HTML to a browser (`f=html`, or an Accept header that asks for text/html);
items also as CSV and GeoJSON text sequences. A page of features is GeoJSON text assembled by
PostGIS (query.py) and only joined here; large pages are streamed. Every error under /ogc/ is a
JSON body; public resources carry `Access-Control-Allow-Origin: *` (no credentials: a cross-site
reader is the public).
"""

from __future__ import annotations

import csv
import functools
import io
import json

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.errors import GridGovError, NotFound

from . import params, query
from .registry import Collection, collection_for, collections_for

GEOJSON = "application/geo+json"
JSON = "application/json"
SCHEMA_JSON = "application/schema+json"
GEOJSONSEQ = "application/geo+json-seq"
CSV = "text/csv; charset=utf-8"
HTML = "text/html"
STREAM_FROM = 256 * 1024  # bodies above this are streamed in chunks of about this size

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/landingPage",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/simple-query",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/dataset-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
]


# --- plumbing ---------------------------------------------------------------------------------


def ogc_view(view):
    """JSON errors, CORS and preflight for one resource under /ogc/."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            response["Access-Control-Allow-Headers"] = "Accept, Accept-Language, Content-Type"
            response["Access-Control-Max-Age"] = "86400"
        elif request.method not in ("GET", "HEAD"):
            response = error(GridGovError(_("只支持 GET 请求。"), code="method_not_allowed"), status=405)
            response["Allow"] = "GET, HEAD, OPTIONS"
        else:
            try:
                response = view(request, *args, **kwargs)
            except GridGovError as exc:
                response = error(exc)
        response["Access-Control-Allow-Origin"] = "*"
        return response

    return wrapper


def error(exc: GridGovError, status: int | None = None) -> HttpResponse:
    """The house error body, with OGC's `description` beside `message` for OGC clients."""
    body = exc.as_body()
    body["description"] = body["message"]
    return json_response(body, status=status or exc.status)


def json_response(data, *, status: int = 200, content_type: str = JSON, headers: dict | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(data, ensure_ascii=False, default=str), status=status, content_type=content_type)
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def wants_html(request, f: str | None) -> bool:
    if f:
        return f == "html"
    accept = request.headers.get("Accept", "")
    return "text/html" in accept and "json" not in accept


def url(request, name: str, **kwargs) -> str:
    return request.build_absolute_uri(reverse(name, kwargs=kwargs))


def link(href: str, rel: str, type_: str, title: str = "", **extra) -> dict:
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    out.update(extra)
    return out


def page(request, template: str, data: dict, title: str) -> HttpResponse:
    response = render(request, f"ogc/{template}.html", {"data": data, "title": title})
    response["Vary"] = "Accept"
    return response


def _collection(request, cid: str) -> Collection:
    c = collection_for(cid, request.user)
    if c is None:
        raise NotFound(_("没有这个图层。"), code="unknown_collection", field="collectionId")
    return c


# --- resources ---------------------------------------------------------------------------------


@ogc_view
def landing(request):
    f = params.metadata_query(request)
    data = {
        "title": _("GridGov OGC API"),
        "description": _("杭州生态环境网格化监管：三线一单分区、网格与行政区（演示数据为合成）"),
        "links": [
            link(url(request, "ogc-landing"), "self", JSON, _("本页")),
            link(url(request, "ogc-landing") + "?f=html", "alternate", HTML, _("网页")),
            link(
                url(request, "ogc-api"), "service-desc", "application/vnd.oai.openapi+json;version=3.0", _("接口定义")
            ),
            link(url(request, "ogc-conformance"), "conformance", JSON, _("符合的标准")),
            link(url(request, "ogc-collections"), "data", JSON, _("图层")),
            link(
                url(request, "ogc-tiles"), "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", JSON, _("矢量瓦片")
            ),
            link(
                url(request, "ogc-tilematrixsets"),
                "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
                JSON,
                _("瓦片矩阵集"),
            ),
        ],
    }
    if wants_html(request, f):
        return page(request, "landing", data, data["title"])
    return json_response(data)


@ogc_view
def conformance(request):
    f = params.metadata_query(request)
    data = {"conformsTo": CONFORMANCE}
    if wants_html(request, f):
        return page(request, "conformance", data, _("符合的标准"))
    return json_response(data)


def collection_doc(request, c: Collection) -> dict:
    items = url(request, "ogc-items", cid=c.id)
    extent = {"spatial": {"bbox": [query.extent(c)], "crs": params.CRS84}}
    if c.history is not None:
        extent["temporal"] = {
            "interval": [[query.temporal_start(c), None]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    links = [
        link(url(request, "ogc-collection", cid=c.id), "self", JSON, str(c.title)),
        link(url(request, "ogc-collection", cid=c.id) + "?f=html", "alternate", HTML, _("网页")),
        link(items, "items", GEOJSON, _("要素")),
        link(items + "?f=html", "items", HTML, _("要素（网页）")),
        link(items + "?f=csv", "alternate", CSV.split(";")[0], _("要素（CSV）")),
        link(items + "?f=geojsonseq", "alternate", GEOJSONSEQ, _("要素（GeoJSON 文本序列）")),
        link(
            url(request, "ogc-queryables", cid=c.id),
            "http://www.opengis.net/def/rel/ogc/1.0/queryables",
            SCHEMA_JSON,
            _("可查询属性"),
        ),
    ]
    if c.scope is None:
        links += [
            link(
                url(request, "ogc-collection-tilesets", cid=c.id),
                "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                JSON,
                _("矢量瓦片"),
            ),
            link(url(request, "tilejson", layer=c.id), "describedby", JSON, "TileJSON"),
            link(url(request, "tile-style", layer=c.id), "stylesheet", "application/vnd.mapbox.style+json", _("样式")),
        ]
    return {
        "id": c.id,
        "title": str(c.title),
        "description": str(c.description),
        "itemType": "feature",
        "extent": extent,
        "crs": params.CRS_LIST,
        "storageCrs": params.CRS84,
        "links": links,
    }


@ogc_view
def collections(request):
    f = params.metadata_query(request)
    data = {
        "links": [
            link(url(request, "ogc-collections"), "self", JSON),
            link(url(request, "ogc-collections") + "?f=html", "alternate", HTML, _("网页")),
        ],
        "collections": [collection_doc(request, c) for c in collections_for(request.user)],
    }
    if wants_html(request, f):
        return page(request, "collections", data, _("图层"))
    return json_response(data)


@ogc_view
def collection(request, cid: str):
    c = _collection(request, cid)
    f = params.metadata_query(request)
    data = collection_doc(request, c)
    if wants_html(request, f):
        return page(request, "collection", data, data["title"])
    return json_response(data)


SCHEMA_TYPES = {"date-time": {"type": "string", "format": "date-time"}}


@ogc_view
def queryables(request, cid: str):
    c = _collection(request, cid)
    f = params.metadata_query(request)
    props = {
        "geometry": {
            "title": _("范围"),
            "format": f"geometry-{c.geometry_type.lower()}",
            "$ref": f"https://geojson.org/schema/{c.geometry_type}.json",
            "x-ogc-role": "primary-geometry",
        }
    }
    for field in c.fields_for(request.user):
        entry = {"title": str(field.title), **SCHEMA_TYPES.get(field.type, {"type": field.type})}
        if field.enum:
            entry["enum"] = list(field.enum)
        if field.name == c.datetime_field:
            entry["x-ogc-role"] = "primary-instant"
        props[field.name] = entry
    data = {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": url(request, "ogc-queryables", cid=c.id),
        "type": "object",
        "title": str(c.title),
        "properties": props,
        "additionalProperties": False,
    }
    if wants_html(request, f):
        return page(request, "queryables", data, _("可查询属性"))
    return json_response(data, content_type=SCHEMA_JSON)


def _crs_header(crs: str) -> dict:
    return {"Content-Crs": f"<{crs}>"}


def _chunks(head: str, rows: list[str], tail: str, sep: str = ","):
    """The body in pieces of about STREAM_FROM characters (features are never split)."""
    buf, size = [head], len(head)
    for i, row in enumerate(rows):
        piece = row if i == 0 else sep + row
        buf.append(piece)
        size += len(piece)
        if size >= STREAM_FROM:
            yield "".join(buf).encode()
            buf, size = [], 0
    buf.append(tail)
    yield "".join(buf).encode()


def _body(chunks, content_type: str, headers: dict) -> HttpResponse:
    chunks = iter(chunks)
    first = next(chunks)
    second = next(chunks, None)
    if second is None:
        response = HttpResponse(first, content_type=content_type)
    else:
        response = StreamingHttpResponse(_prepend(first, second, chunks), content_type=content_type)
    for key, value in headers.items():
        response[key] = value
    return response


def _prepend(first, second, rest):
    yield first
    yield second
    yield from rest


def _page_links(request, c: Collection, q: params.ItemsQuery, returned: int, matched: int) -> list[dict]:
    base = url(request, "ogc-items", cid=c.id)
    links = [
        link(request.build_absolute_uri(), "self", GEOJSON, _("本页")),
        link(url(request, "ogc-collection", cid=c.id), "collection", JSON, str(c.title)),
    ]
    query_string = request.GET.copy()
    for fmt, type_ in (("html", HTML), ("csv", CSV.split(";")[0]), ("geojsonseq", GEOJSONSEQ)):
        query_string["f"] = fmt
        links.append(link(f"{base}?{query_string.urlencode()}", "alternate", type_))
    query_string.pop("f")
    query_string["limit"] = str(q.limit)
    if q.offset + returned < matched:
        query_string["offset"] = str(q.offset + q.limit)
        links.append(link(f"{base}?{query_string.urlencode()}", "next", GEOJSON, _("下一页")))
    if q.offset > 0:
        query_string["offset"] = str(max(0, q.offset - q.limit))
        links.append(link(f"{base}?{query_string.urlencode()}", "prev", GEOJSON, _("上一页")))
    return links


def _format(request, q: params.ItemsQuery) -> str:
    return q.format if "f" in request.GET else ("html" if wants_html(request, None) else "geojson")


@ogc_view
def items(request, cid: str):
    c = _collection(request, cid)
    q = params.items_query(request, c)
    if q.format == "csv":
        return _csv(c, q, request)
    rows, matched = query.page(c, q, request.user)
    headers = _crs_header(q.crs)
    if q.format == "geojsonseq":
        # RFC 8142: each feature preceded by RS and followed by a line feed.
        return _body(_chunks("", [f"\x1e{r}\n" for r in rows], "", sep=""), GEOJSONSEQ, headers)
    links = _page_links(request, c, q, len(rows), matched)
    if _format(request, q) == "html":
        features = [json.loads(r) for r in rows]
        data = {
            "collection": collection_doc(request, c),
            "features": features,
            "numberMatched": matched,
            "links": links,
        }
        data["fields"] = [f for f in c.fields_for(request.user) if q.properties is None or f.name in q.properties]
        return page(request, "items", data, str(c.title))
    head = (
        f'{{"type":"FeatureCollection","numberMatched":{matched},"numberReturned":{len(rows)},'
        f'"timeStamp":"{timezone.now().isoformat(timespec="seconds")}",'
        f'"links":{json.dumps(links, ensure_ascii=False)},"features":['
    )
    return _body(_chunks(head, rows, "]}"), GEOJSON, headers)


def _csv(c: Collection, q: params.ItemsQuery, request) -> HttpResponse:
    header, rows = query.table_rows(c, q, request.user)

    def lines():
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        for i, row in enumerate(rows, 1):
            writer.writerow(row)
            if i % 2000 == 0:
                yield out.getvalue().encode()
                out.seek(0)
                out.truncate()
        yield out.getvalue().encode()

    headers = {"Content-Disposition": f'attachment; filename="{c.id}.csv"', **_crs_header(q.crs)}
    return _body(lines(), CSV, headers)


@ogc_view
def item(request, cid: str, fid: str):
    c = _collection(request, cid)
    q = params.items_query(request, c, single=True)
    text = query.feature(c, fid, q, request.user)
    if text is None:
        raise NotFound(_("没有这个要素。"), code="unknown_feature", field="featureId")
    links = [
        link(request.build_absolute_uri(), "self", GEOJSON),
        link(url(request, "ogc-item", cid=c.id, fid=fid) + "?f=html", "alternate", HTML, _("网页")),
        link(url(request, "ogc-collection", cid=c.id), "collection", JSON, str(c.title)),
    ]
    if _format(request, q) == "html":
        data = {"collection": collection_doc(request, c), "feature": json.loads(text), "links": links}
        data["fields"] = [f for f in c.fields_for(request.user) if q.properties is None or f.name in q.properties]
        return page(request, "item", data, fid)
    body = text[:-1] + f',"links":{json.dumps(links, ensure_ascii=False)}}}'
    return HttpResponse(body.encode(), content_type=GEOJSON, headers=_crs_header(q.crs))


@ogc_view
def not_found(request, rest: str = ""):
    raise NotFound(_("没有这个资源。"), code="not_found")
