"""Windowed, parallel change detection on a scene pair, in named steps.

``detect_changes``: **open** the pair (``io.open_pair``: any input kind, each date with its
own scale and offset) -> **plan** block-aligned tiles over the overlap -> **normalise**: on an
evenly spread sample of tiles, fit the after date onto the before date (IR-MAD, ``normalize``)
and estimate the co-registration shift -> **thresholds**: on the same sample, normalised and
shifted, histogram each rule's score and derive the scene thresholds (z-score over the stable
pixels, with the rule's floor, ``change``) -> **detect** every tile (``tiles``: mask, haze,
indices, change rules, evidence, clean-up, polygons; ``window`` for the per-pixel steps) ->
**merge** the pieces cut by tile seams, apply the minimum mapping unit by area or length
(``seams``).

Memory per worker is bounded by the tile size, never by the scene size: no band is read whole.
Speed: each date is read once per tile; detection tiles go in bands of a few tile rows,
column by column (``tiles.cache_friendly_order``), so blocks a halo shares with a neighbour
are still in GDAL's block cache; the sample stages read block-aligned cores only; the
per-pixel work runs in numba kernels (``_fast``) when numba is installed.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import replace
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

from .change import RULES, has_colour_test, rule_indices, thresholds_from_histograms
from .cleanup import min_pixels_for_area
from .constants import CLASS_CONSTRUCTION, CLASS_INVALID
from .errors import DetectionCancelled, NoValidPixelsError
from .io import Pair, close_run, open_pair
from .normalize import Normalisation, fit_normalisation
from .runner import Cancelled, Runner
from .seams import merge_regions, repaint, to_records
from .tiles import TileJob, TileOutput, cache_friendly_order, plan_tiles, process_tile
from .types import CancelCallback, DetectionResult, ProgressCallback
from .window import WindowParams

DEFAULT_TILE = 1024
DEFAULT_HALO = 16
DEFAULT_MIN_AREA_M2 = 500.0
#: Haze blocks span about this many metres (``haze``); none below ``HAZE_MIN_PIXEL_M``.
HAZE_BLOCK_M = 640.0
HAZE_MIN_PIXEL_M = 2.0

__all__ = ["DEFAULT_HALO", "DEFAULT_MIN_AREA_M2", "DEFAULT_TILE", "detect_changes", "plan_tiles"]


def default_min_length_m(min_area_m2: float, pixel_size: float) -> float:
    """Length that keeps an elongated region below the area MMU: 3 x the side of the MMU
    square, at least 10 pixels."""
    return max(3.0 * min_area_m2**0.5, 10.0 * pixel_size)


def haze_block_px(pixel_size: float) -> int:
    if pixel_size < HAZE_MIN_PIXEL_M:
        return 0
    return int(np.clip(round(HAZE_BLOCK_M / pixel_size), 32, 128))


def _sun(source) -> tuple[float, float] | None:
    if source.sun_azimuth is None or source.sun_zenith is None:
        return None
    return float(source.sun_azimuth), float(source.sun_zenith)


def _plan(pair: Pair, tile_size: int) -> list[tuple[int, int, int, int]]:
    """Step plan: tiles of the grid that touch the overlap of the two dates."""
    g, ov = pair.grid, pair.overlap
    return [
        t
        for t in plan_tiles(g.height, g.width, g.block_shape, tile_size)
        if t[0] < ov.row_off + ov.height + 1
        and t[0] + t[2] > ov.row_off - 1
        and t[1] < ov.col_off + ov.width + 1
        and t[1] + t[3] > ov.col_off - 1
    ]


def _sample_tiles(tiles: list, n: int) -> list:
    n = min(n, len(tiles))
    pick = sorted(set(np.linspace(0, len(tiles) - 1, n).round().astype(int).tolist())) if n else []
    return [tiles[i] for i in pick]


def _majority_shift(shifts: list) -> tuple[int, int]:
    """The integer shift a clear majority of confident sample tiles agree on, else (0, 0)."""
    good = [(dy, dx) for dy, dx, peak in shifts if peak >= 0.05]
    if not good or len(good) * 2 < len(shifts):
        return 0, 0
    vals, counts = np.unique(np.array(good), axis=0, return_counts=True)
    if counts.max() * 2 <= len(good):
        return 0, 0
    best = vals[int(np.argmax(counts))]
    return int(best[0]), int(best[1])


def _normalise(runner, jobs, should_cancel, roles, enabled: bool) -> tuple[Normalisation | None, list]:
    """Step normalise: IR-MAD fit on the pooled samples, and the shift estimates."""
    outputs: list[TileOutput] = []
    runner.run(process_tile, jobs, outputs.append, should_cancel)
    # in tile order, not completion order: the fit is the same whatever the cluster
    outputs.sort(key=lambda res: (res.row, res.col))
    shifts = [res.shift for res in outputs if res.shift is not None]
    samples_b: dict[str, list] = {}
    samples_a: dict[str, list] = {}
    for res in outputs:
        b, a = res.samples
        for r in b:
            samples_b.setdefault(r, []).append(b[r])
            samples_a.setdefault(r, []).append(a[r])
    if not enabled:
        return None, shifts
    norm = fit_normalisation(
        {r: np.concatenate(v) for r, v in samples_b.items()}, {r: np.concatenate(v) for r, v in samples_a.items()}
    )
    return (None if norm.is_identity else norm), shifts


def _class_raster(path: str, pair: Pair, *, count: int = 1, dtype: str = "uint8", nodata=CLASS_INVALID):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    g = pair.grid
    bs = 512 if min(g.height, g.width) >= 512 else 256 if min(g.height, g.width) >= 256 else 16
    return rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=g.width,
        height=g.height,
        count=count,
        dtype=dtype,
        crs=g.crs,
        transform=g.affine,
        nodata=nodata,
        tiled=True,
        blockxsize=bs,
        blockysize=bs,
        compress="deflate",
    )


def detect_changes(
    before_path: str | os.PathLike,
    after_path: str | os.PathLike,
    sensor=None,
    *,
    tile_size: int = DEFAULT_TILE,
    halo: int = DEFAULT_HALO,
    min_area_m2: float = DEFAULT_MIN_AREA_M2,
    min_length_m: float | None = None,
    thresholds: dict[str, float] | None = None,
    cloud_dilation_px: int = 3,
    simplify_px: float = 0.5,
    scheduler=None,
    workers: int | None = None,
    gdal_cachemax_mb: int = 256,
    change_raster_path: str | os.PathLike | None = None,
    evidence_raster_path: str | os.PathLike | None = None,
    progress: ProgressCallback | None = None,
    should_cancel: CancelCallback | None = None,
    threshold_sample_tiles: int = 8,
    coregister: bool = True,
    normalise: bool = True,
    haze: bool = True,
    before_acquired=None,
    after_acquired=None,
) -> DetectionResult:
    """Detect vegetation loss, construction and water change between two dates.

    ``before_path`` / ``after_path``: any input kind ``io.open_pair`` reads (stacked GeoTIFF,
    ``.SAFE`` folder or zip, STAC item, Landsat C2 folder); ``sensor`` may be left out when
    the input says what it is.
    ``scheduler``: None/"local"/"threads" (Dask threads, ``workers`` default = all cores),
    "processes", "sync", a ``distributed.Client`` or a scheduler address ("tcp://host:8786").
    ``thresholds``: fixed value per rule (``{"vegetation_loss": 0.2}``); rules not given come
    from the scene (z-score over its stable pixels, with the rule's floor), and so does the
    construction rule's colour test (``change``) on sensors with NIR.
    ``change_raster_path``: also write a uint8 class raster on the grid (0 none,
    1 vegetation_loss, 2 construction, 3 water_change, 255 invalid = nodata).
    ``evidence_raster_path``: a float32 raster of the per-pixel index change (band 1) and
    confidence (band 2), NaN where invalid (what ``series`` combines across dates).
    Records are in WGS84 with ellipsoidal ``area_m2`` >= ``min_area_m2``, or elongated with a
    length >= ``min_length_m`` (default ``default_min_length_m``).
    ``coregister``: estimate a global integer shift between dates by phase correlation on the
    sample tiles and read the after date shifted by it (residual misregistration, up to one
    pixel, is absorbed by the 3x3 neighbourhood test of the rules). ``normalise``: relative
    radiometric normalisation (IR-MAD); ``haze``: haze detection and correction.
    """
    # step open
    pair = open_pair(
        before_path,
        after_path,
        getattr(sensor, "name", sensor),
        before_acquired=before_acquired,
        after_acquired=after_acquired,
    )
    prof = pair.profile
    g = pair.grid
    pixel = g.pixel_size
    if min_length_m is None:
        min_length_m = default_min_length_m(min_area_m2, pixel)
    # step plan
    tiles = _plan(pair, tile_size)
    run_id = uuid.uuid4().hex
    params = WindowParams(
        profile=prof,
        pixel_size_m=pixel,
        cloud_dilation_px=cloud_dilation_px,
        haze_block_px=haze_block_px(pixel) if haze else 0,
        sun_before=_sun(pair.before),
        sun_after=_sun(pair.after),
    )
    base = dict(
        run_id=run_id,
        pair=pair,
        halo=halo,
        scene_height=g.height,
        scene_width=g.width,
        min_pixels=min_pixels_for_area(min_area_m2, g.affine, g.crs, g.height / 2, g.width / 2),
        min_length_px=min_length_m / pixel,
        gdal_cachemax_mb=gdal_cachemax_mb,
    )
    runner = Runner(scheduler, workers)
    out_path = str(change_raster_path) if change_raster_path else None
    ev_path = str(evidence_raster_path) if evidence_raster_path else None
    dst = ev_dst = None
    notes = list(pair.notes)
    if not prof.has_swir:
        notes.append(
            "no SWIR band: construction = visible brightness rise with falling, low NDVI; "
            "water = NDWI (green/NIR) sign change"
        )
    try:
        sample = _sample_tiles(tiles, threshold_sample_tiles)
        # step normalise (and the co-registration shift)
        norm, shifts = None, []
        if normalise or coregister:
            jobs = [
                TileJob(params=params, stage="normalise", row=t[0], col=t[1], height=t[2], width=t[3], **base)
                for t in sample
            ]
            norm, shifts = _normalise(runner, jobs, should_cancel, prof.reflectance_roles, normalise)
        if norm is not None:
            params = replace(params, normalisation=norm)
            notes.append(norm.describe())
        shift = _majority_shift(shifts) if coregister else (0, 0)
        if shift != (0, 0):
            notes.append(f"co-registered: after scene read shifted by {shift} pixels (dy, dx)")
        base["shift"] = shift
        # step thresholds
        fixed = {k: v for k, v in (thresholds or {}).items() if v is not None}
        hists: dict[str, np.ndarray] = {}
        if [r for r in RULES if r not in fixed] or has_colour_test(prof):  # colour: always the scene's

            def add_hist(res: TileOutput) -> None:
                for k, v in (res.hists or {}).items():
                    hists[k] = hists.get(k, 0) + v

            jobs = [
                TileJob(params=params, stage="sample", row=t[0], col=t[1], height=t[2], width=t[3], **base)
                for t in sample
            ]
            runner.run(process_tile, jobs, add_hist, should_cancel)
        th = thresholds_from_histograms(hists, prof, fixed)

        # step detect
        if out_path:
            dst = _class_raster(out_path, pair)
        if ev_path:
            ev_dst = _class_raster(ev_path, pair, count=2, dtype="float32", nodata=float("nan"))
        ordered = cache_friendly_order(tiles, g.block_shape, halo, pair.bytes_per_pixel, gdal_cachemax_mb * 1024 * 1024)
        jobs = (
            TileJob(
                params=params,
                stage="detect",
                row=t[0],
                col=t[1],
                height=t[2],
                width=t[3],
                thresholds=th,
                want_classes=bool(out_path),
                want_evidence=bool(ev_path),
                **base,
            )
            for t in ordered
        )
        pieces: list = []
        state = {"done": 0, "valid": 0}

        def collect(res: TileOutput) -> None:
            pieces.append(((res.row, res.col), res.regions))
            state["valid"] += res.valid_pixels
            if dst is not None and res.classes is not None:
                dst.write(res.classes, 1, window=Window(res.col, res.row, res.width, res.height))
            if ev_dst is not None and res.evidence is not None:
                ev_dst.write(res.evidence, window=Window(res.col, res.row, res.width, res.height))
            state["done"] += 1
            if progress is not None:
                progress(state["done"], len(tiles))

        runner.run(process_tile, jobs, collect, should_cancel)
        for ds in (dst, ev_dst):
            if ds is not None:
                ds.close()
        dst = ev_dst = None
        if state["valid"] == 0:
            raise NoValidPixelsError(after_path, "no_valid_pixels", other=pair.before.name)

        # step merge (in tile order, not completion order: the same records whatever the cluster)
        regions = [r for _, rs in sorted(pieces, key=lambda p: p[0]) for r in rs]
        records, dropped, linear = to_records(
            merge_regions(regions),
            crs=g.crs,
            pixel_size=pixel,
            min_area_m2=min_area_m2,
            min_length_m=min_length_m,
            simplify_px=simplify_px,
            rule_index=rule_indices(prof),
        )
        if out_path:
            repaint(out_path, dropped, 0)
            repaint(out_path, linear, CLASS_CONSTRUCTION)
        return DetectionResult(
            records=records,
            thresholds=th,
            valid_pixels=state["valid"],
            total_pixels=g.height * g.width,
            tiles=len(tiles),
            change_raster=out_path,
            notes=notes,
        )
    except BaseException as exc:
        for ds in (dst, ev_dst):
            if ds is not None:
                ds.close()
        for path in (out_path, ev_path):
            if path and Path(path).exists():
                Path(path).unlink()
        if isinstance(exc, Cancelled):
            raise DetectionCancelled(before_path, "cancelled") from None
        raise
    finally:
        runner.close()
        close_run(run_id)
