"""Tile jobs of a detection run: plan, order for the block cache, and run one tile.

Tiles are block-aligned windows of the grid read with a halo (context for the 3x3
misregistration test, opening, cloud dilation, haze blocks and the sieve); only the tile core
is kept. A tile job is one of three stages:

- ``normalise`` (sample tiles, the central half of the core where the tile is >= 1024 px):
  reflectance samples of both dates for IR-MAD and the co-registration shift estimate;
- ``sample`` (the same windows, after-date shifted and normalised): histograms of each rule's
  score, for the scene thresholds (on the 100 Mpix benchmark pair the thresholds moved by
  0.0005 against the whole cores, and the records stayed the same);
- ``detect`` (every tile, with halo): classes, clean-up (opening, length-or-area sieve) and
  polygons of the core, with per-region sums for the seam merge (``seams``).

Sample stages read block-aligned cores only (no neighbouring block is decoded for them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import rasterio
from rasterio.windows import Window

from . import cleanup, heap, window
from .align import estimate_shift
from .constants import CLASS_INVALID
from .io import Pair, cached_reader
from .types import Thresholds


@dataclass(frozen=True)
class TileJob:
    run_id: str
    pair: Pair
    params: window.WindowParams
    stage: str  # "normalise" | "sample" | "detect"
    row: int
    col: int
    height: int
    width: int
    halo: int
    scene_height: int
    scene_width: int
    min_pixels: int
    min_length_px: float | None
    gdal_cachemax_mb: int
    thresholds: Thresholds | None = None
    want_classes: bool = False
    want_evidence: bool = False  # also the per-pixel index change and confidence of the core
    shift: tuple[int, int] = (0, 0)  # co-registration: after[r - dy, c - dx] ~ before[r, c]


@dataclass
class TileOutput:
    row: int
    col: int
    height: int
    width: int
    valid_pixels: int
    regions: list = field(default_factory=list)
    classes: np.ndarray | None = None
    hists: dict | None = None
    shift: tuple[int, int, float] | None = None
    samples: tuple[dict, dict] | None = None
    evidence: np.ndarray | None = None  # (2, h, w) float32: delta, confidence; NaN where invalid


def _shift_estimate(win: window.WindowInput, job: TileJob) -> tuple[int, int, float] | None:
    """Phase correlation on the window read (the central half of a tile >= 1024 px: the same
    global shift at a quarter of the FFT cost). None where it is mostly invalid."""
    roles = job.params.profile.reflectance_roles
    k = roles.index("nir" if "nir" in roles else "green")
    ok = win.has_data & ~window.flags(win)
    if ok.mean() <= 0.5:
        return None
    return estimate_shift(win.before[k], win.after[k], max_shift=max(1, job.halo // 4))


def process_tile(job: TileJob) -> TileOutput:
    """Run one tile job (see the module docstring)."""
    heap.keep_freed_memory()  # the next tile reuses this one's pages (``heap``)
    halo = job.halo if job.stage == "detect" else 0
    r0, c0, r1, c1 = job.row - halo, job.col - halo, job.row + job.height + halo, job.col + job.width + halo
    if job.stage != "detect" and min(job.height, job.width) >= 1024:
        # samples for IR-MAD, the shift and the thresholds' histograms need no more than the
        # central half of the tile (a quarter of its pixels, 2 Mpix over 8 tiles)
        r0, c0 = job.row + job.height // 4, job.col + job.width // 4
        r1, c1 = r0 + job.height // 2, c0 + job.width // 2
    with rasterio.Env(GDAL_CACHEMAX=job.gdal_cachemax_mb * 1024 * 1024):
        reader = cached_reader(job.run_id, job.pair)
        r0, c0 = max(0, r0), max(0, c0)
        r1, c1 = min(job.scene_height, r1), min(job.scene_width, c1)
        win = Window(c0, r0, c1 - c0, r1 - r0)
        date_b, date_a = reader.read_dates(win, job.shift)
    data = window.window_input(date_b, date_a, origin=(r0, c0))
    del date_b, date_a
    cr, cc = job.row - r0, job.col - c0
    core = (slice(cr, cr + job.height), slice(cc, cc + job.width))
    out = TileOutput(job.row, job.col, job.height, job.width, 0)
    if job.stage == "normalise":
        out.shift = _shift_estimate(data, job)
        out.samples = window.normalisation_sample(data, job.params)
        return out
    if job.stage == "sample":
        out.hists, valid = window.sample_histograms(data, job.params)
        out.valid_pixels = int(np.count_nonzero(valid))
        return out
    classes, delta, conf, valid, _hazy = window.classify(data, job.params, job.thresholds)
    del data
    out.valid_pixels = int(np.count_nonzero(valid[core]))
    if classes.any():
        classes = cleanup.open_classes(classes, min_length_px=job.min_length_px)
        classes = cleanup.harmonise_classes(classes, job.min_pixels, min_length_px=job.min_length_px)
        classes = cleanup.sieve(classes, job.min_pixels, keep_border=True, valid=valid, min_length_px=job.min_length_px)
    cls_core = classes[core]
    if cls_core.any():
        transform = reader.window_transform(Window(job.col, job.row, job.width, job.height))
        seams = (
            job.row > 0,
            job.row + job.height < job.scene_height,
            job.col > 0,
            job.col + job.width < job.scene_width,
        )
        out.regions = cleanup.polygonize_regions(cls_core, transform, delta[core], conf[core], seams)
    if job.want_classes:
        c = cls_core.copy()
        c[(c == 0) & ~valid[core]] = CLASS_INVALID
        out.classes = c
    if job.want_evidence:
        ev = np.stack([delta[core], conf[core]]).astype(np.float32)
        ev[:, (cls_core == 0) & ~valid[core]] = np.nan
        out.evidence = ev
    return out


def plan_tiles(
    height: int, width: int, block_shape: tuple[int, int], tile_size: int
) -> list[tuple[int, int, int, int]]:
    """Block-aligned tiles (row, col, height, width) in row-major order; ``tile_size`` is
    rounded up to a multiple of the block size."""
    bh, bw = block_shape
    th = max(bh, int(math.ceil(tile_size / bh)) * bh) if bh < height else height
    tw = max(bw, int(math.ceil(tile_size / bw)) * bw) if bw < width else width
    return [(r, c, min(th, height - r), min(tw, width - c)) for r in range(0, height, th) for c in range(0, width, tw)]


def cache_friendly_order(
    tiles: list[tuple[int, int, int, int]],
    block_shape: tuple[int, int],
    halo: int,
    bytes_per_pixel: int,
    cache_bytes: int,
    datasets: int = 2,
) -> list[tuple[int, int, int, int]]:
    """Reorder row-major tiles so the blocks a tile's halo shares with its neighbours are still
    in GDAL's block cache when the neighbour is read: tiles go in bands of R tile rows, column
    by column, top to bottom inside a column. R is the largest whose one-column working set
    (all ``datasets``) fits in ~80 % of the cache, so the left halo is cached too; only the
    block rows on band boundaries are decoded twice (1/(R·blocks per tile row) of the scene).
    Row-major order would decode every block row about twice once a tile row outgrows the cache.
    """
    if len(tiles) <= 1:
        return list(tiles)
    bh, bw = block_shape
    th = max(t[2] for t in tiles)
    tw = max(t[3] for t in tiles)
    hb = math.ceil(halo / bh) if halo else 0
    cols = math.ceil((tw + 2 * halo + 1) / bw) + 1  # blocks a haloed (maybe 1-px shifted) window spans
    block_bytes = bh * bw * bytes_per_pixel * datasets
    rows_budget = int(0.8 * cache_bytes / max(1, cols * block_bytes))
    per_tile = max(1, math.ceil(th / bh))
    r = max(1, (rows_budget - 2 * hb) // per_tile)
    return sorted(tiles, key=lambda t: ((t[0] // th) // r, t[1], t[0]))
