"""Reading a product to register it, in the child process of `gridgov.untrusted.run_isolated`.

A scene's files come from outside (a download, a colleague's folder, an upload), so the web
process never parses them: `read_scene` opens the product and checks its header and pixels in
a limited child with only the raster drivers a product may hold (`DRIVERS`, the same rule as
vector uploads: each file is opened only as the driver its signature shows). A refusal of the
raster core travels back as `Refused("raster", {"error": <RasterError>})`: the error keeps its
code and parameters for the web process to translate (`geodata.problems`).

This module must import without Django (the child does not configure it): it returns plain data.
"""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import rasterio
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile

from gridgov import untrusted

from .raster.errors import RasterError
from .raster.products import Grid, open_product, validate_source
from .raster.products.base import DateSource

#: The GDAL drivers a product's files may need: stacked GeoTIFFs, Landsat's GeoTIFF bands,
#: Sentinel-2's JPEG 2000 bands (inside a folder or read through /vsizip/, not a driver).
DRIVERS = ("GTiff", "JP2OpenJPEG")


def register_drivers() -> None:
    """Have rasterio's GDAL register its drivers now (it does so lazily, on first use): drivers
    deregistered after this stay deregistered, while a first use after the restriction would
    bring them all back."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with MemoryFile() as mem, mem.open(driver="GTiff", width=1, height=1, count=1, dtype="uint8") as ds:
            ds.write(np.zeros((1, 1, 1), np.uint8))


def prepare() -> None:
    """In the child: every GDAL library registered, then left with `DRIVERS` only. Done here as
    well as through the limits, so it holds however the fork server was started."""
    with rasterio.Env():
        register_drivers()
    untrusted.restrict_gdal_drivers(DRIVERS)


def read_scene(path: str, *, sensor: str | None, acquired: dt.date | None) -> tuple[DateSource, Grid]:
    """The product at `path` and its grid, after the header and pixel checks of the raster core."""
    prepare()
    try:
        source = open_product(path, sensor=sensor, acquired=acquired)
        return source, validate_source(source)
    except RasterError as exc:
        raise untrusted.Refused("raster", {"error": exc}) from None
