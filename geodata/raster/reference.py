"""Reference change maps for real data cubes, built from their time series.

A single pair of dates cannot tell a real change from a bad date; a time series can. For a
cube with a scene classification per date (Sentinel-2 SCL), the reference for the pair
(``before``, ``after``) is built from *every* clear observation of a season around each date
(``before_period``, ``after_period``: e.g. June-September of each year), never from the pair
alone, and never from the detector:

1. an observation is clear where SCL is 4 (vegetation) or 5 (not vegetated);
2. a pixel needs at least ``MIN_CLEAR`` clear observations in each period, else it is
   *neutral* (no reference there);
3. it is **changed** (vegetation loss: felling, a new road) when the median NDVI of the after
   period is at least ``DROP`` below the median of the before period *and* at least
   ``MIN_AGREE`` after-period observations are each ``DROP`` below it (several dates agree);
4. it is *neutral* when the drop of the medians is between ``PARTIAL`` and ``DROP`` (thinning
   or partial canopy loss a reviewer may or may not call change), or when the after-period
   dates disagree (the median passes but fewer than ``MIN_AGREE`` dates do);
5. everything else is **unchanged**.

``area_scores(detected, changed, neutral=neutral, tolerance_px=1)`` then gives precision and
recall by area. ``linear_parts`` picks the road out of the reference (a thin line).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import warnings
from dataclasses import dataclass

import numpy as np
import rasterio

from .cleanup import thin_lines
from .products.netcdf import cube_dates, read_cube_date

CLEAR_SCL = (4, 5)
MIN_CLEAR = 3
MIN_AGREE = 3
DROP = 0.15
PARTIAL = 0.07


@dataclass(frozen=True)
class Reference:
    changed: np.ndarray  # bool, on the grid of the before date of the pair
    neutral: np.ndarray  # unknown (too few clear dates) or uncertain (partial drop)
    unknown: np.ndarray  # too few clear dates only
    n_before: np.ndarray  # clear observations per pixel in each period
    n_after: np.ndarray
    dates_before: tuple[dt.date, ...]
    dates_after: tuple[dt.date, ...]


def _in(period: tuple[dt.date, dt.date], d: dt.date) -> bool:
    return period[0] <= d <= period[1]


def _read_dates(band, indexes: list[int]) -> np.ndarray:
    """Bands ``indexes`` (1-based: one per date) of a cube variable, as the reader opens it
    (same GDAL options, so rows come in the same order as the detector's)."""
    with rasterio.Env(**dict(band.open_env or ())), rasterio.open(band.path, driver=band.driver) as ds:
        return ds.read(indexes)


def cube_reference(
    path_10m,
    before: dt.date,
    before_period: tuple[dt.date, dt.date],
    after_period: tuple[dt.date, dt.date],
) -> Reference:
    """Reference for the pair (``before``, any date of ``after_period``) of an nrt-style
    cube (see the module docstring), on the grid the detector reads the cube on."""
    dates = cube_dates(path_10m)
    src = read_cube_date(path_10m, before)
    db = tuple(d for d in dates if _in(before_period, d))
    da = tuple(d for d in dates if _in(after_period, d))
    idx = [dates.index(d) + 1 for d in db + da]
    red = _read_dates(src.bands["red"], idx).astype(np.float32)
    nir = _read_dates(src.bands["nir"], idx).astype(np.float32)
    scl = _read_dates(src.mask, idx)
    with np.errstate(invalid="ignore", divide="ignore"):
        ndvi = (nir - red) / (nir + red)  # the DN scale cancels out
    ok = np.isin(scl, CLEAR_SCL) & (red > 0) & (nir > 0) & np.isfinite(ndvi)
    ndvi = np.where(ok, ndvi, np.nan)
    vb, va = ndvi[: len(db)], ndvi[len(db) :]
    nb = np.isfinite(vb).sum(axis=0)
    na = np.isfinite(va).sum(axis=0)
    enough = (nb >= MIN_CLEAR) & (na >= MIN_CLEAR)
    with np.errstate(invalid="ignore"), _quiet():
        mb = np.nanmedian(vb, axis=0)
        ma = np.nanmedian(va, axis=0)
        agree = (va < (mb - DROP)[None]).sum(axis=0)
    drop = mb - ma
    changed = enough & (drop >= DROP) & (agree >= MIN_AGREE)
    uncertain = enough & (drop >= PARTIAL) & ~changed
    return Reference(changed, ~enough | uncertain, ~enough, nb, na, db, da)


@contextlib.contextmanager
def _quiet():
    """Silence numpy's all-NaN slice warnings inside ``with``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def linear_parts(changed: np.ndarray, min_length_px: float) -> np.ndarray:
    """The thin-line part of a reference (a road): ``cleanup.thin_lines``."""
    return thin_lines(changed, min_length_px)
