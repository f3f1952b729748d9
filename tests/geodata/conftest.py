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
