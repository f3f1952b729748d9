"""Mapbox vector tiles straight from PostGIS (`ST_AsMVT`), with TileJSON and a Mapbox GL style.

Every OGC collection that the public may see has a tile layer of the same name, registered by
`gridgov.ogc.registry.register` from the collection's declaration (its public tile fields, its
zoom range and its style), so one declaration serves features, tiles, TileJSON and style.json.
`register_layer` takes a bare layer too.
Each tile carries one MVT layer named after the layer (`grid-cells`, `control-units` …).

Rows are chosen by `&&` on the GiST index and then `ST_Intersects` with the tile itself: a
feature whose box overlaps the tile but whose shape does not is not in the tile. A layer whose
table keeps its geometry in Web Mercator as well (`merc_column`: grid cells) is chosen and
clipped in that column, so no feature is transformed per tile. Raw SQL because
ST_AsMVT/ST_AsMVTGeom have no ORM equivalent; every value is bound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import Http404, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from .errors import InvalidInput
from .selectors import prepared_read

# Tile grid: extent and buffer of ST_AsMVTGeom, in tile units (4096 per side).
EXTENT, BUFFER = 4096, 64
MAX_ZOOM = 22
# TileJSON field types by the JSON-schema type of a field.
TILEJSON_TYPES = {"string": "String", "integer": "Number", "number": "Number", "boolean": "Boolean"}


@dataclass(frozen=True)
class TileLayer:
    name: str
    source: str  # FROM clause, e.g. "gridgov_gridcell t"
    geom_column: str  # geometry column in the storage SRID, e.g. "t.geom"
    columns: str  # attribute columns, e.g. "t.code, t.level" (aliased to the field names)
    where: str = "TRUE"  # extra filter; may use %(z)s
    min_zoom: int = 0
    max_zoom: int = MAX_ZOOM
    title: object = ""  # str or lazy translation
    fields: tuple[tuple[str, str], ...] = ()  # (name, JSON-schema type) of the attributes
    style: tuple = ()  # gridgov.ogc.registry.StyleLayer
    bounds: Callable[[], list[float]] | None = None  # lon/lat extent, for TileJSON and the style
    # the same geometry stored in EPSG:3857 (a generated column with its own GiST index, as
    # gridgov_gridcell.geom_merc): rows are chosen and clipped in Mercator, nothing transformed
    merc_column: str | None = None

    def sql(self) -> str:
        # Typed placeholders: the statement is prepared once per connection (server-side
        # binding). The tile's envelopes come from a one-row subquery, so that a generic plan
        # computes them once per tile rather than once per row. The tile is a lon/lat-aligned
        # rectangle, so a feature whose box lies inside it intersects it: only the features on
        # the tile's edges need ST_Intersects. OFFSET 0 fences the inner query: otherwise the
        # planner pushes `t.geom IS NOT NULL` down into the scan and every feature is
        # transformed and clipped twice, once for that filter and once for the tile (a z12
        # tile of 486 grid cells: 14 ms of SQL fenced to 8).
        where = self.where.replace("%(z)s", "%(z)s::int")
        merc = "ST_TileEnvelope(%(z)s::int, %(x)s::int, %(y)s::int)"
        if self.merc_column:  # chosen and clipped in Mercator: nothing to transform
            g, drawn, envelopes, box = self.merc_column, self.merc_column, f"{merc} AS merc", "e.merc"
        else:  # chosen in the storage SRID, transformed to Mercator for the tile
            g, drawn, box = self.geom_column, f"ST_Transform({self.geom_column}, 3857)", "e.wgs"
            envelopes = f"{merc} AS merc, ST_Transform({merc}, 4326) AS wgs"
        return f"""
            SELECT ST_AsMVT(t, %(name)s::text, {EXTENT}, 'geom') FROM (
                SELECT ST_AsMVTGeom({drawn}, e.merc, {EXTENT}, {BUFFER}, true) AS geom, {self.columns}
                  FROM (SELECT {envelopes} OFFSET 0) e, {self.source}
                 WHERE {g} && {box} AND ({g} @ {box} OR ST_Intersects({g}, {box}))
                   AND ({where})
                OFFSET 0
            ) AS t WHERE t.geom IS NOT NULL
        """


LAYERS: dict[str, TileLayer] = {}


def register_layer(layer: TileLayer) -> None:
    LAYERS[layer.name] = layer


def _layer(name: str) -> TileLayer:
    layer = LAYERS.get(name)
    if layer is None:
        raise Http404(name)
    return layer


def render_tile(layer_name: str, z: int, x: int, y: int) -> bytes:
    """Return one tile of a layer as MVT bytes (empty outside the layer's zoom range)."""
    layer = _layer(layer_name)
    if not 0 <= z <= MAX_ZOOM:
        raise InvalidInput(_("缩放级别应在 0 到 22 之间。"), code="out_of_range", field="z")
    if not (0 <= x < 2**z and 0 <= y < 2**z):
        raise InvalidInput(
            _("瓦片行列号应在 0 到 %(max)s 之间（缩放级别 %(z)s）。") % {"max": 2**z - 1, "z": z},
            code="out_of_range",
            field="x",
        )
    if not layer.min_zoom <= z <= layer.max_zoom:
        return b""
    # Prepared once per connection: tiles come in bursts and planning cost a fifth of a tile.
    data = prepared_read(layer.sql(), {"z": z, "x": x, "y": y, "name": layer.name}).fetchone()[0]
    return bytes(data) if data else b""


def tile_response(data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type="application/vnd.mapbox-vector-tile")
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def tile_view(request, layer: str, z: int, x: int, y: int):
    try:
        data = render_tile(layer, z, x, y)
    except InvalidInput as exc:
        return _cors(JsonResponse(exc.as_body(), status=400))
    except Http404:
        return _not_found(layer)
    return tile_response(data)


def _not_found(layer: str) -> JsonResponse:
    body = {"error": "not_found", "code": "unknown_layer", "field": "layer", "message": _("没有这个图层。")}
    return _cors(JsonResponse(body, status=404, json_dumps_params={"ensure_ascii": False}))


def _cors(response):
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _tile_url(request, layer: TileLayer) -> str:
    href = request.build_absolute_uri(reverse("tile", kwargs={"layer": layer.name, "z": 0, "x": 0, "y": 0}))
    return href.replace("/0/0/0.pbf", "/{z}/{x}/{y}.pbf")


def tilejson(request, layer: str):
    """TileJSON 3.0.0 of one layer: where its tiles are, their zooms, bounds and attributes."""
    try:
        tl = _layer(layer)
    except Http404:
        return _not_found(layer)
    doc = {
        "tilejson": "3.0.0",
        "name": tl.name,
        "description": str(tl.title),
        "attribution": _("GridGov（演示数据为合成）"),
        "scheme": "xyz",
        "tiles": [_tile_url(request, tl)],
        "minzoom": tl.min_zoom,
        "maxzoom": tl.max_zoom,
        "vector_layers": [
            {
                "id": tl.name,
                "fields": {name: TILEJSON_TYPES.get(kind, "String") for name, kind in tl.fields},
                "minzoom": tl.min_zoom,
                "maxzoom": tl.max_zoom,
            }
        ],
    }
    if tl.bounds is not None:
        bounds = tl.bounds()
        doc["bounds"] = bounds
        doc["center"] = [round((bounds[0] + bounds[2]) / 2, 6), round((bounds[1] + bounds[3]) / 2, 6), tl.min_zoom]
    return _cors(JsonResponse(doc, json_dumps_params={"ensure_ascii": False}))


def style(request, layer: str):
    """A Mapbox GL (MapLibre) style of one layer, so QGIS and MapLibre load it styled from one URL."""
    try:
        tl = _layer(layer)
    except Http404:
        return _not_found(layer)
    bounds = tl.bounds() if tl.bounds is not None else None
    source = {
        "type": "vector",
        "tiles": [_tile_url(request, tl)],
        "minzoom": tl.min_zoom,
        "maxzoom": tl.max_zoom,
        "attribution": _("GridGov（演示数据为合成）"),
    }
    doc = {"version": 8, "name": str(tl.title or tl.name), "sources": {tl.name: source}, "layers": []}
    if bounds:
        source["bounds"] = bounds
        doc["center"] = [round((bounds[0] + bounds[2]) / 2, 6), round((bounds[1] + bounds[3]) / 2, 6)]
        doc["zoom"] = max(tl.min_zoom, 9)
    for i, sl in enumerate(tl.style):
        entry = {
            "id": f"{tl.name}-{sl.type}{sl.suffix or ('' if i == 0 else i)}",
            "type": sl.type,
            "source": tl.name,
            "source-layer": tl.name,
            "paint": sl.paint,
        }
        if sl.filter is not None:
            entry["filter"] = sl.filter
        if sl.minzoom is not None:
            entry["minzoom"] = sl.minzoom
        doc["layers"].append(entry)
    return _cors(JsonResponse(doc, json_dumps_params={"ensure_ascii": False}))
