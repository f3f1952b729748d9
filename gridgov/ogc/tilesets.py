"""OGC API – Tiles: vector tilesets of each public collection and of all of them together.

One tile matrix set, WebMercatorQuad (the XYZ grid of web maps), whose tiles are those of
/tiles/<layer>/{z}/{x}/{y}.pbf (gridgov/tiles.py). Tile URLs follow the standard's template
`{tileMatrix}/{tileRow}/{tileCol}` (z/y/x); a tile outside a tileset's limits is a 404, an
empty tile inside them is an empty 200.
"""

from __future__ import annotations

import math

from django.utils.translation import gettext as _

from gridgov import tiles
from gridgov.errors import NotFound

from . import params, query
from .registry import Collection, collection_for, collections_for
from .views import JSON, json_response, link, ogc_view, url

TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
TMS_CRS = "http://www.opengis.net/def/crs/EPSG/0/3857"
MVT = "application/vnd.mapbox-vector-tile"
ORIGIN = 20037508.3427892  # half the width of the EPSG:3857 world, metres
TMS_LEVELS = 25  # WebMercatorQuad defines levels 0–24
REL_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"


def _tms_doc(request) -> dict:
    matrices = []
    for z in range(TMS_LEVELS):
        n = 2**z
        matrices.append(
            {
                "id": str(z),
                "scaleDenominator": 559082264.0287178 / n,
                "cellSize": 156543.03392804097 / n,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [-ORIGIN, ORIGIN],
                "tileWidth": 256,
                "tileHeight": 256,
                "matrixWidth": n,
                "matrixHeight": n,
            }
        )
    return {
        "id": TMS_ID,
        "title": "Google Maps Compatible for the World",
        "uri": TMS_URI,
        "crs": TMS_CRS,
        "orderedAxes": ["E", "N"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": matrices,
        "links": [link(url(request, "ogc-tilematrixset", tms=TMS_ID), "self", JSON)],
    }


def _check_tms(tms: str) -> None:
    if tms != TMS_ID:
        raise NotFound(
            _("只提供 WebMercatorQuad 瓦片矩阵集。"), code="unknown_tile_matrix_set", field="tileMatrixSetId"
        )


@ogc_view
def tilematrixsets(request):
    params.metadata_query(request)
    doc = {
        "id": TMS_ID,
        "title": "Google Maps Compatible for the World",
        "uri": TMS_URI,
        "links": [link(url(request, "ogc-tilematrixset", tms=TMS_ID), REL_SCHEME, JSON)],
    }
    return json_response({"tileMatrixSets": [doc]})


@ogc_view
def tilematrixset(request, tms: str):
    params.metadata_query(request)
    _check_tms(tms)
    return json_response(_tms_doc(request))


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    lat = max(min(lat, 85.0511287798), -85.0511287798)
    col = int((lon + 180.0) / 360.0 * n)
    row = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return min(max(row, 0), n - 1), min(max(col, 0), n - 1)


def _limits(bbox: list[float], min_zoom: int, max_zoom: int) -> list[dict]:
    out = []
    for z in range(min_zoom, max_zoom + 1):
        min_row, min_col = _tile_of(bbox[0], bbox[3], z)
        max_row, max_col = _tile_of(bbox[2], bbox[1], z)
        out.append(
            {
                "tileMatrix": str(z),
                "minTileRow": min_row,
                "maxTileRow": max_row,
                "minTileCol": min_col,
                "maxTileCol": max_col,
            }
        )
    return out


def _union(boxes: list[list[float]]) -> list[float]:
    return [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]


def _layer_doc(c: Collection) -> dict:
    return {
        "id": c.id,
        "title": str(c.title),
        "dataType": "vector",
        "geometryDimension": 2,
        "minTileMatrix": str(c.min_zoom),
        "maxTileMatrix": str(c.max_zoom),
        "propertiesSchema": {
            "type": "object",
            "properties": {f.name: {"title": str(f.title), "type": f.type} for f in c.tile_fields},
        },
    }


def _tileset(request, *, title: str, layers: list[Collection], self_href: str, tile_href: str) -> dict:
    bbox = _union([query.extent(c) for c in layers])
    min_zoom, max_zoom = min(c.min_zoom for c in layers), max(c.max_zoom for c in layers)
    return {
        "title": title,
        "dataType": "vector",
        "crs": TMS_CRS,
        "tileMatrixSetURI": TMS_URI,
        "boundingBox": {"lowerLeft": bbox[:2], "upperRight": bbox[2:], "crs": params.CRS84},
        "tileMatrixSetLimits": _limits(bbox, min_zoom, max_zoom),
        "layers": [_layer_doc(c) for c in layers],
        "links": [
            link(self_href, "self", JSON, title),
            link(url(request, "ogc-tilematrixset", tms=TMS_ID), REL_SCHEME, JSON, TMS_ID),
            link(tile_href, "item", MVT, _("矢量瓦片（模板）"), templated=True),
        ],
    }


def _template(href_of_zero: str) -> str:
    return href_of_zero.rsplit("/0/0/0", 1)[0] + "/{tileMatrix}/{tileRow}/{tileCol}"


def _public_collection(request, cid: str) -> Collection:
    c = collection_for(cid, request.user)
    if c is None or c.id not in tiles.LAYERS:
        raise NotFound(_("没有这个图层的矢量瓦片。"), code="unknown_collection", field="collectionId")
    return c


def _tiled_collections(request) -> list[Collection]:
    return [c for c in collections_for(request.user) if c.id in tiles.LAYERS]


def _tilesets_list(request, title: str, self_href: str, tileset_href: str) -> dict:
    return {
        "tilesets": [
            {
                "title": title,
                "dataType": "vector",
                "crs": TMS_CRS,
                "tileMatrixSetURI": TMS_URI,
                "links": [
                    link(tileset_href, "self", JSON, title),
                    link(url(request, "ogc-tilematrixset", tms=TMS_ID), REL_SCHEME, JSON, TMS_ID),
                ],
            }
        ],
        "links": [link(self_href, "self", JSON)],
    }


@ogc_view
def dataset_tilesets(request):
    params.metadata_query(request)
    data = _tilesets_list(request, _("全部图层"), url(request, "ogc-tiles"), url(request, "ogc-tileset", tms=TMS_ID))
    return json_response(data)


@ogc_view
def dataset_tileset(request, tms: str):
    params.metadata_query(request)
    _check_tms(tms)
    zero = url(request, "ogc-tile", tms=TMS_ID, z=0, row=0, col=0)
    doc = _tileset(
        request,
        title=_("全部图层"),
        layers=_tiled_collections(request),
        self_href=url(request, "ogc-tileset", tms=TMS_ID),
        tile_href=_template(zero),
    )
    return json_response(doc)


@ogc_view
def collection_tilesets(request, cid: str):
    c = _public_collection(request, cid)
    params.metadata_query(request)
    data = _tilesets_list(
        request,
        str(c.title),
        url(request, "ogc-collection-tilesets", cid=c.id),
        url(request, "ogc-collection-tileset", cid=c.id, tms=TMS_ID),
    )
    return json_response(data)


@ogc_view
def collection_tileset(request, cid: str, tms: str):
    c = _public_collection(request, cid)
    params.metadata_query(request)
    _check_tms(tms)
    zero = url(request, "ogc-collection-tile", cid=c.id, tms=TMS_ID, z=0, row=0, col=0)
    doc = _tileset(
        request,
        title=str(c.title),
        layers=[c],
        self_href=url(request, "ogc-collection-tileset", cid=c.id, tms=TMS_ID),
        tile_href=_template(zero),
    )
    return json_response(doc)


def _check_tile(request, layers: list[Collection], z: int, row: int, col: int) -> None:
    params.unknown_parameters(request, set())
    inside = False
    bbox = _union([query.extent(c) for c in layers])
    for c in layers:
        if c.min_zoom <= z <= c.max_zoom:
            inside = True
    if inside and z < TMS_LEVELS:
        (min_row, min_col), (max_row, max_col) = _tile_of(bbox[0], bbox[3], z), _tile_of(bbox[2], bbox[1], z)
        inside = min_row <= row <= max_row and min_col <= col <= max_col
    if not inside:
        raise NotFound(_("该瓦片不在瓦片集范围内。"), code="tile_out_of_range", field="tileMatrix")


@ogc_view
def collection_tile(request, cid: str, tms: str, z: int, row: int, col: int):
    c = _public_collection(request, cid)
    _check_tms(tms)
    _check_tile(request, [c], z, row, col)
    return tiles.tile_response(tiles.render_tile(c.id, z, col, row))


@ogc_view
def dataset_tile(request, tms: str, z: int, row: int, col: int):
    _check_tms(tms)
    layers = _tiled_collections(request)
    _check_tile(request, layers, z, row, col)
    # An MVT is a sequence of layers: the tiles of each collection concatenate into one tile.
    data = b"".join(tiles.render_tile(c.id, z, col, row) for c in layers if c.min_zoom <= z <= c.max_zoom)
    return tiles.tile_response(data)
