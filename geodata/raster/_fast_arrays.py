"""Numba kernels for the array chores around detection (optional: ``numba`` installed): raw
band numbers to reflectance with the valid mask made on the way (``scale_band``), the
normalisation's gain and offset, label sizes and label masks for the clean-up.
Each gives numpy's result bit for bit (tests hold them to it); ``_fast`` has the detection
kernels proper, ``_numba`` the set-up they share.
"""

from __future__ import annotations

import numpy as np

from ._numba import _KW, HAVE_NUMBA, njit

__all__ = ["HAVE_NUMBA", "SCALE_DTYPES", "gain_offset", "label_sizes", "labels_where", "scale_band"]


#: Raw dtypes whose product with a float32 scale numpy computes in float32 (``scale_band``).
SCALE_DTYPES = frozenset({"uint8", "int8", "uint16", "int16", "float32"})


@njit(**_KW)
def scale_band(raw, scale, offset, nodata, has_nodata, out, finite, first):
    """out = raw * scale (+ offset), NaN where raw == nodata: ``io.DateReader.read``'s three
    numpy passes in one, the same float32 operations in the same order (for ``SCALE_DTYPES``).
    Branch-free inner loop (a select, not a jump), so that it vectorises. ``finite`` (bool,
    rows x cols, or empty): set (``first`` band) or ANDed with ``isfinite(out)``, from the
    row just written, so that the date's valid mask costs no pass of its own."""
    nan = np.float32(np.nan)
    track = finite.shape[0] > 0
    for r in range(raw.shape[0]):
        if offset != 0:
            for c in range(raw.shape[1]):
                v = raw[r, c]
                o = np.float32(v) * scale + offset
                out[r, c] = nan if (has_nodata and v == nodata) else o
        else:
            for c in range(raw.shape[1]):
                v = raw[r, c]
                o = np.float32(v) * scale
                out[r, c] = nan if (has_nodata and v == nodata) else o
        if track and first:
            for c in range(raw.shape[1]):
                finite[r, c] = np.isfinite(out[r, c])
        elif track:
            for c in range(raw.shape[1]):
                finite[r, c] &= np.isfinite(out[r, c])


@njit(**_KW)
def label_sizes(labels, n):
    """Pixels of each label 0..n of a 2-D label array: ``np.bincount(labels.ravel(),
    minlength=n + 1)`` without its int64 copy of the labels and its min/max pass."""
    out = np.zeros(n + 1, np.int64)
    for r in range(labels.shape[0]):
        for c in range(labels.shape[1]):
            out[labels[r, c]] += 1
    return out


@njit(**_KW)
def labels_where(table, labels):
    """``table[labels]`` for a boolean ``table`` (one entry a label): the mask in one pass."""
    out = np.empty(labels.shape, np.bool_)
    for r in range(labels.shape[0]):
        for c in range(labels.shape[1]):
            out[r, c] = table[labels[r, c]]
    return out


@njit(**_KW)
def gain_offset(band, gain, offset, has_gain, has_offset):
    """In place: band = band * gain (where ``has_gain``), then + offset (where ``has_offset``):
    ``Normalisation.apply``'s two numpy passes in one, the same float32 operations."""
    for r in range(band.shape[0]):
        for c in range(band.shape[1]):
            v = band[r, c]
            if has_gain:
                v = v * gain
            if has_offset:
                v = v + offset
            band[r, c] = v
