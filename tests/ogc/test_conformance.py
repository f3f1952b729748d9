"""Every conformance class tipg 1.6.1 declares for Features and Tiles is declared here too, and
each has a check (here or in the other tests of tests/ogc/, named beside it). The list is copied
from tipg 1.6.1's tipg/factory.py (COMMON_CONFORMS, FEATURES_CONFORMS, TILES_CONFORMS)."""

from __future__ import annotations

import pytest

TIPG_1_6_1 = [
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/landingPage",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/simple-query",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
]
# What tipg lacks and we keep: Part 2 CRS (EPSG:4490, latitude first).
OURS_ONLY = ["http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"]


def test_declares_every_class_tipg_declares(api):
    declared = api.get("/ogc/conformance").json()["conformsTo"]
    assert set(TIPG_1_6_1) <= set(declared), set(TIPG_1_6_1) - set(declared)
    assert set(OURS_ONLY) <= set(declared)
    assert len(declared) == len(set(declared))


def test_common_core_landing_page_json_and_collections(api):
    landing = api.get("/ogc/")
    assert landing["Content-Type"] == "application/json"
    rels = {link["rel"] for link in landing.json()["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    collections = api.get("/ogc/collections").json()
    for c in collections["collections"]:
        assert {"id", "title", "extent", "links", "itemType"} <= set(c)
        assert api.get(f"/ogc/collections/{c['id']}").json()["id"] == c["id"]


def test_simple_query_bbox_datetime_limit(api):
    # simple-query: limit, bbox and datetime on items (datetime only where there is history)
    page = api.get(
        "/ogc/collections/control-units/items",
        {"limit": 3, "bbox": "119,29,121,31", "datetime": "2026-06-01T00:00:00Z"},
    )
    assert page.status_code == 200 and page.json()["numberReturned"] == 3


@pytest.mark.parametrize(
    "path",
    [
        "/ogc/",
        "/ogc/conformance",
        "/ogc/collections",
        "/ogc/collections/grid-cells",
        "/ogc/collections/grid-cells/items",
        "/ogc/collections/grid-cells/queryables",
    ],
)
def test_html_for_every_resource(api, path):
    response = api.get(path, {"f": "html"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert b'data-testid="ogc-page"' in response.content


def test_oas30_documents_every_resource(api):
    doc = api.get("/ogc/api")
    assert doc["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    body = doc.json()
    assert body["openapi"].startswith("3.0")
    for path in (
        "/",
        "/conformance",
        "/collections",
        "/collections/{collectionId}/items",
        "/collections/{collectionId}/items/{featureId}",
        "/collections/{collectionId}/queryables",
        "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
        "/tileMatrixSets/{tileMatrixSetId}",
        "/collections/control-units/items",
    ):
        assert path in body["paths"], path
    names = {p["name"] for p in body["paths"]["/collections/control-units/items"]["get"]["parameters"]}
    assert {"filter", "filter-lang", "sortby", "properties", "ids", "datetime", "category"} <= names


def test_geojson_items_and_item(api):
    page = api.get("/ogc/collections/admin-areas/items", {"limit": 2})
    assert page["Content-Type"] == "application/geo+json"
    body = page.json()
    assert body["type"] == "FeatureCollection" and {"numberMatched", "numberReturned", "links"} <= set(body)
    feature = body["features"][0]
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "MultiPolygon"
    one = api.get(f"/ogc/collections/admin-areas/items/{feature['id']}")
    assert one.json()["id"] == feature["id"] and one["Content-Type"] == "application/geo+json"


def test_queryables_and_features_filter(api):
    # filter (queryables resource) and features-filter (filter, filter-lang on items): also test_features.py
    q = api.get("/ogc/collections/control-units/queryables")
    assert q["Content-Type"] == "application/schema+json"
    props = q.json()["properties"]
    assert props["category"]["enum"] == ["priority", "key", "general"]
    assert props["geometry"]["x-ogc-role"] == "primary-geometry"
    from zoning.models import ControlUnit

    expected = ControlUnit.objects.filter(category="priority").count()
    got = api.get("/ogc/collections/control-units/items", {"filter": "category='priority'", "filter-lang": "cql2-text"})
    assert got.json()["numberMatched"] == expected > 0


def test_crs_part_2(api):
    c = api.get("/ogc/collections/red-line").json()
    assert "http://www.opengis.net/def/crs/EPSG/0/4490" in c["crs"] and c["storageCrs"].endswith("CRS84")
    # latitude-first output: tests/zoning/test_ogc_tiles.py::test_item_crs_4490_is_lat_first


def test_tiles_core_tileset_list_and_mvt(api):
    # core + mvt + tileset + tilesets-list: also test_tiles.py
    assert api.get("/ogc/tiles").json()["tilesets"][0]["dataType"] == "vector"
    assert api.get("/ogc/collections/control-units/tiles").json()["tilesets"][0]["links"]
    tile = api.get("/ogc/collections/control-units/tiles/WebMercatorQuad/12/1686/3414")
    assert tile["Content-Type"] == "application/vnd.mapbox-vector-tile" and tile.content
