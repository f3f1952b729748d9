import numpy as np
import pytest
import rasterio
from rasterio.io import MemoryFile

from geodata.raster.align import aligned_view, overlap_bounds
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
from geodata.raster.scene import open_scene, validate_scene

from .conftest import T0, field


def test_valid_scene(scene):
    p = scene("a.tif", field("grass"))
    info = validate_scene(p, "gf2")
    assert (info.width, info.height, info.count) == (256, 256, 4)
    with open_scene(p, "gf2") as ds:
        assert ds.count == 4


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


def test_huge_header_not_allocated(tmp_path):
    p = tmp_path / "huge.tif"
    with rasterio.open(
        p,
        "w",
        driver="GTiff",
        width=200_000,
        height=200_000,
        count=4,
        dtype="uint16",
        crs="EPSG:32651",
        transform=T0,
        tiled=True,
        blockxsize=256,
        blockysize=256,
        sparse_ok=True,
        bigtiff="yes",
    ):
        pass
    assert p.stat().st_size < 50_000_000
    with pytest.raises(CorruptRasterError, match="header claims 200000x200000"):
        validate_scene(p, "gf2")


def test_huge_block_refused(tmp_path):
    p = tmp_path / "strip.tif"
    with rasterio.open(
        p,
        "w",
        driver="GTiff",
        width=40_000,
        height=40_000,
        count=4,
        dtype="uint16",
        crs="EPSG:32651",
        transform=T0,
        sparse_ok=True,
        bigtiff="yes",
        blockysize=40_000,
        compress="deflate",
    ):
        pass
    with pytest.raises(CorruptRasterError, match="too large"):
        validate_scene(p, "gf2")


def test_non_overlapping(scene):
    from affine import Affine

    b = scene("b.tif", field("grass"))
    far = Affine(4.0, 0, T0.c + 50_000, 0, -4.0, T0.f)
    a = scene("a.tif", field("grass"), transform=far)
    with pytest.raises(NoOverlapError, match="does not overlap"):
        detect_changes(b, a, "gf2")
    with rasterio.open(b) as db, rasterio.open(a) as da, pytest.raises(NoOverlapError):
        overlap_bounds(db, da)


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


def test_aligned_view_memoryfile_reprojects():
    data = (field("grass", 64, 64) * 1e4).astype("uint16")
    prof = dict(driver="GTiff", width=64, height=64, count=4, dtype="uint16", crs="EPSG:32651", transform=T0, nodata=0)
    with MemoryFile() as m1, MemoryFile() as m2:
        with m1.open(**prof) as d:
            d.write(data)
        from rasterio.warp import calculate_default_transform, reproject

        tr, w, h = calculate_default_transform(
            "EPSG:32651", "EPSG:4326", 64, 64, *rasterio.transform.array_bounds(64, 64, T0)
        )
        with m2.open(**{**prof, "crs": "EPSG:4326", "transform": tr, "width": w, "height": h}) as d:
            out = np.zeros((4, h, w), "uint16")
            reproject(data, out, src_transform=T0, src_crs="EPSG:32651", dst_transform=tr, dst_crs="EPSG:4326")
            d.write(out)
        with m1.open() as before, m2.open() as after:
            vrt = aligned_view(before, after)
            arr = vrt.read(4)
            assert arr.shape == (64, 64)
            inner = arr[4:-4, 4:-4]
            assert np.abs(inner.astype(float) - data[3, 4:-4, 4:-4]).mean() < 100
            vrt.close()
