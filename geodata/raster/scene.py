"""Open and validate stacked scene files (no full reads: at most one block is decoded); only
as GeoTIFFs, whatever GDAL would guess from the content (``products.base.sniff_driver``)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import RasterioError
from rasterio.windows import Window

from .constants import SensorProfile, sensor_profile
from .errors import BandCountError, CorruptRasterError, NoCRSError
from .products.base import sniff_driver
from .types import SceneInfo

#: A header claiming more pixels than this (per band) is refused rather than trusted.
MAX_PIXELS = 4_000_000_000
#: A single block (strip or tile, all bands) larger than this is refused: reading one pixel
#: would make GDAL allocate it.
MAX_BLOCK_BYTES = 512 * 1024 * 1024


def _block_counts(ds) -> tuple[int, int, int, int]:
    bh, bw = ds.block_shapes[0]
    return bh, bw, math.ceil(ds.height / bh), math.ceil(ds.width / bw)


def _check_block_extent(ds, path: str, file_size: int) -> None:
    """Fail fast on truncated TIFFs: the last block must lie inside the file."""
    if ds.driver != "GTiff":
        return
    bh, bw, nby, nbx = _block_counts(ds)
    last = (nbx - 1, nby - 1)
    bidx_list = [1] if ds.interleaving is None or ds.interleaving.name == "PIXEL" else [1, ds.count]
    for bidx in bidx_list:
        try:
            off = ds.get_tag_item(f"BLOCK_OFFSET_{last[0]}_{last[1]}", "TIFF", bidx=bidx)
            size = ds.get_tag_item(f"BLOCK_SIZE_{last[0]}_{last[1]}", "TIFF", bidx=bidx)
        except Exception:  # noqa: BLE001 - metadata item not exposed: rely on the read test
            return
        if off and size and int(off) + int(size) > file_size:
            raise CorruptRasterError(
                path, f"truncated TIFF: last block ends at byte {int(off) + int(size)} but the file has {file_size}"
            )


def validate_scene(path: str | os.PathLike, sensor: str | SensorProfile, *, check_read: bool = True) -> SceneInfo:
    """Check ``path`` is a readable GeoTIFF with a CRS and the sensor's band count.

    Raises CorruptRasterError, NoCRSError, BandCountError. Reads no more than the first and the
    last block of band 1, and refuses headers whose size or block size is absurd before reading.
    """
    prof = sensor_profile(sensor)
    p = str(path)
    if not Path(p).is_file():
        raise CorruptRasterError(p, "file does not exist")
    file_size = Path(p).stat().st_size
    if sniff_driver(p) != "GTiff":
        raise CorruptRasterError(p, "expected a GeoTIFF, got a JPEG 2000 file")
    try:
        ds = rasterio.open(p, driver="GTiff")
    except RasterioError as exc:
        raise CorruptRasterError(p, f"not a readable raster ({exc})") from exc
    with ds:
        if ds.driver != "GTiff":
            raise CorruptRasterError(p, f"expected a GeoTIFF, got driver {ds.driver}")
        if ds.width <= 0 or ds.height <= 0 or ds.width * ds.height > MAX_PIXELS:
            raise CorruptRasterError(p, f"header claims {ds.width}x{ds.height} pixels, refusing (max {MAX_PIXELS})")
        bh, bw = ds.block_shapes[0]
        itemsize = np.dtype(ds.dtypes[0]).itemsize
        if bh * bw * ds.count * itemsize > MAX_BLOCK_BYTES:
            raise CorruptRasterError(p, f"block of {bw}x{bh}x{ds.count} is too large to read safely")
        if ds.crs is None:
            raise NoCRSError(p, "raster has no CRS (georeferencing missing)")
        if ds.count != prof.band_count:
            raise BandCountError(p, f"sensor {prof.name!r} expects {prof.band_count} bands, file has {ds.count}")
        if check_read:
            _check_block_extent(ds, p, file_size)
            try:
                ds.read(1, window=Window(0, 0, 1, 1))
                ds.read(1, window=Window(ds.width - 1, ds.height - 1, 1, 1))
            except RasterioError as exc:
                raise CorruptRasterError(p, f"pixel data cannot be decoded ({exc})") from exc
        return SceneInfo(
            path=p,
            crs_wkt=ds.crs.to_wkt(),
            transform=tuple(ds.transform)[:6],
            width=ds.width,
            height=ds.height,
            count=ds.count,
            dtype=ds.dtypes[0],
            nodata=ds.nodata,
            block_shape=(bh, bw),
            sensor=prof.name,
        )


def open_scene(path: str | os.PathLike, sensor: str | SensorProfile, *, check_read: bool = True):
    """Validate then open ``path``; the caller closes the returned dataset."""
    validate_scene(path, sensor, check_read=check_read)
    return rasterio.open(str(path), driver="GTiff")
