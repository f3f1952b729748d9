"""Fast 3x3 neighbourhood operations on whole arrays with plain numpy slicing.

scipy's generic min/max filters walk each 1-D line with a sorted-list algorithm and hold the
GIL for much of it; for a 3x3 window two shifted ``np.minimum``/``np.maximum`` per axis do the
same work in a few vectorised passes (and release the GIL). Edges follow scipy's
``mode="nearest"`` (a pixel beyond the edge repeats the edge pixel), which for a 3-wide window
is also what ``mode="reflect"`` gives; for binary dilation it equals ``cval=0`` too.
NaN propagates (``np.minimum``), so a neighbour with no data never makes a pixel pass a test.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def _filter3(a: Array, op) -> Array:
    """Separable 3x3 filter with binary ufunc ``op`` (min, max, and, or), nearest edges."""
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError("2-D array expected")
    t = a.copy()
    if a.shape[0] > 1:
        op(t[1:], a[:-1], out=t[1:])
        op(t[:-1], a[1:], out=t[:-1])
    o = t.copy()
    if a.shape[1] > 1:
        op(o[:, 1:], t[:, :-1], out=o[:, 1:])
        op(o[:, :-1], t[:, 1:], out=o[:, :-1])
    return o


def min3(a: Array) -> Array:
    """3x3 minimum (``ndimage.minimum_filter(a, 3, mode="nearest")``)."""
    return _filter3(a, np.minimum)


def max3(a: Array) -> Array:
    """3x3 maximum (``ndimage.maximum_filter(a, 3, mode="nearest")``)."""
    return _filter3(a, np.maximum)


def sum3(a: Array) -> Array:
    """3x3 sum over the neighbours inside the array (edge pixels sum fewer), in the order
    (a[r] + a[r-1]) + a[r+1], then the same along columns (the numba kernels follow it)."""
    return _filter3(a, np.add)


def dilate3(mask: Array) -> Array:
    """Binary dilation by the full 3x3 square (outside the array counts as False)."""
    return _filter3(np.asarray(mask, dtype=bool), np.logical_or)


def erode3(mask: Array) -> Array:
    """Binary erosion by the 3x3 square, nearest edges (scipy ``minimum_filter`` ``nearest``)."""
    return _filter3(np.asarray(mask, dtype=bool), np.logical_and)


def open2(mask: Array) -> Array:
    """Binary opening by the 2x2 square: the union of every 2x2 square inside ``mask``
    (outside the array counts as False)."""
    m = np.asarray(mask, dtype=bool)
    h, w = m.shape
    out = np.zeros((h, w), dtype=bool)
    if h < 2 or w < 2:
        return out
    e = m[:-1, :-1] & m[1:, :-1]  # e[r, c]: the square with top-left (r, c) fits
    e &= m[:-1, 1:]
    e &= m[1:, 1:]
    out[:-1, :-1] |= e
    out[1:, :-1] |= e
    out[:-1, 1:] |= e
    out[1:, 1:] |= e
    return out


def dilate_square(mask: Array, radius: int) -> Array:
    """Binary dilation by a (2r+1)x(2r+1) square = r successive 3x3 dilations, restricted to
    the bounding box of the True pixels grown by r (the rest stays False)."""
    m = np.asarray(mask, dtype=bool)
    if radius <= 0 or not m.any():
        return m.copy()
    box = bbox(m, radius)
    out = np.zeros(m.shape, dtype=bool)
    sub = m[box]
    for _ in range(radius):
        sub = dilate3(sub)
    out[box] = sub
    return out


def bbox(mask: Array, margin: int = 0) -> tuple[slice, slice] | None:
    """Slices of the bounding box of the True pixels, grown by ``margin`` and clipped to the
    array; None when there are none."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    h, w = mask.shape
    return (
        slice(max(0, int(rows[0]) - margin), min(h, int(rows[-1]) + 1 + margin)),
        slice(max(0, int(cols[0]) - margin), min(w, int(cols[-1]) + 1 + margin)),
    )
