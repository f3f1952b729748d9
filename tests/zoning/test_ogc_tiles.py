"""OGC API – Features and the vector tile layers of the zoning app."""

from __future__ import annotations

import pytest

from gridgov.tiles import render_tile
from gridgov.untrusted import tool_environment


def test_landing_conformance_api(api):
    links = {link["rel"]: link["href"] for link in api.get("/ogc/").json()["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(links)
    conf = api.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conf
    assert api.get("/ogc/api").json()["openapi"].startswith("3.0")


def test_collections_and_paging(api):
    ids = [c["id"] for c in api.get("/ogc/collections").json()["collections"]]
    assert ids == ["control-units", "red-line", "grid-cells", "admin-areas", "quality-stations"]
    page = api.get("/ogc/collections/grid-cells/items", {"limit": 10}).json()
    assert page["numberReturned"] == 10 and page["numberMatched"] > 1000
    nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
    page2 = api.get(nxt.replace("http://testserver", "")).json()
    assert page2["features"][0]["id"] > page["features"][-1]["id"]
    box = api.get("/ogc/collections/control-units/items", {"bbox": "120.1,30.2,120.11,30.21"}).json()
    assert 0 < box["numberMatched"] < 10


def test_item_crs_4490_is_lat_first(api):
    fid = api.get("/ogc/collections/control-units/items", {"limit": 1}).json()["features"][0]["id"]
    plain = api.get(f"/ogc/collections/control-units/items/{fid}").json()
    r = api.get(f"/ogc/collections/control-units/items/{fid}", {"crs": "http://www.opengis.net/def/crs/EPSG/0/4490"})
    assert r["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4490>"
    lon, lat = plain["geometry"]["coordinates"][0][0][0]
    assert r.json()["geometry"]["coordinates"][0][0][0] == pytest.approx([lat, lon], abs=1e-5)
    assert api.get("/ogc/collections/control-units/items/nope").status_code == 404
    assert api.get("/ogc/collections/nope/items").status_code == 404
    assert api.get("/ogc/collections/control-units/items", {"limit": "x"}).status_code == 400


def test_tile_layers_registered(db):
    assert render_tile("control-units", 9, 426, 211)
    assert render_tile("red-line", 9, 425, 212)


def test_gdal_ogr_client_lists_the_collections(live_url):
    """GDAL's own OGC API – Features driver (what QGIS uses) reads the landing page, the
    collections and features: `ogrinfo OAPIF:<url>/ogc/`."""
    import subprocess

    out = subprocess.run(
        ["ogrinfo", "-ro", "-q", f"OAPIF:{live_url}/ogc/"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=tool_environment(),  # our own server: without the upload hardening (GDAL_SKIP has OAPIF)
    ).stdout
    for collection in ("control-units", "red-line", "grid-cells", "admin-areas"):
        assert collection in out, out
    summary = subprocess.run(
        ["ogrinfo", "-ro", "-so", f"OAPIF:{live_url}/ogc/", "red-line"],
        capture_output=True,
        text=True,
        timeout=120,
        env=tool_environment(),
    )
    assert summary.returncode == 0, summary.stderr
    assert "Geometry: Multi Polygon" in summary.stdout or "Polygon" in summary.stdout, summary.stdout
