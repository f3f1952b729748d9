"""Clouds and shadows the product mask misses.

Three tests add to SCL / QA_PIXEL (or replace them for sensors without a mask):

- the brightness and whiteness test and the uniform-darkening shadow test of ``masks`` run
  on every sensor (in the per-pixel kernel), so a bright cloud SCL calls vegetation is still
  a cloud;
- ``project_shadows``: with the sun's azimuth and zenith (from the product metadata), the
  shadow of a cloud at height h lies h * tan(zenith) away from it, opposite the sun. The
  cloud mask swept over a range of heights gives where its shadow can be; there a looser
  darkening test (every band darker than ``LOOSE_SHADOW_RATIO`` x the other date) marks the
  shadow, so its soft edges are masked too;
- ``s2cloudless_mask``: Sentinel Hub's LightGBM cloud detector (the ``s2cloudless`` package
  ships its model) for Sentinel-2 products that carry the ten bands it needs (L1C top of
  atmosphere: B01 B02 B04 B05 B08 B8A B09 B10 B11 B12; L2A products lack B10), run at
  ``S2CLOUDLESS_RES_M`` as its authors recommend.
"""

from __future__ import annotations

import math

import numpy as np

from .morph import bbox, dilate_square

Array = np.ndarray

MAX_CLOUD_HEIGHT_M = 3000.0
MIN_CLOUD_HEIGHT_M = 200.0
LOOSE_SHADOW_RATIO = 0.85
S2CLOUDLESS_BANDS = ("B01", "B02", "B04", "B05", "B08", "B8A", "B09", "B10", "B11", "B12")
S2CLOUDLESS_RES_M = 60.0
S2CLOUDLESS_THRESHOLD = 0.4


def shadow_direction(sun_azimuth_deg: float) -> tuple[float, float]:
    """Unit (d_row, d_col) from a cloud towards its shadow (north up, rows grow south):
    the shadow falls along azimuth + 180 degrees."""
    az = math.radians(sun_azimuth_deg)
    return math.cos(az), -math.sin(az)


def _shift_or(out: Array, src: Array, dr: int, dc: int) -> None:
    """out |= src moved by (dr, dc), clipped to the array."""
    h, w = src.shape
    if abs(dr) >= h or abs(dc) >= w:
        return
    rs = slice(max(dr, 0), h + min(dr, 0))
    rd = slice(max(-dr, 0), h + min(-dr, 0))
    cs = slice(max(dc, 0), w + min(dc, 0))
    cd = slice(max(-dc, 0), w + min(-dc, 0))
    out[rs, cs] |= src[rd, cd]


def project_shadows(
    cloud: Array,
    sun_azimuth_deg: float,
    sun_zenith_deg: float,
    pixel_size_m: float,
    *,
    min_height_m: float = MIN_CLOUD_HEIGHT_M,
    max_height_m: float = MAX_CLOUD_HEIGHT_M,
) -> Array:
    """Where the shadows of ``cloud`` can fall for cloud heights in [min, max] (bool)."""
    out = np.zeros(cloud.shape, bool)
    if not cloud.any() or not (0 <= sun_zenith_deg < 85):
        return out
    tz = math.tan(math.radians(sun_zenith_deg))
    dr, dc = shadow_direction(sun_azimuth_deg)
    d0 = min_height_m * tz / pixel_size_m
    d1 = max_height_m * tz / pixel_size_m
    # cloud bounding box plus the longest throw: nothing outside it can be reached
    box = bbox(cloud)
    reach = int(math.ceil(d1)) + 1
    h, w = cloud.shape
    r0 = max(0, box[0].start - reach)
    r1 = min(h, box[0].stop + reach)
    c0 = max(0, box[1].start - reach)
    c1 = min(w, box[1].stop + reach)
    sub = cloud[r0:r1, c0:c1]
    acc = np.zeros(sub.shape, bool)
    seen = set()
    n = max(1, int(math.ceil(d1 - d0)))
    for i in range(n + 1):
        d = d0 + (d1 - d0) * i / n
        step = (int(round(d * dr)), int(round(d * dc)))
        if step in seen:
            continue
        seen.add(step)
        _shift_or(acc, sub, *step)
    out[r0:r1, c0:c1] = acc
    return out


def loose_shadow(this: list[Array], other: list[Array], zone: Array, ratio: float = LOOSE_SHADOW_RATIO) -> Array:
    """Inside ``zone``: every band of ``this`` date darker than ``ratio`` x the other date."""
    out = zone.copy()
    if not out.any():
        return out
    with np.errstate(invalid="ignore", divide="ignore"):
        for t, o in zip(this, other, strict=True):
            out[out] = t[out] < ratio * np.maximum(o[out], np.float32(0.005))
    return out


def shadows_of_clouds(
    this: dict[str, Array],
    other: dict[str, Array],
    cloud: Array,
    sun: tuple[float, float],
    pixel_size_m: float,
    roles: tuple[str, ...],
) -> Array:
    """Shadow pixels, on ``this`` date, of its ``cloud`` pixels: projected with the sun's
    (azimuth, zenith), then the loose darkening test against the ``other`` date."""
    if not cloud.any():
        return np.zeros(cloud.shape, bool)
    zone = project_shadows(cloud, sun[0], sun[1], pixel_size_m) & ~cloud
    return loose_shadow([this[r] for r in roles], [other[r] for r in roles], zone)


_DETECTOR = None


def s2cloudless_detector():
    """The s2cloudless pixel classifier, loaded once per process from the model file the
    package ships (no network)."""
    global _DETECTOR
    if _DETECTOR is None:
        # imported here: s2cloudless pulls in LightGBM, OpenCV and sentinelhub (about a
        # second), which only Sentinel-2 L1C runs need
        from s2cloudless import S2PixelCloudDetector

        _DETECTOR = S2PixelCloudDetector(
            threshold=S2CLOUDLESS_THRESHOLD, average_over=2, dilation_size=1, all_bands=False
        )
    return _DETECTOR


def s2cloudless_probability(bands: dict[str, Array], pixel_size_m: float) -> Array:
    """Cloud probability (float32, input grid) from top-of-atmosphere reflectance of the ten
    s2cloudless bands, computed at ``S2CLOUDLESS_RES_M`` (block means) and repeated back."""
    missing = [b for b in S2CLOUDLESS_BANDS if b not in bands]
    if missing:
        raise KeyError(f"s2cloudless needs bands {', '.join(missing)}")
    f = max(1, int(round(S2CLOUDLESS_RES_M / pixel_size_m)))
    h, w = bands["B02"].shape
    hh, ww = -(-h // f), -(-w // f)
    stack = np.empty((1, hh, ww, len(S2CLOUDLESS_BANDS)), np.float32)
    for k, name in enumerate(S2CLOUDLESS_BANDS):
        a = np.asarray(bands[name], np.float32)
        pad = np.pad(a, ((0, hh * f - h), (0, ww * f - w)), mode="edge")
        stack[0, :, :, k] = np.nan_to_num(pad.reshape(hh, f, ww, f).mean(axis=(1, 3)), nan=0.0)
    prob = s2cloudless_detector().get_cloud_probability_maps(stack)[0]
    return np.repeat(np.repeat(prob, f, axis=0), f, axis=1)[:h, :w].astype(np.float32)


def s2cloudless_mask(bands: dict[str, Array], pixel_size_m: float, *, dilation_px: int = 2) -> Array:
    """Cloud mask of s2cloudless (probability above its threshold), dilated."""
    cloud = s2cloudless_probability(bands, pixel_size_m) > S2CLOUDLESS_THRESHOLD
    return dilate_square(cloud, dilation_px) if dilation_px else cloud
