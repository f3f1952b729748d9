"""OGC API – Tiles, TileJSON and style.json: what MapLibre and QGIS read to draw a styled layer."""

from __future__ import annotations

from gridgov.tiles import render_tile

TMS = "WebMercatorQuad"


def test_landing_and_collections_link_the_tiles(api):
    rels = {link["rel"] for link in api.get("/ogc/").json()["links"]}
    assert "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector" in rels
    assert "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes" in rels
    units = api.get("/ogc/collections/control-units").json()
    by_rel = {link["rel"]: link["href"] for link in units["links"]}
    assert by_rel["http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"].endswith(
        "/ogc/collections/control-units/tiles"
    )
    assert by_rel["stylesheet"].endswith("/tiles/control-units/style.json")


def test_tile_matrix_set_is_web_mercator_quad(api):
    sets = api.get("/ogc/tileMatrixSets").json()["tileMatrixSets"]
    assert [s["id"] for s in sets] == [TMS]
    tms = api.get(f"/ogc/tileMatrixSets/{TMS}").json()
    assert tms["crs"] == "http://www.opengis.net/def/crs/EPSG/0/3857"
    z12 = tms["tileMatrices"][12]
    # OGC 17-083r4 Annex D (WebMercatorQuad): level 12 scale 136494.693347, 4096 × 4096 tiles.
    assert z12["matrixWidth"] == 4096 and abs(z12["scaleDenominator"] - 136494.693347) < 1e-3


def test_collection_tileset_and_its_tiles(api):
    tilesets = api.get("/ogc/collections/grid-cells/tiles").json()["tilesets"]
    assert tilesets[0]["dataType"] == "vector" and tilesets[0]["tileMatrixSetURI"].endswith(TMS)
    tileset = api.get(f"/ogc/collections/grid-cells/tiles/{TMS}").json()
    template = next(link["href"] for link in tileset["links"] if link["rel"] == "item")
    assert template.endswith(f"/ogc/collections/grid-cells/tiles/{TMS}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}")
    limits = {lim["tileMatrix"]: lim for lim in tileset["tileMatrixSetLimits"]}
    assert min(int(z) for z in limits) == 11  # grid cells from zoom 11
    lim = limits["14"]
    # The OGC path is z/row/col: row = y, col = x of the XYZ tile.
    row, col = lim["minTileRow"], lim["minTileCol"]
    ogc = api.get(f"/ogc/collections/grid-cells/tiles/{TMS}/14/{row}/{col}")
    assert ogc.status_code == 200 and ogc["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert ogc.content == render_tile("grid-cells", 14, col, row)
    assert api.get(f"/ogc/collections/grid-cells/tiles/{TMS}/5/0/0").status_code == 404  # below zoom 11
    assert api.get(f"/ogc/collections/grid-cells/tiles/{TMS}/14/0/0").status_code == 404  # outside Hangzhou


def test_dataset_tile_holds_every_layer(api):
    tileset = api.get(f"/ogc/tiles/{TMS}").json()
    assert [layer["id"] for layer in tileset["layers"]] == [
        "control-units",
        "red-line",
        "grid-cells",
        "admin-areas",
        "quality-stations",
    ]
    tile = api.get(f"/ogc/tiles/{TMS}/12/1686/3414").content
    assert tile == b"".join(
        render_tile(layer, 12, 3414, 1686)
        for layer in ("control-units", "red-line", "grid-cells", "admin-areas", "quality-stations")
    )
    assert b"control-units" in tile and b"grid-cells" in tile and b"admin-areas" in tile


def test_tilejson(api):
    doc = api.get("/tiles/grid-cells/tilejson.json").json()
    assert doc["tilejson"] == "3.0.0" and doc["tiles"] == ["http://testserver/tiles/grid-cells/{z}/{x}/{y}.pbf"]
    assert doc["minzoom"] == 11 and doc["vector_layers"][0]["id"] == "grid-cells"
    assert doc["vector_layers"][0]["fields"] == {"code": "String", "level": "Number", "synthetic": "Boolean"}
    west, south, east, north = doc["bounds"]
    assert 118 < west < east < 121 and 29 < south < north < 31  # Hangzhou
    assert api.get("/tiles/nope/tilejson.json").status_code == 404


def test_style_colours_the_three_categories(api):
    style = api.get("/tiles/control-units/style.json").json()
    assert style["version"] == 8 and style["sources"]["control-units"]["type"] == "vector"
    fills = {layer["filter"][2]: layer["paint"]["fill-color"] for layer in style["layers"] if layer["type"] == "fill"}
    # green priority / red key / yellow general, as the dashboard draws them (zoning/ogc.py)
    assert fills == {"priority": "#2b8a3e", "key": "#c92a2a", "general": "#e6b800"}
    assert all(layer["source-layer"] == "control-units" for layer in style["layers"])
    grid = api.get("/tiles/grid-cells/style.json").json()
    assert [layer["type"] for layer in grid["layers"]] == ["fill", "line"]
    assert api.get("/tiles/control-units/style.json")["Access-Control-Allow-Origin"] == "*"


def _tile_features(layer, z: int, x: int, y: int) -> list[tuple]:
    """The features a layer's tile statement encodes, sorted (MVT bytes depend on row order)."""
    from django.db import connection

    sql = layer.sql().replace(
        "SELECT ST_AsMVT(t, %(name)s::text, 4096, 'geom') FROM (",
        "SELECT coalesce(array_agg(t.code || ' ' || ST_AsText(t.geom) ORDER BY t.code), '{}') FROM (",
        1,
    )
    assert sql != layer.sql()
    with connection.cursor() as c:
        c.execute(sql, {"z": z, "x": x, "y": y, "name": layer.name})
        return c.fetchone()[0]


def test_grid_cell_tiles_from_the_mercator_copy_are_the_same_tiles(db):
    """grid-cells tiles read the generated EPSG:3857 column (gridgov migration 0004): the same
    features, clipped to the same tile geometry, as transforming `geom` per tile; and the copy
    follows an edited cell."""
    from dataclasses import replace

    from django.contrib.gis.geos import MultiPolygon, Polygon
    from django.db import connection

    from gridgov import tiles
    from gridgov.models import GridCell

    layer = tiles.LAYERS["grid-cells"]
    assert layer.merc_column == "t.geom_merc"
    transformed = replace(layer, merc_column=None)
    compared = 0
    for z, x0, y0 in [(12, 3412, 1684), (14, 13650, 6740)]:
        for x in range(x0, x0 + 5):
            for y in range(y0, y0 + 5):
                fast = _tile_features(layer, z, x, y)
                assert fast == _tile_features(transformed, z, x, y), (z, x, y)
                compared += bool(fast)
    assert compared > 10  # tiles with cells in them were compared, not only empty ones
    cell = GridCell.objects.order_by("code").first()
    cell.geom = MultiPolygon(Polygon.from_bbox((120.10, 30.20, 120.11, 30.21)), srid=4326)
    cell.save()
    with connection.cursor() as c:
        c.execute(
            "SELECT ST_Equals(geom_merc, ST_Transform(geom, 3857)), ST_SRID(geom_merc) FROM gridgov_gridcell WHERE id = %s",
            [cell.pk],
        )
        assert c.fetchone() == (True, 3857)
