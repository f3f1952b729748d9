"""Masks of the brightness tests: clouds (bright and white) and shadows (uniform darkening)
for sensors without a product mask, and dilation. Product masks (SCL, QA_PIXEL, BQA) are read
by ``products.base.MASK_KINDS``. True means cloud / shadow."""

from __future__ import annotations

import numpy as np

from .constants import (
    CLOUD_BRIGHTNESS,
    CLOUD_WHITENESS,
    SHADOW_MAX_BRIGHTNESS,
    SHADOW_RATIO,
    SHADOW_SPREAD,
)
from .morph import dilate_square

Array = np.ndarray


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
