from contextlib import ExitStack

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.warp import reproject, transform_bounds

from geodata.raster.detect import detect_changes
from geodata.raster.errors import (
    BandCountError,
    CorruptRasterError,
    NoCRSError,
    NoOverlapError,
    NoValidPixelsError,
    RasterError,
    SensorMismatchError,
)
from geodata.raster.io import DateReader
from geodata.raster.products import open_product, validate_source

from .conftest import T0, field


def validate_scene(path, sensor):
    """A stacked scene through the products path every caller uses."""
    return validate_source(open_product(path, sensor=sensor))


def test_valid_scene(scene):
    p = scene("a.tif", field("grass"))
    source = open_product(p, sensor="gf2")
    grid = validate_source(source)
    assert (grid.width, grid.height, grid.block_shape) == (256, 256, (256, 256))
    assert source.roles == ("blue", "green", "red", "nir") and source.kind == "stack"


def test_corrupt_file(tmp_path):
    p = tmp_path / "junk.tif"
    p.write_bytes(b"II*\x00" + np.random.default_rng(0).bytes(5000))
    with pytest.raises(CorruptRasterError) as e:
        validate_scene(p, "gf2")
    assert "junk.tif" in str(e.value)
    assert isinstance(e.value, RasterError)


def test_missing_file(tmp_path):
    with pytest.raises(CorruptRasterError, match="does not exist"):
        validate_scene(tmp_path / "nope.tif", "gf2")


def test_truncated_tiff(scene):
    p = scene("t.tif", field("grass", seed=3, sigma=0.05))
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptRasterError, match="t.tif"):
        validate_scene(p, "gf2")


def test_no_crs(scene):
    p = scene("nocrs.tif", field("grass"), crs=None)
    with pytest.raises(NoCRSError, match="nocrs.tif: raster has no CRS"):
        validate_scene(p, "gf2")


def test_wrong_band_count(scene):
    p = scene("three.tif", field("grass")[:3])
    with pytest.raises(BandCountError, match="expects 4 bands, file has 3"):
        validate_scene(p, "gf2")


def test_mismatched_pair_band_counts(scene):
    b = scene("b.tif", field("grass"))
    a = scene("a.tif", field("grass")[:3])
    with pytest.raises(BandCountError, match="a.tif"):
        detect_changes(b, a, "gf2")


def test_unknown_sensor(scene):
    with pytest.raises(SensorMismatchError):
        validate_scene(scene("x.tif", field("grass")), "spot7")


def _empty_tiff(path, size: int, **layout):
    """A sparse GeoTIFF of ``size``² px (4 bands) whose header is all there is."""
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=size,
        height=size,
        count=4,
        dtype="uint16",
        crs="EPSG:32651",
        transform=T0,
        sparse_ok=True,
        bigtiff="yes",
        **layout,
    ):
        pass
    return path


def test_huge_header_not_allocated(tmp_path):
    p = _empty_tiff(tmp_path / "huge.tif", 200_000, tiled=True, blockxsize=256, blockysize=256)
    assert p.stat().st_size < 50_000_000
    with pytest.raises(CorruptRasterError, match="header claims 200000x200000"):
        validate_scene(p, "gf2")


def test_huge_block_refused(tmp_path):
    p = _empty_tiff(tmp_path / "strip.tif", 40_000, blockysize=40_000, compress="deflate")
    with pytest.raises(CorruptRasterError, match="too large"):
        validate_scene(p, "gf2")


def test_non_overlapping(scene):
    b = scene("b.tif", field("grass"))
    far = Affine(4.0, 0, T0.c + 50_000, 0, -4.0, T0.f)
    a = scene("a.tif", field("grass"), transform=far)
    with pytest.raises(NoOverlapError, match="does not overlap"):
        detect_changes(b, a, "gf2")


def test_all_cloud(scene):
    b = scene("b.tif", field("grass"))
    a = scene("a.tif", np.full((4, 256, 256), 0.6, np.float32))
    with pytest.raises(NoValidPixelsError, match="no pixel valid"):
        detect_changes(b, a, "gf2", change_raster_path=b.parent / "c.tif")
    assert not (b.parent / "c.tif").exists()


def test_all_nodata(scene):
    b = scene("b.tif", field("grass"))
    a = scene("a.tif", np.zeros((4, 256, 256), np.float32))
    with pytest.raises(NoValidPixelsError):
        detect_changes(b, a, "gf2")


def test_a_date_in_another_crs_is_read_onto_the_grid(tmp_path, scene):
    """The reader warps a date stored in WGS84 onto the UTM grid (WarpedVRT, bilinear)."""
    utm = scene("utm_20240101.tif", field("grass", 64, 64))
    with rasterio.open(utm) as ds:
        data = ds.read()
    # the target grid by hand: calculate_default_transform needs GDAL's VRT driver, which the
    # project's GDAL environment skips (gridgov.untrusted)
    bounds = transform_bounds("EPSG:32651", "EPSG:4326", *rasterio.transform.array_bounds(64, 64, T0))
    w = h = 64
    tr = rasterio.transform.from_bounds(*bounds, w, h)
    out = np.zeros((4, h, w), "uint16")
    reproject(data, out, src_transform=T0, src_crs="EPSG:32651", dst_transform=tr, dst_crs="EPSG:4326")
    wgs = tmp_path / "wgs_20240101.tif"
    prof = dict(driver="GTiff", width=w, height=h, count=4, dtype="uint16", crs="EPSG:4326", transform=tr, nodata=0)
    with rasterio.open(wgs, "w", **prof) as dst:
        dst.write(out)
    grid = validate_source(open_product(utm, sensor="gf2"))
    with ExitStack() as stack:
        window = DateReader(open_product(wgs, sensor="gf2"), grid, ("nir",), stack).read(
            rasterio.windows.Window(0, 0, 64, 64)
        )
    nir = window.reflectance["nir"]
    assert nir.shape == (64, 64)
    assert np.abs(nir[4:-4, 4:-4] * 1e4 - data[3, 4:-4, 4:-4]).mean() < 100
