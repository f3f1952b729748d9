"""Windowed, parallel change detection on a scene pair.

Tiles are block-aligned windows of the before grid read with a halo (context for the 3x3
misregistration test, opening, cloud dilation and the sieve); only the tile core is kept.
A region touching a tile seam is polygonized per tile and the pieces are unioned after all
tiles are done, so a change crossing a seam comes out as one polygon; per-tile sums (pixels,
index change, confidence) are added up over the pieces. Memory per worker is bounded by the
tile size, never by the scene size: no band is ever read whole.

Automatic thresholds are scene-wide: one pass over an evenly spread sample of tiles builds
histograms of each rule's score, Otsu runs on the pooled histogram, with the rule's floor.

Speed (one worker should cost little more than reading the bands): each dataset is read once
per tile, all needed bands in one call; detection tiles go in bands of a few tile rows,
column by column (``cache_friendly_order``), so the blocks a halo shares with a neighbour are
still in GDAL's block cache; the sample pass reads block-aligned cores only. The per-pixel work
runs in two numba kernels (``_fast``, when numba is installed; otherwise the numpy functions,
which give the same result): indices, masks and each rule's per-pixel test in one pass, the
3x3 robust tests and regrow only where a per-pixel test passed. Opening, sieve, hole filling
and polygonizing work on bounding boxes of the changed pixels.
"""

from __future__ import annotations

import math
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
import shapely
from rasterio.windows import Window
from shapely.strtree import STRtree

from . import _fast, cleanup
from .align import estimate_shift
from .change import (
    EXG_VEGETATED,
    HIST_BINS,
    HIST_RANGE,
    RULES,
    classify_window,
    compute_scores,
    max3,
    min3,
    rule_indices,
    score_histograms,
    thresholds_from_histograms,
)
from .constants import (
    CHANGE_CLASSES,
    CLASS_INVALID,
    CLOUD_BRIGHTNESS,
    CLOUD_WHITENESS,
    CONSTRUCTION_NDVI_AFTER_MAX,
    NDVI_VEGETATED,
    SHADOW_MAX_BRIGHTNESS,
    SHADOW_RATIO,
    SHADOW_SPREAD,
    WATER_SIGN_MARGIN,
    SensorProfile,
)
from .errors import DetectionCancelled, NoValidPixelsError
from .io import Pair, cached_reader, close_run, open_pair
from .masks import brightness_cloud, dilate, nodata_invalid, qa_invalid, scl_invalid, shadow_by_darkening
from .runner import Cancelled, Runner
from .types import CancelCallback, ChangeRecord, DetectionResult, ProgressCallback, Thresholds

DEFAULT_TILE = 1024
DEFAULT_HALO = 16
DEFAULT_MIN_AREA_M2 = 500.0


# ----------------------------------------------------------------------------- tile jobs
@dataclass(frozen=True)
class TileJob:
    run_id: str
    pair: Pair
    profile: SensorProfile
    row: int
    col: int
    height: int
    width: int
    halo: int
    scene_height: int
    scene_width: int
    min_pixels: int
    cloud_dilation_px: int
    gdal_cachemax_mb: int
    thresholds: Thresholds | None = None  # None: sample pass (histograms + shift estimate)
    want_classes: bool = False
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


def _reflectance(raw: np.ndarray, prof: SensorProfile, roles: tuple[str, ...]) -> dict[str, np.ndarray]:
    out = {}
    scale = np.float32(prof.scale)
    offset = np.float32(prof.offset)
    for i, role in enumerate(roles):
        r = np.multiply(raw[i], scale, dtype=np.float32)  # one pass: cast and scale
        if offset:
            r += offset
        out[role] = r
    return out


def _cloud_mask(inv_shape, prof: SensorProfile, before, after, mask_before, mask_after) -> np.ndarray:
    if prof.mask_band in ("scl", "qa"):
        test = scl_invalid if prof.mask_band == "scl" else qa_invalid
        cloud = np.zeros(inv_shape, bool)
        for mk in (mask_before, mask_after):
            if mk is not None:
                cloud |= mk if mk.dtype == bool else test(mk)  # bool: the reader's product flags
        return cloud
    roles = prof.reflectance_roles
    vis_b = [before[r] for r in ("blue", "green", "red")]
    vis_a = [after[r] for r in ("blue", "green", "red")]
    cloud = brightness_cloud(*vis_b)
    cloud |= brightness_cloud(*vis_a)
    allb = [before[r] for r in roles]
    alla = [after[r] for r in roles]
    cloud |= shadow_by_darkening(alla, allb)
    cloud |= shadow_by_darkening(allb, alla)
    return cloud


def analyze_window(
    raw_before: np.ndarray,
    raw_after: np.ndarray,
    prof: SensorProfile,
    *,
    mask_before: np.ndarray | None = None,
    mask_after: np.ndarray | None = None,
    thresholds: Thresholds | None = None,
    cloud_dilation_px: int = 3,
):
    """Pure core on arrays (bands in ``prof.reflectance_roles`` order): returns
    (scores, valid) when ``thresholds`` is None, else (classes, delta, conf, valid)."""
    roles = prof.reflectance_roles
    invalid = nodata_invalid(raw_before, prof.nodata)
    invalid |= nodata_invalid(raw_after, prof.nodata)
    before = _reflectance(raw_before, prof, roles)
    after = _reflectance(raw_after, prof, roles)
    cloud = _cloud_mask(invalid.shape, prof, before, after, mask_before, mask_after)
    if cloud.any():
        invalid |= dilate(cloud, cloud_dilation_px)
    del cloud
    valid = ~invalid
    del invalid
    if thresholds is None:
        return compute_scores(before, after, prof), valid
    classes, delta, conf = classify_window(before, after, valid, prof, thresholds)
    return classes, delta, conf, valid


def _pixel_stage(
    raw_before,
    raw_after,
    prof: SensorProfile,
    thresholds: Thresholds | None,
    mask_before,
    mask_after,
    cloud_dilation_px: int,
):
    """numba pass 1 + cloud dilation: (consts, th, indices (vb, va, cb, ca, wb, wa), naive-test
    bits, valid)."""
    roles = prof.reflectance_roles
    pos = {r: i for i, r in enumerate(roles)}
    role_idx = np.array([pos.get(r, -1) for r in ("blue", "green", "red", "nir", "swir1")], dtype=np.int64)
    shape = raw_before.shape[1:]
    cloud_test = prof.mask_band not in ("scl", "qa")
    f32 = np.float32
    consts = np.array(
        [
            1e-12,
            CLOUD_BRIGHTNESS,
            CLOUD_WHITENESS,
            SHADOW_RATIO,
            SHADOW_SPREAD,
            SHADOW_MAX_BRIGHTNESS * len(roles),
            0.01,
            NDVI_VEGETATED if prof.has_nir else EXG_VEGETATED,
            CONSTRUCTION_NDVI_AFTER_MAX if prof.has_nir else EXG_VEGETATED,
            WATER_SIGN_MARGIN,
            3.0,
            2.0,
        ],
        dtype=f32,
    )
    t = (
        [f32(thresholds.vegetation_loss), f32(thresholds.construction), f32(thresholds.water_change)]
        if thresholds is not None
        else [f32(np.inf)] * 3
    )
    th = np.array(t + [max(float(x), 1e-6) for x in t], dtype=f32)
    invalid = np.empty(shape, bool)
    cloud = np.empty(shape, bool)
    vb, va, cb, ca = (np.empty(shape, f32) for _ in range(4))
    wb, wa = (np.empty(shape, f32) for _ in range(2))
    passing = np.empty(shape, np.uint8)
    raw_before = np.ascontiguousarray(raw_before)
    raw_after = np.ascontiguousarray(raw_after)
    is_float = raw_before.dtype.kind == "f"
    _fast.pixel_pass(
        raw_before,
        raw_after,
        role_idx,
        f32(prof.scale),
        f32(prof.offset),
        bool(prof.offset),
        prof.nodata is not None,
        float(prof.nodata if prof.nodata is not None else 0),
        is_float,
        cloud_test,
        consts,
        th,
        invalid,
        cloud,
        vb,
        va,
        cb,
        ca,
        wb,
        wa,
        passing,
    )
    if not cloud_test:
        test = scl_invalid if prof.mask_band == "scl" else qa_invalid
        cloud[:] = False
        for mk in (mask_before, mask_after):
            if mk is not None:
                cloud |= mk if mk.dtype == bool else test(mk)  # bool: the reader's product flags
    if cloud.any():
        invalid |= dilate(cloud, cloud_dilation_px)
    del cloud
    valid = ~invalid
    del invalid
    return consts, th, (vb, va, cb, ca, wb, wa), passing, valid


def sample_histograms(
    raw_before,
    raw_after,
    prof: SensorProfile,
    *,
    mask_before=None,
    mask_after=None,
    cloud_dilation_px: int = 3,
    use_numba: bool | None = None,
) -> tuple[dict, np.ndarray]:
    """Sample pass: ``score_histograms(*analyze_window(...))`` and ``valid`` (numba indices when
    available, else exactly the numpy path)."""
    if use_numba is None:
        use_numba = _fast.HAVE_NUMBA
    if not use_numba:
        scores, valid = analyze_window(
            raw_before,
            raw_after,
            prof,
            mask_before=mask_before,
            mask_after=mask_after,
            cloud_dilation_px=cloud_dilation_px,
        )
        return score_histograms(scores, valid), valid
    _c, _t, (vb, va, cb, ca, wb, wa), _p, valid = _pixel_stage(
        raw_before, raw_after, prof, None, mask_before, mask_after, cloud_dilation_px
    )
    high = NDVI_VEGETATED if prof.has_nir else EXG_VEGETATED
    veg_after_max = CONSTRUCTION_NDVI_AFTER_MAX if prof.has_nir else EXG_VEGETATED
    out = {}
    with np.errstate(invalid="ignore"):
        mn = min3(vb)
        sel = mn >= high
        sel &= valid
        mn -= va
        out["vegetation_loss"] = np.histogram(mn[sel], bins=HIST_BINS, range=HIST_RANGE)[0].astype(np.int64)
        sel = va < vb
        sel &= va < veg_after_max
        sel &= valid
        mx = max3(cb)
        np.subtract(ca, mx, out=mx)
        out["construction"] = np.histogram(mx[sel], bins=HIST_BINS, range=HIST_RANGE)[0].astype(np.int64)
        if prof.has_swir or prof.has_nir:
            up = wa - max3(wb)
            down = min3(wb)
            down -= wa
            np.maximum(up, down, out=up)
            out["water_change"] = np.histogram(up[valid], bins=HIST_BINS, range=HIST_RANGE)[0].astype(np.int64)
    return out, valid


def classify_raw(
    raw_before: np.ndarray,
    raw_after: np.ndarray,
    prof: SensorProfile,
    thresholds: Thresholds,
    *,
    mask_before: np.ndarray | None = None,
    mask_after: np.ndarray | None = None,
    cloud_dilation_px: int = 3,
    use_numba: bool | None = None,
):
    """``analyze_window(..., thresholds=...)``: (classes, delta, conf, valid), with the numba
    kernels of ``_fast`` when available (same result, ~5x less time), else numpy."""
    if use_numba is None:
        use_numba = _fast.HAVE_NUMBA
    if not use_numba:
        return analyze_window(
            raw_before,
            raw_after,
            prof,
            mask_before=mask_before,
            mask_after=mask_after,
            thresholds=thresholds,
            cloud_dilation_px=cloud_dilation_px,
        )
    f32 = np.float32
    consts, th, (vb, va, cb, ca, wb, wa), passing, valid = _pixel_stage(
        raw_before, raw_after, prof, thresholds, mask_before, mask_after, cloud_dilation_px
    )
    shape = valid.shape
    classes = np.zeros(shape, np.uint8)
    delta = np.zeros(shape, f32)
    conf = np.zeros(shape, f32)
    _fast.rules_pass(vb, va, cb, ca, wb, wa, passing, valid, consts, th, classes, delta, conf)
    return classes, delta, conf, valid


def _process_tile(job: TileJob) -> TileOutput:
    """One tile. Sample pass (no thresholds): the block-aligned core only (no halo, so no
    neighbouring block is decoded for it), score histograms and the shift estimate. Detection
    pass: core + halo, classes, clean-up and polygons of the core."""
    sample = job.thresholds is None
    halo = 0 if sample else job.halo
    with rasterio.Env(GDAL_CACHEMAX=job.gdal_cachemax_mb * 1024 * 1024):
        h = cached_reader(job.run_id, job.pair)
        r0 = max(0, job.row - halo)
        c0 = max(0, job.col - halo)
        r1 = min(job.scene_height, job.row + job.height + halo)
        c1 = min(job.scene_width, job.col + job.width + halo)
        win = Window(c0, r0, c1 - c0, r1 - r0)
        raw_b, raw_a, mb, ma = h.read(win, job.shift)
    prof = job.profile
    cr, cc = job.row - r0, job.col - c0
    core = (slice(cr, cr + job.height), slice(cc, cc + job.width))
    out = TileOutput(job.row, job.col, job.height, job.width, 0)
    if sample:
        out.hists, valid = sample_histograms(
            raw_b, raw_a, prof, mask_before=mb, mask_after=ma, cloud_dilation_px=job.cloud_dilation_px
        )
        out.valid_pixels = int(np.count_nonzero(valid[core]))
        role = "nir" if "nir" in prof.bands else "green"
        k = prof.reflectance_roles.index(role)
        if valid[core].mean() > 0.5:
            # phase correlation on the central half of a large tile (>= 256 px a side): the
            # same global shift at a quarter of the FFT cost
            sub = core
            if min(job.height, job.width) >= 512:
                hh, ww = job.height // 2, job.width // 2
                sub = (slice(cr + hh // 2, cr + hh // 2 + hh), slice(cc + ww // 2, cc + ww // 2 + ww))
            cb = raw_b[k][sub].astype(np.float32)
            ca = raw_a[k][sub].astype(np.float32)
            out.shift = estimate_shift(cb, ca, max_shift=max(1, job.halo // 4))
        return out
    classes, delta, conf, valid = classify_raw(
        raw_b, raw_a, prof, job.thresholds, mask_before=mb, mask_after=ma, cloud_dilation_px=job.cloud_dilation_px
    )
    del raw_b, raw_a, mb, ma
    out.valid_pixels = int(np.count_nonzero(valid[core]))
    if classes.any():
        classes = cleanup.open_classes(classes)
        classes = cleanup.sieve(classes, job.min_pixels, keep_border=True, valid=valid)
    cls_core = classes[core]
    if cls_core.any():
        transform = h.window_transform(Window(job.col, job.row, job.width, job.height))
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


# ----------------------------------------------------------------------------- merging
def _merge_regions(regions: list) -> list[tuple]:
    """(geometry, cls, pixels, sum_delta, sum_conf) per object, pieces on seams unioned."""
    out = [(r.geometry, r.cls, r.pixels, r.sum_delta, r.sum_conf) for r in regions if not r.on_seam]
    by_cls: dict[int, list] = {}
    for r in regions:
        if r.on_seam:
            by_cls.setdefault(r.cls, []).append(r)
    for cls, pieces in by_cls.items():
        merged = shapely.union_all([p.geometry for p in pieces], grid_size=None)
        parts = list(getattr(merged, "geoms", [merged]))
        tree = STRtree(parts)
        acc = [[0, 0.0, 0.0] for _ in parts]
        pts = shapely.point_on_surface([p.geometry for p in pieces])
        hits = tree.query(pts, predicate="intersects")
        seen = set()
        for pi, gi in zip(*hits, strict=False):
            if pi in seen:
                continue
            seen.add(pi)
            a = acc[gi]
            a[0] += pieces[pi].pixels
            a[1] += pieces[pi].sum_delta
            a[2] += pieces[pi].sum_conf
        for g, a in zip(parts, acc, strict=False):
            if a[0]:
                out.append((g, cls, a[0], a[1], a[2]))
    return out


def _erase_from_raster(path: str, geoms: list) -> None:
    """Set dropped (sub-MMU after merge) objects back to 0 in the class raster."""
    from rasterio.features import geometry_mask
    from rasterio.windows import from_bounds

    with rasterio.open(path, "r+") as dst:
        for g in geoms:
            w = from_bounds(*g.bounds, transform=dst.transform).round_offsets().round_lengths()
            w = w.intersection(Window(0, 0, dst.width, dst.height))
            w = Window(w.col_off, w.row_off, w.width + 1, w.height + 1).intersection(
                Window(0, 0, dst.width, dst.height)
            )
            data = dst.read(1, window=w)
            inside = geometry_mask([g], out_shape=data.shape, transform=dst.window_transform(w), invert=True)
            data[inside & (data != CLASS_INVALID)] = 0
            dst.write(data, 1, window=w)


# ----------------------------------------------------------------------------- public API
def detect_changes(
    before_path: str | os.PathLike,
    after_path: str | os.PathLike,
    sensor: str | SensorProfile,
    *,
    tile_size: int = DEFAULT_TILE,
    halo: int = DEFAULT_HALO,
    min_area_m2: float = DEFAULT_MIN_AREA_M2,
    thresholds: dict[str, float] | None = None,
    cloud_dilation_px: int = 3,
    simplify_px: float = 0.5,
    scheduler=None,
    workers: int | None = None,
    gdal_cachemax_mb: int = 256,
    change_raster_path: str | os.PathLike | None = None,
    progress: ProgressCallback | None = None,
    should_cancel: CancelCallback | None = None,
    threshold_sample_tiles: int = 8,
    coregister: bool = True,
    before_acquired=None,
    after_acquired=None,
) -> DetectionResult:
    """Detect vegetation loss, construction and water change between two scenes.

    ``scheduler``: None/"local"/"threads" (Dask threads, ``workers`` default = all cores),
    "processes", "sync", a ``distributed.Client`` or a scheduler address ("tcp://host:8786").
    ``thresholds``: fixed value per rule (``{"vegetation_loss": 0.2}``); rules not given are
    automatic (Otsu on a sample of tiles, with the rule's floor).
    ``change_raster_path``: also write a uint8 class raster on the before grid (0 none,
    1 vegetation_loss, 2 construction, 3 water_change, 255 invalid = nodata).
    Records are in WGS84 with ellipsoidal ``area_m2`` >= ``min_area_m2``.
    ``coregister``: estimate a global integer shift between dates by phase correlation on the
    sample tiles and read the after scene shifted by it (residual misregistration, up to one
    pixel, is absorbed by the 3x3 neighbourhood test of the rules).
    """
    pair = open_pair(
        before_path,
        after_path,
        getattr(sensor, "name", sensor),
        before_acquired=before_acquired,
        after_acquired=after_acquired,
    )
    prof = pair.profile
    crs, H, W = pair.grid.crs, pair.grid.height, pair.grid.width
    block, base_transform, ov_win = pair.grid.block_shape, pair.grid.affine, pair.overlap
    min_px = cleanup.min_pixels_for_area(min_area_m2, base_transform, crs, H / 2, W / 2)
    tiles = [
        t
        for t in plan_tiles(H, W, block, tile_size)
        if t[0] < ov_win.row_off + ov_win.height + 1
        and t[0] + t[2] > ov_win.row_off - 1
        and t[1] < ov_win.col_off + ov_win.width + 1
        and t[1] + t[3] > ov_win.col_off - 1
    ]
    run_id = uuid.uuid4().hex
    base = dict(
        run_id=run_id,
        pair=pair,
        profile=prof,
        halo=halo,
        scene_height=H,
        scene_width=W,
        min_pixels=min_px,
        cloud_dilation_px=cloud_dilation_px,
        gdal_cachemax_mb=gdal_cachemax_mb,
    )
    runner = Runner(scheduler, workers)
    out_path = str(change_raster_path) if change_raster_path else None
    dst = None
    notes = list(pair.notes)
    if not prof.has_swir:
        notes.append(
            "no SWIR band: construction = visible brightness rise with falling, low NDVI; "
            "water = NDWI (green/NIR) sign change"
        )
    try:
        # pass 1: scene-wide automatic thresholds from a sample of tiles
        fixed = {k: v for k, v in (thresholds or {}).items() if v is not None}
        need_auto = [r for r in RULES if r not in fixed]
        hists: dict[str, np.ndarray] = {}
        shifts: list = []
        if need_auto or coregister:
            n = min(threshold_sample_tiles, len(tiles))
            pick = sorted(set(np.linspace(0, len(tiles) - 1, n).round().astype(int).tolist())) if n else []
            sample = [TileJob(row=t[0], col=t[1], height=t[2], width=t[3], **base) for t in (tiles[i] for i in pick)]

            def add_hist(res: TileOutput) -> None:
                for k, v in (res.hists or {}).items():
                    hists[k] = hists.get(k, 0) + v
                if res.shift is not None:
                    shifts.append(res.shift)

            runner.run(_process_tile, sample, add_hist, should_cancel)
        th = thresholds_from_histograms(hists, prof, fixed)
        shift = (0, 0)
        if coregister and shifts:
            good = [(dy, dx) for dy, dx, peak in shifts if peak >= 0.05]
            if good and len(good) * 2 >= len(shifts):
                vals, counts = np.unique(np.array(good), axis=0, return_counts=True)
                best = vals[int(np.argmax(counts))]
                if counts.max() * 2 > len(good):  # a clear majority of tiles agree
                    shift = (int(best[0]), int(best[1]))
        if shift != (0, 0):
            notes.append(f"co-registered: after scene read shifted by {shift} pixels (dy, dx)")
        base["shift"] = shift

        # pass 2: detection
        if out_path:
            Path(out_path).parent.mkdir(parents=True, exist_ok=True)
            bs = 512 if min(H, W) >= 512 else 256 if min(H, W) >= 256 else 16
            dst = rasterio.open(
                out_path,
                "w",
                driver="GTiff",
                width=W,
                height=H,
                count=1,
                dtype="uint8",
                crs=crs,
                transform=base_transform,
                nodata=CLASS_INVALID,
                tiled=True,
                blockxsize=bs,
                blockysize=bs,
                compress="deflate",
            )
        ordered = cache_friendly_order(tiles, block, halo, pair.bytes_per_pixel, gdal_cachemax_mb * 1024 * 1024)
        jobs = (
            TileJob(row=t[0], col=t[1], height=t[2], width=t[3], thresholds=th, want_classes=bool(out_path), **base)
            for t in ordered
        )
        regions: list = []
        state = {"done": 0, "valid": 0}
        total = len(tiles)

        def collect(res: TileOutput) -> None:
            regions.extend(res.regions)
            state["valid"] += res.valid_pixels
            if dst is not None and res.classes is not None:
                dst.write(res.classes, 1, window=Window(res.col, res.row, res.width, res.height))
            state["done"] += 1
            if progress is not None:
                progress(state["done"], total)

        runner.run(_process_tile, jobs, collect, should_cancel)
        if dst is not None:
            dst.close()
            dst = None
        if state["valid"] == 0:
            raise NoValidPixelsError(
                after_path, f"no pixel valid on both dates with {before_path} (all nodata / cloud / shadow)"
            )

        # merge seams, measure, filter, simplify
        pix_size = max(abs(base_transform.a), abs(base_transform.e))
        records: list[ChangeRecord] = []
        dropped = []
        idx = rule_indices(prof)
        for geom, cls, npx, sdelta, sconf in _merge_regions(regions):
            exact = cleanup.to_wgs84(shapely.simplify(geom, 0), crs)
            area = cleanup.geodesic_area_m2(exact)
            if area < min_area_m2:
                dropped.append(geom)
                continue
            g = cleanup.to_wgs84(cleanup.simplify(geom, simplify_px * pix_size), crs) if simplify_px > 0 else exact
            if not g.is_valid:
                g = shapely.make_valid(g)
            name = CHANGE_CLASSES[cls]
            records.append(
                ChangeRecord(
                    geometry=g,
                    change_type=name,
                    area_m2=area,
                    mean_index_change=sdelta / npx,
                    index=idx[name] or "",
                    confidence=float(min(1.0, max(0.0, sconf / npx))),
                    pixel_count=int(npx),
                )
            )
        if out_path and dropped:
            _erase_from_raster(out_path, dropped)
        records.sort(key=lambda r: -r.area_m2)
        return DetectionResult(
            records=records,
            thresholds=th,
            valid_pixels=state["valid"],
            total_pixels=H * W,
            tiles=len(tiles),
            change_raster=out_path,
            notes=notes,
        )
    except Cancelled:
        if dst is not None:
            dst.close()
            dst = None
        if out_path and Path(out_path).exists():
            Path(out_path).unlink()
        raise DetectionCancelled(before_path, "detection cancelled by should_cancel()") from None
    except BaseException:
        if dst is not None:
            dst.close()
        if out_path and Path(out_path).exists():
            Path(out_path).unlink()
        raise
    finally:
        runner.close()
        close_run(run_id)
