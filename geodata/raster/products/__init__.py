"""Inputs as they are downloaded: ``open_product(path)`` recognises a Sentinel-2 L2A ``.SAFE``
folder or zip, a STAC item JSON, a Landsat 8/9 Collection-2 Level-2 folder or a stacked GeoTIFF
and returns one ``DateSource`` (``base``); ``source_grid`` / ``validate_source`` open its files
(only as what they claim to be) and check them without reading more than two pixels a band.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from affine import Affine
from rasterio.crs import CRS

from ..errors import CorruptRasterError, SensorMismatchError
from .base import (
    ROLES,
    BandFile,
    DateSource,
    MissingBandError,
    UnsafePathError,
    check_dataset,
    open_band,
)
from .landsat import is_landsat, read_landsat
from .netcdf import cube_dates, read_cube_date
from .safe import is_safe, read_safe
from .stac import is_stac, looks_like_stac, read_stac
from .stack import read_stack, stack_date

__all__ = [
    "ROLES",
    "BandFile",
    "DateSource",
    "Grid",
    "MissingBandError",
    "UnsafePathError",
    "cube_dates",
    "looks_like_stac",
    "open_product",
    "product_kind",
    "read_cube_date",
    "source_grid",
    "stack_date",
    "validate_source",
]

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-_]+:")


@dataclass(frozen=True)
class Grid:
    """The pixel grid a date is read onto: its reference (finest) band's."""

    crs_wkt: str
    transform: tuple[float, ...]
    width: int
    height: int
    block_shape: tuple[int, int]

    @property
    def crs(self) -> CRS:
        return CRS.from_wkt(self.crs_wkt)

    @property
    def affine(self) -> Affine:
        return Affine(*self.transform[:6])

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        t = self.affine
        xs = (t.c, t.c + t.a * self.width)
        ys = (t.f, t.f + t.e * self.height)
        return min(xs), min(ys), max(xs), max(ys)

    @property
    def pixel_size(self) -> float:
        return max(abs(self.transform[0]), abs(self.transform[4]))


def check_user_path(path: str | Path) -> Path:
    """A path given on the command line or registered: a local file or folder, nothing GDAL
    would read over the network or through a virtual file system."""
    text = str(path)
    if "/vsi" in text.lower() or (_URL.match(text) and not re.match(r"^[A-Za-z]:[\\/]", text)):
        raise UnsafePathError(text, "unsafe_path")
    p = Path(text).expanduser()
    if not p.exists():
        raise CorruptRasterError(text, "file_missing")
    return p.resolve()


def product_kind(path: Path) -> str:
    if is_stac(path):
        return "stac"
    if is_landsat(path):
        return "landsat_c2"
    if is_safe(path):
        return "safe"
    if path.is_file():
        return "stack"
    raise CorruptRasterError(path, "not_a_product")


def open_product(path: str | Path, *, sensor: str | None = None, acquired: dt.date | None = None) -> DateSource:
    """One date of one product; ``sensor`` and ``acquired`` override what the product says
    (a product that says another sensor is refused)."""
    p = check_user_path(path)
    kind = product_kind(p)
    if kind == "stack":
        return read_stack(p, sensor=sensor, acquired=acquired)
    reader = {"stac": read_stac, "landsat_c2": read_landsat, "safe": read_safe}[kind]
    source = reader(p, acquired=acquired)
    if sensor and sensor != source.sensor:
        raise SensorMismatchError(p, "sensor_differs", actual=source.sensor, expected=sensor)
    return source


def _files(source: DateSource) -> list[BandFile]:
    seen, out = set(), []
    for bf in [*(source.bands[r] for r in source.roles), *([source.mask] if source.mask else [])]:
        if (bf.path, bf.index) not in seen:
            seen.add((bf.path, bf.index))
            out.append(bf)
    return out


def band_georef(ds, band: BandFile) -> tuple[CRS, Affine]:
    if band.georef is not None:
        return CRS.from_wkt(band.georef[0]), Affine(*band.georef[1])
    return ds.crs, ds.transform


def validate_source(source: DateSource, *, check_read: bool = True) -> Grid:
    """Open every band (with its one driver) and check it; return the date's grid: that of
    its finest reflectance band (first of the finest, in role order)."""
    best = None
    for bf in _files(source):
        with open_band(bf) as ds:
            check_dataset(ds, bf, check_read=check_read)
            crs, tr = band_georef(ds, bf)
            if bf is source.mask:
                continue
            res = max(abs(tr.a), abs(tr.e))
            if best is None or res < best[0] - 1e-9:
                block = ds.block_shapes[bf.index - 1]
                best = (res, Grid(crs.to_wkt(), tuple(tr)[:6], ds.width, ds.height, (int(block[0]), int(block[1]))))
    if best is None:
        raise MissingBandError(source.path, "no_reflectance_band")
    return best[1]


def source_grid(source: DateSource) -> Grid:
    return validate_source(source, check_read=False)
