"""Validity masks: nodata, clouds and shadows, dilation, valid-on-both-dates.

All functions return boolean arrays where True means *invalid* (``*_invalid``/``cloud``) or
*valid* (``valid_*``), as named.
"""

from __future__ import annotations

import numpy as np

from .constants import (
    CLOUD_BRIGHTNESS,
    CLOUD_WHITENESS,
    LANDSAT_QA_INVALID_BITS,
    SCL_INVALID,
    SHADOW_MAX_BRIGHTNESS,
    SHADOW_RATIO,
    SHADOW_SPREAD,
)
from .errors import NoValidPixelsError
from .morph import dilate_square

Array = np.ndarray


def nodata_invalid(stack: Array, nodata: float | None) -> Array:
    """True where any band equals ``nodata`` or is not finite. ``stack`` is (bands, rows, cols)."""
    stack = np.asarray(stack)
    out = np.zeros(stack.shape[1:], dtype=bool)
    for band in stack:
        if nodata is not None:
            out |= band == nodata
        if band.dtype.kind == "f":
            out |= ~np.isfinite(band)
    return out


def scl_invalid(scl: Array, invalid_classes: tuple[int, ...] = SCL_INVALID) -> Array:
    """Sentinel-2 SCL: nodata, saturated, cloud shadow, clouds, cirrus, snow."""
    lut = np.zeros(256, dtype=bool)
    lut[list(invalid_classes)] = True
    return lut[np.asarray(scl).astype(np.uint8, copy=False)]


def qa_invalid(qa: Array, bits: tuple[int, ...] = LANDSAT_QA_INVALID_BITS) -> Array:
    """Landsat QA_PIXEL: any of ``bits`` set."""
    mask = 0
    for b in bits:
        mask |= 1 << b
    return (np.asarray(qa).astype(np.uint32) & mask) != 0


def brightness_cloud(
    blue: Array,
    green: Array,
    red: Array,
    *,
    min_brightness: float = CLOUD_BRIGHTNESS,
    max_whiteness: float = CLOUD_WHITENESS,
) -> Array:
    """Simple cloud test for sensors without a QA band: bright *and* white (flat spectrum).

    whiteness = mean(|band - mean|) / mean over the visible bands (Fmask-style).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = blue + green
        if mean.dtype.kind != "f":
            mean = mean.astype(np.float32)
        mean += red
        mean /= np.float32(3)
        out = mean > min_brightness
        if not out.any():  # nothing bright: skip the whiteness test
            return out
        m = mean[out]
        b, g, r = blue[out], green[out], red[out]
        white = (np.abs(b - m) + np.abs(g - m) + np.abs(r - m)) / np.float32(3)
        out[out] = white < max_whiteness * m
        return out


def shadow_by_darkening(
    this: list[Array],
    other: list[Array],
    *,
    ratio: float = SHADOW_RATIO,
    spread: float = SHADOW_SPREAD,
    max_brightness: float = SHADOW_MAX_BRIGHTNESS,
) -> Array:
    """Shadow on ``this`` date: dark (mean of all bands < ``max_brightness``) and every band
    darker than ``ratio`` × the other date by a similar factor (max/min ratio < ``spread``).
    Real land-cover changes change the spectral shape, shadows mostly scale it; the darkness
    condition keeps brightening changes (soil -> concrete) from reading as a shadowed before."""
    n = len(this)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = None
        for t in this:
            total = t.copy() if total is None else total + t
        out = total < max_brightness * n
        if not out.any():  # nothing dark: no shadow (the ratio tests need not run)
            return out
        lo = hi = None
        floor = np.float32(0.01)
        for t, o in zip(this, other, strict=False):
            r = t[out] / np.maximum(o[out], floor)
            lo = r if lo is None else np.minimum(lo, r)
            hi = r if hi is None else np.maximum(hi, r)
        out[out] = (hi < ratio) & (hi < spread * lo)
        return out


def dilate(mask: Array, pixels: int) -> Array:
    """Grow a boolean mask by ``pixels`` in every direction (square structuring element)."""
    if pixels <= 0:
        return np.asarray(mask, dtype=bool)
    return dilate_square(mask, pixels)


def valid_both(
    invalid_before: Array, invalid_after: Array, *, path: object = None, raise_if_empty: bool = True
) -> Array:
    """Pixels valid on both dates. Raises NoValidPixelsError if none (and ``raise_if_empty``)."""
    valid = ~(np.asarray(invalid_before, bool) | np.asarray(invalid_after, bool))
    if raise_if_empty and not valid.any():
        raise NoValidPixelsError(path, "no pixel is valid on both dates (all nodata / cloud / shadow)")
    return valid
