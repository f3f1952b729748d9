"""Thin haze the product mask misses: blue excess against the local normal.

Thin haze adds path radiance that falls off with wavelength (strong in blue, weaker in red,
little in NIR, almost none in SWIR) and varies smoothly over hundreds of metres. After the
scene-wide radiometric normalisation, the difference between the dates (after - before) of
stable land is ~0 everywhere; where one date is hazy it is a smooth positive (after hazy) or
negative (before hazy) field with that spectral shape. Land-cover changes are local: a
block's median difference ignores them as long as they cover less than half of the block.

So per block of the scene grid (``block`` pixels, aligned on the scene origin so that every
tile sees the same blocks) the median difference of each band over a decimated sample of
valid pixels is the local normal. A block is hazy when its blue excess is clearly above the
noise of that median (``MIN_BLUE_EXCESS``) and the excess falls from blue to red (a real
change brightening a whole block, such as a new estate, raises red as much as blue). The
hazy blocks' differences, bilinearly interpolated to pixels, are removed from the hazy date:
a relative haze correction. What lies under haze keeps a lower confidence (``HAZE_CONFIDENCE``),
and, where the sensor has SWIR, vegetation loss under haze must also show in NDMI (NIR and
SWIR, which haze hardly touches) to count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Array = np.ndarray

MIN_BLUE_EXCESS = 0.008  # median blue difference of a block (reflectance) to call it hazy
BLUE_OVER_RED = 1.15  # haze: blue excess at least this times the red excess
HAZY_PIXEL = 0.004  # interpolated blue excess above which a pixel counts as under haze
HAZE_CONFIDENCE = 0.6  # confidence factor of a change under haze
MIN_SAMPLES = 24  # valid samples a block needs for its median to mean anything


@dataclass
class HazeResult:
    """``hazy``: pixels under haze on either date (bool); ``corrected``: whether any was."""

    hazy: Array
    corrected: bool
    blocks: int = 0


def block_medians(
    after: Array, before: Array, valid: Array, origin: tuple[int, int], block: int, step: int
) -> tuple[Array, tuple[int, int]]:
    """Median of ``after - before`` over the valid pixels of each ``block`` x ``block`` cell of
    the scene grid (cells aligned on the scene origin; ``origin`` = (row, col) of this array in
    the scene), sampling every ``step``-th pixel (the difference is taken at the samples only).
    Returns (medians (cells_r, cells_c) with NaN for cells with too few samples, (row, col) of
    the first cell in the scene)."""
    h, w = valid.shape
    r0, c0 = origin
    br0, bc0 = (r0 // block) * block, (c0 // block) * block
    nr = (r0 + h - br0 + block - 1) // block
    nc = (c0 + w - bc0 + block - 1) // block
    # sample positions on the scene grid (multiples of step), so every tile samples the same pixels
    rs = np.arange(((r0 + step - 1) // step) * step, r0 + h, step) - r0
    cs = np.arange(((c0 + step - 1) // step) * step, c0 + w, step) - c0
    at = np.ix_(rs, cs)
    sub = after[at] - before[at]
    ok = valid[at] & np.isfinite(sub)
    if not rs.size or not cs.size:
        out = np.full(nr * nc, np.nan, np.float32)
    elif block % step == 0:
        out = _medians_on_grid(sub, ok, ((rs[0] + r0 - br0) // step, (cs[0] + c0 - bc0) // step), nr, nc, block // step)
    else:
        cell = ((rs + r0 - br0) // block)[:, None] * nc + ((cs + c0 - bc0) // block)[None, :]
        out = _medians_sorted(cell[ok], sub[ok], nr * nc)
    return out.reshape(nr, nc), (br0, bc0)


def _medians_sorted(flat_cell: Array, vals: Array, n_cells: int) -> Array:
    """Median of ``vals`` per cell id (NaN for cells with fewer than ``MIN_SAMPLES``), by one
    sort on (cell, value)."""
    out = np.full(n_cells, np.nan, np.float32)
    if vals.size:
        order = np.lexsort((vals, flat_cell))
        fc, fv = flat_cell[order], vals[order]
        starts = np.flatnonzero(np.r_[True, fc[1:] != fc[:-1]])
        ends = np.r_[starts[1:], fc.size]
        counts = ends - starts
        good = counts >= MIN_SAMPLES
        lo = starts + (counts - 1) // 2
        hi = starts + counts // 2
        med = (fv[lo] + fv[hi]) / 2
        out[fc[starts[good]]] = med[good]
    return out


def _medians_on_grid(sub: Array, ok: Array, first: tuple[int, int], nr: int, nc: int, k: int) -> Array:
    """``_medians_sorted`` when a cell holds exactly k x k sample positions (the block a
    multiple of the step): the samples padded with NaN onto the cells' sample grid, each
    cell's k*k values sorted in one batch (NaN last), the middle of the valid ones taken."""
    grid = np.full((nr * k, nc * k), np.nan, np.float32)
    i0, j0 = first
    grid[i0 : i0 + sub.shape[0], j0 : j0 + sub.shape[1]] = np.where(ok, sub, np.float32(np.nan))
    cells = np.sort(grid.reshape(nr, k, nc, k).transpose(0, 2, 1, 3).reshape(nr * nc, k * k), axis=1)
    counts = np.count_nonzero(~np.isnan(cells), axis=1)
    lo = np.maximum((counts - 1) // 2, 0)[:, None]
    hi = (counts // 2)[:, None]
    med = (np.take_along_axis(cells, lo, 1)[:, 0] + np.take_along_axis(cells, hi, 1)[:, 0]) / 2
    return np.where(counts >= MIN_SAMPLES, med, np.float32(np.nan)).astype(np.float32, copy=False)


def _upsample(
    cells: Array, first: tuple[int, int], origin: tuple[int, int], shape: tuple[int, int], block: int
) -> Array:
    """Bilinear interpolation of per-cell values (at cell centres) to the pixels of ``shape``
    at ``origin``; beyond the outer cell centres the edge value holds. Separable: along the
    columns for each cell row, then along the rows."""
    h, w = shape
    nr, nc = cells.shape
    r = np.clip((np.arange(h) + origin[0] - first[0] + 0.5) / block - 0.5, 0, nr - 1)
    c = np.clip((np.arange(w) + origin[1] - first[1] + 0.5) / block - 0.5, 0, nc - 1)
    r0 = np.minimum(np.floor(r).astype(np.int64), max(nr - 2, 0))
    c0 = np.minimum(np.floor(c).astype(np.int64), max(nc - 2, 0))
    r1 = np.minimum(r0 + 1, nr - 1)
    c1 = np.minimum(c0 + 1, nc - 1)
    wr = (r - r0).astype(np.float32)[:, None]
    wc = (c - c0).astype(np.float32)[None, :]
    rows = cells[:, c0] * (1 - wc) + cells[:, c1] * wc  # (nr, w)
    out = rows[r0] * (1 - wr)
    out += rows[r1] * wr
    return out.astype(np.float32, copy=False)


def correct_haze(
    before: dict[str, Array],
    after: dict[str, Array],
    valid: Array,
    *,
    origin: tuple[int, int] = (0, 0),
    block: int = 64,
    step: int = 8,
    min_excess: float = MIN_BLUE_EXCESS,
) -> HazeResult:
    """Detect haze on either date and remove it from the hazy date in place (see module doc).
    ``before``/``after`` are float32 reflectance by band role (after already normalised)."""
    shape = valid.shape
    if "blue" not in before or "red" not in before:
        return HazeResult(np.zeros(shape, bool), False)
    med = {}
    first = (0, 0)
    for role in ("blue", "red"):
        med[role], first = block_medians(after[role], before[role], valid, origin, block, step)
    b, r = med["blue"], med["red"]
    with np.errstate(invalid="ignore"):
        up = (b > min_excess) & (b > BLUE_OVER_RED * np.maximum(r, 0))
        down = (b < -min_excess) & (-b > BLUE_OVER_RED * np.maximum(-r, 0))
    hazy_cells = up | down
    hazy = np.zeros(shape, bool)
    if not hazy_cells.any():
        return HazeResult(hazy, False)
    # the field is zero beyond one cell around the hazy cells: work on that box only
    rows = np.flatnonzero(hazy_cells.any(axis=1))
    cols = np.flatnonzero(hazy_cells.any(axis=0))
    y0 = max(0, first[0] + (int(rows[0]) - 1) * block - origin[0])
    y1 = min(shape[0], first[0] + (int(rows[-1]) + 2) * block - origin[0])
    x0 = max(0, first[1] + (int(cols[0]) - 1) * block - origin[1])
    x1 = min(shape[1], first[1] + (int(cols[-1]) + 2) * block - origin[1])
    box = (slice(y0, y1), slice(x0, x1))
    sub_origin, sub_shape = (origin[0] + y0, origin[1] + x0), (y1 - y0, x1 - x0)
    blue_field = _upsample(np.where(hazy_cells, b, 0).astype(np.float32), first, sub_origin, sub_shape, block)
    for role in before:
        if role not in after:
            continue
        cells = med[role] if role in med else block_medians(after[role], before[role], valid, origin, block, step)[0]
        cells = np.where(hazy_cells & np.isfinite(cells), cells, 0).astype(np.float32)
        field = blue_field if role == "blue" else _upsample(cells, first, sub_origin, sub_shape, block)
        # remove the excess from the hazy date: after brighter -> lower after, else lower before
        after[role][box] -= np.maximum(field, 0)
        before[role][box] += np.minimum(field, 0)
    hazy[box] = np.abs(blue_field) > HAZY_PIXEL
    return HazeResult(hazy, True, int(hazy_cells.sum()))
