"""Mapbox vector tiles straight from PostGIS (`ST_AsMVT`), for the maps of every page.

Apps register their layers with `register_layer`; the grid core registers admin areas and
grid cells. Raw SQL because ST_AsMVT/ST_AsMVTGeom have no ORM equivalent.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse

from .errors import InvalidInput


@dataclass(frozen=True)
class TileLayer:
    name: str
    source: str  # FROM clause, e.g. "gridgov_gridcell c"
    geom_column: str  # geometry column in the storage SRID, e.g. "c.geom"
    columns: str  # attribute columns, e.g. "c.code, c.level"
    where: str = "TRUE"  # extra filter; may use %(z)s
    min_zoom: int = 0
    max_zoom: int = 22

    def sql(self) -> str:
        return f"""
            SELECT ST_AsMVT(t, %(name)s, 4096, 'geom') FROM (
                SELECT ST_AsMVTGeom(ST_Transform({self.geom_column}, 3857),
                                    ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4096, 64, true) AS geom,
                       {self.columns}
                  FROM {self.source}
                 WHERE {self.geom_column} && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4326)
                   AND ({self.where})
            ) AS t WHERE t.geom IS NOT NULL
        """


LAYERS: dict[str, TileLayer] = {}


def register_layer(layer: TileLayer) -> None:
    LAYERS[layer.name] = layer


register_layer(
    TileLayer(
        name="admin-areas",
        source="gridgov_adminarea a",
        geom_column="a.geom",
        columns="a.code, a.name, a.level, a.synthetic",
        # Townships only once they are big enough on screen to read.
        where="a.level <> 'township' OR %(z)s >= 9",
    )
)
register_layer(
    TileLayer(
        name="grid-cells",
        source="gridgov_gridcell c",
        geom_column="c.geom",
        columns="c.code, c.level, c.synthetic",
        min_zoom=11,
    )
)


def render_tile(layer_name: str, z: int, x: int, y: int) -> bytes:
    """Return one tile of a layer as MVT bytes (empty outside the layer's zoom range)."""
    layer = LAYERS.get(layer_name)
    if layer is None:
        raise Http404(f"unknown layer {layer_name!r}")
    if not 0 <= z <= 22:
        raise InvalidInput("'z' must be between 0 and 22", field="z")
    if not (0 <= x < 2**z and 0 <= y < 2**z):
        raise InvalidInput(f"'x' and 'y' must be between 0 and {2**z - 1} at zoom {z}", field="x")
    if not layer.min_zoom <= z <= layer.max_zoom:
        return b""
    with connection.cursor() as cursor:
        cursor.execute(layer.sql(), {"z": z, "x": x, "y": y, "name": layer.name})
        data = cursor.fetchone()[0]
    return bytes(data) if data else b""


def tile_view(request, layer: str, z: int, x: int, y: int):
    try:
        data = render_tile(layer, z, x, y)
    except InvalidInput as exc:
        return JsonResponse(exc.as_body(), status=400)
    response = HttpResponse(data, content_type="application/vnd.mapbox-vector-tile")
    response["Cache-Control"] = "public, max-age=300"
    return response
