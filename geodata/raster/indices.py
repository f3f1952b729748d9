"""Spectral indices on reflectance arrays (float32); division is always safe."""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def safe_divide(num: Array, den: Array, *, fill: float = np.nan, eps: float = 1e-12) -> Array:
    """``num / den`` as float32, ``fill`` where ``|den| <= eps`` or either input is not finite."""
    num = np.asarray(num, dtype=np.float32)
    den = np.asarray(den, dtype=np.float32)
    shape = np.broadcast_shapes(num.shape, den.shape)
    out = np.empty(shape, dtype=np.float32)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        np.divide(num, den, out=out)
    # fill where the denominator is ~0 or the quotient is not finite (both checks in one mask)
    bad = (np.abs(den) <= eps) | ~np.isfinite(out)
    if bad.any():
        out[bad] = fill
    return out


def normalized_difference(a: Array, b: Array, *, fill: float = np.nan) -> Array:
    """(a - b) / (a + b)."""
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    shape = np.broadcast_shapes(a.shape, b.shape)
    num = np.subtract(a, b, out=np.empty(shape, np.float32))
    den = np.add(a, b, out=np.empty(shape, np.float32))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        np.divide(num, den, out=num)
    bad = np.abs(den, out=den) <= 1e-12
    bad |= ~np.isfinite(num)
    if bad.any():
        num[bad] = fill
    return num


def ndvi(nir: Array, red: Array) -> Array:
    return normalized_difference(nir, red)


def ndbi(swir1: Array, nir: Array) -> Array:
    return normalized_difference(swir1, nir)


def mndwi(green: Array, swir1: Array) -> Array:
    return normalized_difference(green, swir1)


def ndwi(green: Array, nir: Array) -> Array:
    """McFeeters NDWI, the water index for sensors without SWIR."""
    return normalized_difference(green, nir)


def exg(red: Array, green: Array, blue: Array) -> Array:
    """Excess green 2G - R - B on reflectance (drone RGB)."""
    return (2 * np.asarray(green, np.float32) - np.asarray(red, np.float32) - np.asarray(blue, np.float32)).astype(
        np.float32
    )


def vari(red: Array, green: Array, blue: Array) -> Array:
    """Visible atmospherically resistant index (G - R) / (G + R - B)."""
    r = np.asarray(red, np.float32)
    g = np.asarray(green, np.float32)
    b = np.asarray(blue, np.float32)
    return safe_divide(g - r, g + r - b)


def brightness(*bands: Array) -> Array:
    """Mean of the given (visible) bands."""
    out = np.zeros_like(np.asarray(bands[0], dtype=np.float32))
    for b in bands:
        out += b
    out /= len(bands)
    return out
