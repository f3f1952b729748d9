"""Rows are selected by their shape, not their box (issue 18): bbox queries and vector tiles.

Before the fix, items used `&&` alone (a bbox in the crook of an L-shaped unit returned it) and
tiles kept whatever ST_AsMVTGeom left inside the tile's buffer (the L's upright, 7 m outside the
tile). Shapes and the tile's bounds are in tests/ogc/conftest.py.
"""

from __future__ import annotations

from gridgov.tiles import render_tile

from .conftest import CROOK_BBOX, TILE


def test_bbox_in_the_crook_of_an_l_does_not_return_it(api, l_unit):
    body = api.get("/ogc/collections/control-units/items", {"bbox": CROOK_BBOX}).json()
    assert body["numberMatched"] == 0 and body["features"] == []
    # A box over the L's foot does return it.
    foot = api.get("/ogc/collections/control-units/items", {"bbox": "120.10,30.231,120.11,30.234"}).json()
    assert [f["id"] for f in foot["features"]] == ["ZH33010629001"]


def test_bbox_returns_what_the_box_touches(api, l_unit, square_unit):
    body = api.get("/ogc/collections/control-units/items", {"bbox": CROOK_BBOX}).json()
    assert [f["id"] for f in body["features"]] == ["ZH33010639002"]
    assert body["numberMatched"] == 1


def test_bbox_crs_4490_takes_latitude_first(api, l_unit, square_unit):
    lat_first = "30.24,120.09,30.25,120.11"
    body = api.get(
        "/ogc/collections/control-units/items",
        {"bbox": lat_first, "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4490"},
    ).json()
    assert [f["id"] for f in body["features"]] == ["ZH33010639002"]


def test_tile_leaves_out_a_feature_whose_box_overlaps_but_shape_does_not(l_unit):
    # Only the L exists: its box overlaps the tile, its shape does not, so the tile is empty.
    assert render_tile("control-units", *TILE) == b""
    # The tile south of it holds the L's foot.
    z, x, y = TILE
    assert render_tile("control-units", z, x, y + 1) != b""


def test_tile_keeps_a_feature_inside_it(l_unit, square_unit):
    tile = render_tile("control-units", *TILE)
    assert b"ZH33010639002" in tile and b"ZH33010629001" not in tile
