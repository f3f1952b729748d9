"""One date of a Sentinel-2 L2A netCDF cube like the ones the ``nrt`` package ships
(``time, y, x`` variables ``B2 B3 B4 B8 SCL`` at 10 m, ``B3 B4 B8A B11 SCL`` at 20 m).

GDAL's netCDF driver does not georeference these files (their ``x``/``y`` carry a NaN
``_FillValue``) and, by the netCDF south-up default, returns the rows flipped. They are opened
with ``GDAL_NETCDF_BOTTOMUP=NO`` (rows in storage order) and georeferenced from the ``x``/``y``
pixel-centre coordinates and the ``spatial_ref`` WKT, so WarpedVRT puts them on any grid.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import NotGeoreferencedWarning

from ..errors import CorruptRasterError
from .base import BandFile, DateSource, MissingBandError, sniff_driver

ENV = (("GDAL_NETCDF_BOTTOMUP", "NO"),)
ROLES_10M = {"blue": "B2", "green": "B3", "red": "B4", "nir": "B8"}


def _var(path: Path, name: str) -> str:
    return f'NETCDF:"{path}":{name}'


def _read_1d(path: Path, name: str) -> tuple[np.ndarray, dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.Env(**dict(ENV)), rasterio.open(_var(path, name), driver="netCDF") as ds:
            return ds.read(1).ravel(), ds.tags()


def _georef(path: Path, var: str) -> tuple[str, tuple]:
    x, _ = _read_1d(path, "x")
    y, _ = _read_1d(path, "y")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.Env(**dict(ENV)), rasterio.open(_var(path, var), driver="netCDF") as ds:
            wkt = ds.tags().get("spatial_ref#spatial_ref") or (ds.crs.to_wkt() if ds.crs else None)
    if not wkt or len(x) < 2 or len(y) < 2:
        raise CorruptRasterError(path, "cube_not_georeferenced")
    dx, dy = float(x[1] - x[0]), float(y[1] - y[0])
    return wkt, (dx, 0.0, float(x[0]) - dx / 2, 0.0, dy, float(y[0]) - dy / 2)


def cube_dates(path: str | Path) -> list[dt.date]:
    """The dates of a cube's ``time`` axis (CF ``days since …`` units)."""
    p = Path(path).resolve()
    values, tags = _read_1d(p, "time")
    units = tags.get("time#units") or tags.get("units") or _cube_tags(p).get("time#units", "")
    m = re.match(r"days since (\d{4}-\d{2}-\d{2})", units)
    if not m:
        raise CorruptRasterError(p, "cube_time_units")
    start = dt.date.fromisoformat(m[1])
    return [start + dt.timedelta(days=int(v)) for v in values]


def _cube_tags(p: Path) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.Env(**dict(ENV)), rasterio.open(str(p), driver="netCDF") as ds:
            return ds.tags()


def read_cube_date(path_10m: str | Path, when: dt.date, *, path_20m: str | Path | None = None) -> DateSource:
    """Date ``when`` of the 10 m cube (B2 B3 B4 B8, SCL) with SWIR-1 (B11) from the 20 m cube."""
    p10 = Path(path_10m).resolve()
    sniff_driver(str(p10), allow_netcdf=True)
    dates = cube_dates(p10)
    if when not in dates:
        raise MissingBandError(p10, "cube_no_date", date=str(when), res=10)
    georef = _georef(p10, "B2")

    def band(p: Path, var: str, t: int, g, *, reflectance: bool = True) -> BandFile:
        return BandFile(
            _var(p, var),
            index=t + 1,
            scale=1e-4 if reflectance else 1.0,
            nodata=0,
            driver="netCDF",
            georef=g,
            open_env=ENV,
        )

    t = dates.index(when)
    bands = {role: band(p10, var, t, georef) for role, var in ROLES_10M.items()}
    if path_20m is not None:
        p20 = Path(path_20m).resolve()
        sniff_driver(str(p20), allow_netcdf=True)
        d20 = cube_dates(p20)
        if when not in d20:
            raise MissingBandError(p20, "cube_no_date", date=str(when), res=20)
        bands["swir1"] = band(p20, "B11", d20.index(when), _georef(p20, "B11"))
    return DateSource(
        path=f"{p10}#{when.isoformat()}",
        kind="netcdf",
        sensor="sentinel2",
        acquired=when,
        bands=bands,
        mask=band(p10, "SCL", t, georef, reflectance=False),
        mask_kind="scl",
    )
