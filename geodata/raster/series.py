"""Time series: a change is reported once it has persisted (Global Forest Watch's integrated
alerts in spirit).

Three or more dates, oldest first. The first date is the baseline; every later date k is
compared with it (``detect_changes``, any input kind), giving per pixel a class, an index
change and a confidence (``window``: one index alone <= 0.5, a second index agreeing adds
``change.AGREE_BONUS``). Per pixel, ``combine``:

- **first seen**: the first date k whose pair flags it;
- **confirmed** when a later date with a valid observation flags it too; a pixel flagged once
  and then seen unchanged on a later valid date was transient (a bad date, phenology) and is
  dropped; one flagged on the last valid date only cannot be confirmed yet and stays *low*;
- **class**: the class most of its flagged dates agree on;
- **confidence**: *high* (>= ``HIGH``) when confirmed by a later date or by two indices on the
  first date, *low* (<= ``LOW_CAP``) otherwise: ``max(HIGH, pair)`` + ``CONFIRM_BONUS`` for a
  confirmed pixel, ``max(HIGH, pair)`` for two indices, ``min(pair, LOW_CAP)`` for one.

Combined rasters are cleaned (length-or-area sieve) and polygonized tile by tile with the seam
merge of ``seams``; each record gets ``first_seen``: the date of its pixels' mean first-seen
index. Dates out of order are refused naming the file.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

from . import cleanup
from .constants import CLASS_INVALID
from .detect import DEFAULT_MIN_AREA_M2, default_min_length_m, detect_changes
from .errors import SeriesOrderError
from .products import DateSource, open_product
from .seams import merge_regions, repaint, to_records
from .tiles import plan_tiles
from .types import ChangeRecord

Array = np.ndarray
HIGH = 0.65  # above what one index alone reaches (0.5), below two indices at full margin
LOW_CAP = 0.45
CONFIRM_BONUS = 0.15
TWO_INDICES = 0.5  # a pair confidence above this needed a second index


@dataclass
class SeriesResult:
    records: list[ChangeRecord]
    dates: list[dt.date]
    notes: list[str] = field(default_factory=list)
    change_raster: str | None = None

    def __len__(self) -> int:
        return len(self.records)

    def to_geojson(self) -> dict:
        return {"type": "FeatureCollection", "features": [r.to_feature() for r in self.records]}


def combine(classes: Array, conf: Array) -> tuple[Array, Array, Array]:
    """Per pixel over dates 1..K (axis 0): ``classes`` (uint8; 0 none, 1-3, 255 invalid) and
    the pair confidence ``conf``. Returns (class, first-seen index into the K dates or -1,
    confidence) per the module docstring."""
    k = classes.shape[0]
    flagged = (classes > 0) & (classes != CLASS_INVALID)
    observed = classes != CLASS_INVALID
    any_flag = flagged.any(axis=0)
    first = np.where(any_flag, flagged.argmax(axis=0), -1)
    idx = np.arange(k)[:, None, None]
    after_first = idx > first[None]
    confirmed = (flagged & after_first).any(axis=0) & any_flag
    seen_clear_after = (observed & ~flagged & after_first).any(axis=0)
    keep = any_flag & (confirmed | ~seen_clear_after)
    votes = np.stack([(classes == c).sum(axis=0) for c in (1, 2, 3)])
    cls = np.where(keep, votes.argmax(axis=0) + 1, 0).astype(np.uint8)
    cls[~observed.any(axis=0)] = CLASS_INVALID
    f = np.clip(first, 0, k - 1)
    pair = np.take_along_axis(conf, f[None], axis=0)[0]
    pair = np.nan_to_num(pair, nan=0.0)
    high = np.maximum(np.float32(HIGH), pair)
    out = np.where(pair > TWO_INDICES, high, np.minimum(pair, np.float32(LOW_CAP)))
    out = np.where(confirmed, np.minimum(high + np.float32(CONFIRM_BONUS), 1), out).astype(np.float32)
    out[~keep] = 0
    return cls, np.where(keep, first, -1).astype(np.int16), out


def _source(path, sensor: str | None, date: dt.date | None) -> DateSource:
    return path if isinstance(path, DateSource) else open_product(path, sensor=sensor, acquired=date)


def check_order(sources: Sequence[DateSource]) -> list[dt.date]:
    """The dates, oldest first; SeriesOrderError naming the first file out of order."""
    if len(sources) < 3:
        raise SeriesOrderError(sources[0].path if sources else None, "series_too_short")
    dates = [s.acquired for s in sources]
    for prev, cur, s in zip(dates, dates[1:], sources[1:], strict=False):
        if cur <= prev:
            raise SeriesOrderError(s.path, "series_order", date=str(cur), previous=str(prev))
    return dates


def detect_series(
    paths: Sequence,
    sensor: str | None = None,
    *,
    dates: Sequence[dt.date | None] | None = None,
    min_area_m2: float = DEFAULT_MIN_AREA_M2,
    change_raster_path: str | os.PathLike | None = None,
    tile_size: int = 1024,
    **detect_kw,
) -> SeriesResult:
    """Detect changes that persist over ``paths`` (oldest first, see the module docstring).
    ``detect_kw`` go to every pair's ``detect_changes``."""
    dates = list(dates or [None] * len(paths))
    sources = [_source(p, sensor, d) for p, d in zip(paths, dates, strict=True)]
    when = check_order(sources)
    base = sources[0]
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="gridgov-series-") as tmp:
        cls_paths, ev_paths = [], []
        for i, later in enumerate(sources[1:], start=1):
            c, e = Path(tmp) / f"classes_{i}.tif", Path(tmp) / f"evidence_{i}.tif"
            res = detect_changes(
                base, later, min_area_m2=min_area_m2, change_raster_path=c, evidence_raster_path=e, **detect_kw
            )
            notes.extend(f"{when[0]} -> {when[i]}: {n}" for n in res.notes)
            cls_paths.append(c)
            ev_paths.append(e)
        index = {
            "vegetation_loss": "ndvi" if "nir" in base.roles else "exg",
            "construction": res.thresholds.construction_index,
            "water_change": res.thresholds.water_index,
        }
        records, out = _combine_rasters(
            cls_paths, ev_paths, when[1:], min_area_m2, change_raster_path, tile_size, index
        )
    return SeriesResult(records, when, notes, out)


def _combine_rasters(
    cls_paths, ev_paths, dates, min_area_m2, out_path, tile_size, rule_index
) -> tuple[list, str | None]:
    """Combine the pairs' rasters window by window, clean up, polygonize with seams."""
    with rasterio.open(cls_paths[0]) as ds:
        prof, transform, crs, shape = ds.profile, ds.transform, ds.crs, (ds.height, ds.width)
        block = ds.block_shapes[0]
    pixel = max(abs(transform.a), abs(transform.e))
    min_px = cleanup.min_pixels_for_area(min_area_m2, transform, crs, shape[0] / 2, shape[1] / 2)
    min_len = default_min_length_m(min_area_m2, pixel)
    dst = rasterio.open(out_path, "w", **prof) if out_path else None
    regions = []
    try:
        for r, c, h, w in plan_tiles(shape[0], shape[1], block, tile_size):
            win = Window(c, r, w, h)
            cls = np.stack([_read(p, 1, win) for p in cls_paths])
            conf = np.stack([_read(p, 2, win) for p in ev_paths])
            delta = np.stack([_read(p, 1, win) for p in ev_paths])
            out_cls, first, out_conf = combine(cls, conf)
            valid = out_cls != CLASS_INVALID
            work = np.where(valid, out_cls, 0).astype(np.uint8)
            work = cleanup.sieve(work, min_px, keep_border=True, valid=valid, min_length_px=min_len / pixel)
            d = np.take_along_axis(np.nan_to_num(delta), np.clip(first, 0, None)[None].astype(np.int64), axis=0)[0]
            seams = (r > 0, r + h < shape[0], c > 0, c + w < shape[1])
            tr = rasterio.windows.transform(win, transform)
            regions += cleanup.polygonize_regions(work, tr, d, out_conf, seams, first=first.astype(np.float32))
            if dst is not None:
                dst.write(np.where(valid, work, CLASS_INVALID).astype(np.uint8), 1, window=win)
    finally:
        if dst is not None:
            dst.close()
    records, dropped, linear = to_records(
        merge_regions(regions),
        crs=crs,
        pixel_size=pixel,
        min_area_m2=min_area_m2,
        min_length_m=min_len,
        simplify_px=0.5,
        rule_index=rule_index,
        dates=list(dates),
    )
    if out_path:
        repaint(str(out_path), dropped, 0)
        repaint(str(out_path), linear, 2)
    return records, (str(out_path) if out_path else None)


def _read(path, band: int, win: Window) -> Array:
    with rasterio.open(path) as ds:
        return ds.read(band, window=win)
