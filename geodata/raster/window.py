"""Change detection on one window of a pair, in named steps (pure: arrays in, arrays out).

1. **read** (``io``, before this module): reflectance with each date's own scale and offset
   (two dates never need the same DN offset), NaN where a date has no data, product masks;
2. **normalise**: the after date onto the before date's radiometry (``normalize``, fitted
   once per scene on pseudo-invariant pixels);
3. **haze**: thin haze removed from the hazy date against the local normal (``haze``);
4. **mask**: product cloud/shadow masks of both dates, plus the brightness cloud and the
   uniform-darkening shadow tests (every sensor), shadows projected from clouds with the sun
   angles, s2cloudless where the bands exist (``clouds``); dilated;
5. **indices and change rules**: per-pixel tests, 3x3 robust tests, regrow (``change``);
6. **evidence**: a second, independent index agreeing raises the confidence; under haze the
   confidence is lowered, and vegetation loss must show in NDMI too where SWIR exists.

Steps 4 and 5 run in numba kernels (``_fast``) when numba is installed, with the numpy
functions as the reference they are tested against (same result, bit for bit).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import _fast, _fast_colour
from .change import (
    AGREE_BONUS,
    COLOUR,
    EXG_VEGETATED,
    HIST_BINS,
    HIST_RANGE,
    classify_window,
    compute_scores,
    has_colour_test,
    max3,
    min3,
    score_histograms,
)
from .clouds import S2CLOUDLESS_BANDS, s2cloudless_mask, shadows_of_clouds
from .constants import (
    CLOUD_BRIGHTNESS,
    CLOUD_WHITENESS,
    COLOUR_MIN_BRIGHTNESS,
    CONSTRUCTION_BRIGHT_AFTER,
    CONSTRUCTION_BRIGHT_FLOOR,
    CONSTRUCTION_NDVI_AFTER_MAX,
    NDVI_VEGETATED,
    SHADOW_MAX_BRIGHTNESS,
    SHADOW_RATIO,
    SHADOW_SPREAD,
    VEG_LOSS_FLOOR,
    WATER_SIGN_MARGIN,
    SensorProfile,
)
from .haze import HAZE_CONFIDENCE, correct_haze
from .indices import brightness, exg, normalized_difference
from .masks import brightness_cloud, dilate, shadow_by_darkening
from .normalize import Normalisation
from .types import Thresholds

Array = np.ndarray
ROLES = ("blue", "green", "red", "nir", "swir1")
#: Second-index agreement: minimum change of the second index (see ``second_index_agrees``).
NDMI_DROP = 0.08
EXG_DROP = 0.02
BRIGHTNESS_RISE = 0.02
NIR_FALL = 0.04


@dataclass(frozen=True)
class WindowParams:
    """What every window of one run shares (fitted or known once per scene pair)."""

    profile: SensorProfile  # bands by role (the reader's reflectance profile)
    normalisation: Normalisation | None = None
    pixel_size_m: float = 10.0
    cloud_dilation_px: int = 3
    haze_block_px: int = 0  # 0: no haze step (drone imagery, or switched off)
    sun_before: tuple[float, float] | None = None  # (azimuth, zenith) in degrees
    sun_after: tuple[float, float] | None = None


@dataclass
class WindowInput:
    """One window as the reader gives it: float32 reflectance stacks (bands, rows, cols) in
    ``profile.reflectance_roles`` order, NaN where a date has no data (modified in place by
    the normalisation and haze steps), where both dates have data, the product flags of each
    date (no data, cloud, shadow, snow; None without a product mask), optional extra
    top-of-atmosphere bands by Sentinel-2 name (s2cloudless). ``origin`` = (row, col) of the
    window in the scene."""

    before: Array
    after: Array
    has_data: Array
    flagged_before: Array | None = None
    flagged_after: Array | None = None
    origin: tuple[int, int] = (0, 0)
    extra_before: dict[str, Array] = field(default_factory=dict)
    extra_after: dict[str, Array] = field(default_factory=dict)


@dataclass
class Prepared:
    """Steps 2-3 done: reflectance stacks (after normalised, haze removed), their band-role
    views, pixels with data on both dates, product-flagged pixels, pixels under haze."""

    before: Array
    after: Array
    bands_before: dict[str, Array]
    bands_after: dict[str, Array]
    has_data: Array
    flagged: Array
    hazy: Array


def window_input(before, after, *, origin: tuple[int, int] = (0, 0)) -> WindowInput:
    """From the reader's two ``io.DateWindow``."""
    has_data = before.valid & after.valid
    return WindowInput(before.stack(), after.stack(), has_data, before.flagged, after.flagged, origin)


# ----------------------------------------------------------------------------- steps 2-3
def flags(win: WindowInput) -> Array:
    """Pixels the product masks flag on either date."""
    out = np.zeros(win.has_data.shape, bool)
    for m in (win.flagged_before, win.flagged_after):
        if m is not None:
            out |= m
    return out


def prepare(win: WindowInput, params: WindowParams) -> Prepared:
    """Steps 2-3: normalisation, haze."""
    roles = params.profile.reflectance_roles
    rb = np.ascontiguousarray(win.before, dtype=np.float32)
    ra = np.ascontiguousarray(win.after, dtype=np.float32)
    before = {r: rb[i] for i, r in enumerate(roles)}
    after = {r: ra[i] for i, r in enumerate(roles)}
    if params.normalisation is not None:
        params.normalisation.apply(after)
    flagged = flags(win)
    hazy = np.zeros(win.has_data.shape, bool)
    if params.haze_block_px:
        hazy = correct_haze(before, after, win.has_data & ~flagged, origin=win.origin, block=params.haze_block_px).hazy
    return Prepared(rb, ra, before, after, win.has_data, flagged, hazy)


# ----------------------------------------------------------------------------- step 4
def _extra_clouds(p: Prepared, win: WindowInput, params: WindowParams, cloud: Array, cloud_b, cloud_a) -> Array:
    """Product flags, shadows projected with the sun angles, s2cloudless: added to ``cloud``."""
    cloud |= p.flagged
    roles = params.profile.reflectance_roles
    if params.sun_before is not None or params.sun_after is not None:
        for sun, cl, this, other in (
            (params.sun_before, cloud_b, p.bands_before, p.bands_after),
            (params.sun_after, cloud_a, p.bands_after, p.bands_before),
        ):
            if sun is not None and cl.any():
                cloud |= shadows_of_clouds(this, other, cl, sun, params.pixel_size_m, roles)
    for extra in (win.extra_before, win.extra_after):
        if extra and all(b in extra for b in S2CLOUDLESS_BANDS):
            cloud |= s2cloudless_mask(extra, params.pixel_size_m)
    return cloud


def cloud_mask(p: Prepared, win: WindowInput, params: WindowParams) -> Array:
    """Step 4 (numpy): cloud and shadow on either date, before dilation."""
    roles = params.profile.reflectance_roles
    b, a = p.bands_before, p.bands_after
    vis_b = [b[r] for r in ("blue", "green", "red")]
    vis_a = [a[r] for r in ("blue", "green", "red")]
    cloud_b = brightness_cloud(*vis_b)
    cloud_a = brightness_cloud(*vis_a)
    bright = cloud_b | cloud_a
    allb = [b[r] for r in roles]
    alla = [a[r] for r in roles]
    dark = shadow_by_darkening(alla, allb)
    dark |= shadow_by_darkening(allb, alla)
    return _extra_clouds(p, win, params, _with_shadows(bright, dark, params), cloud_b, cloud_a)


def _with_shadows(bright: Array, dark: Array, params: WindowParams) -> Array:
    """Bright clouds plus uniformly darkened pixels. With a product mask, which flags the
    shadows of the clouds it sees, darkening counts only where the window has a cloud the
    mask missed: a shadow without a cloud is a forest on a shaded slope, not a cloud's."""
    if params.profile.mask_band is None or bright.any():
        return bright | dark
    return bright


def _valid(p: Prepared, cloud: Array, params: WindowParams) -> Array:
    invalid = ~p.has_data
    if cloud.any():
        invalid |= dilate(cloud, params.cloud_dilation_px)
    return ~invalid


def _consts(prof: SensorProfile) -> Array:
    return np.array(
        [
            1e-12,
            CLOUD_BRIGHTNESS,
            CLOUD_WHITENESS,
            SHADOW_RATIO,
            SHADOW_SPREAD,
            SHADOW_MAX_BRIGHTNESS * len(prof.reflectance_roles),
            0.01,
            NDVI_VEGETATED if prof.has_nir else EXG_VEGETATED,
            CONSTRUCTION_NDVI_AFTER_MAX if prof.has_nir else EXG_VEGETATED,
            WATER_SIGN_MARGIN,
            3.0,
            2.0,
            CONSTRUCTION_BRIGHT_AFTER,
            CONSTRUCTION_BRIGHT_FLOOR,
            COLOUR_MIN_BRIGHTNESS,
            VEG_LOSS_FLOOR,
        ],
        dtype=np.float32,
    )


def _visible_idx(prof: SensorProfile) -> Array:
    """Band positions of (blue, green, red): where the colour test takes its 3x3 sums."""
    pos = {r: i for i, r in enumerate(prof.reflectance_roles)}
    return np.array([pos.get(r, 0) for r in ("blue", "green", "red")], dtype=np.int64)


def _visible_sums(p: Prepared, prof: SensorProfile) -> tuple[Array, Array]:
    """3x3 sums of the visible bands of both dates over the whole tile (numba ``box_sums3``):
    the threshold sample scores most pixels of its tiles."""
    idx = _visible_idx(prof)
    sb, sa = (np.empty((3, *p.has_data.shape), np.float32) for _ in range(2))
    _fast_colour.box_sums3(p.before, idx, sb)
    _fast_colour.box_sums3(p.after, idx, sa)
    return sb, sa


def _kernel_pass(p: Prepared, win: WindowInput, params: WindowParams, thresholds: Thresholds | None):
    """Numba pass 1 + the rest of step 4: (consts, th, indices (vb, va, cb, ca, wb, wa, bb,
    ba), naive-test bits, valid)."""
    prof = params.profile
    f32 = np.float32
    pos = {r: i for i, r in enumerate(prof.reflectance_roles)}
    role_idx = np.array([pos.get(r, -1) for r in ROLES], dtype=np.int64)
    shape = p.has_data.shape
    t = (
        [
            f32(thresholds.vegetation_loss),
            f32(thresholds.construction),
            f32(thresholds.water_change),
            f32(thresholds.construction_colour),
        ]
        if thresholds is not None
        else [f32(np.inf)] * 4
    )
    th = np.array(t + [max(float(x), 1e-6) for x in t], dtype=f32)
    consts = _consts(prof)
    cloud = np.empty(shape, np.uint8)
    vb, va, cb, ca, wb, wa, bb, ba = (np.empty(shape, f32) for _ in range(8))
    passing = np.empty(shape, np.uint8)
    # the colour state (bit 8) in the sample stage too, where the thresholds are not known yet
    colour = has_colour_test(prof) and (thresholds is None or bool(np.isfinite(t[3])))
    _fast.pixel_pass(
        p.before, p.after, role_idx, True, colour, consts, th, cloud, vb, va, cb, ca, wb, wa, bb, ba, passing
    )
    cloud = _with_shadows(cloud == 1, cloud == 2, params)
    b, a = p.bands_before, p.bands_after
    if cloud.any() and (params.sun_before is not None or params.sun_after is not None):
        # which date each cloud is on (only needed to project its shadow)
        cloud_b = brightness_cloud(b["blue"], b["green"], b["red"])
        cloud_a = brightness_cloud(a["blue"], a["green"], a["red"])
    else:
        cloud_b = cloud_a = np.zeros(shape, bool)
    cloud = _extra_clouds(p, win, params, cloud, cloud_b, cloud_a)
    return consts, th, (vb, va, cb, ca, wb, wa, bb, ba), passing, _valid(p, cloud, params)


# ----------------------------------------------------------------------------- step 6
def second_index_agrees(before: dict[str, Array], after: dict[str, Array], classes: Array, prof) -> Array:
    """On changed pixels: does a second index, independent of the rule's own, agree?
    Vegetation loss: NDMI (NIR, SWIR) falls, or without SWIR excess green falls; construction:
    visible brightness rises (SWIR sensors) or NDVI falls by the floor; water: NIR falls
    (water appears) or rises (water gone) with NDWI/MNDWI."""
    out = np.zeros(classes.shape, bool)
    sel = classes > 0
    if not sel.any():
        return out
    at = np.flatnonzero(sel)  # the mask scanned once, not once a band
    b = {r: v.ravel()[at] for r, v in before.items()}
    a = {r: v.ravel()[at] for r, v in after.items()}
    cls = classes.ravel()[at]
    ok = np.zeros(cls.shape, bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        if prof.has_swir:
            veg = (
                normalized_difference(b["nir"], b["swir1"]) - normalized_difference(a["nir"], a["swir1"])
            ) > NDMI_DROP
        else:
            veg = (exg(b["red"], b["green"], b["blue"]) - exg(a["red"], a["green"], a["blue"])) > EXG_DROP
        if prof.has_swir:
            con = (
                brightness(a["blue"], a["green"], a["red"]) - brightness(b["blue"], b["green"], b["red"])
            ) > BRIGHTNESS_RISE
        elif prof.has_nir:
            con = (
                normalized_difference(b["nir"], b["red"]) - normalized_difference(a["nir"], a["red"])
            ) > VEG_LOSS_FLOOR
        else:
            con = np.zeros(cls.shape, bool)
        if prof.has_nir:
            wat_idx_a = normalized_difference(a["green"], a["swir1" if prof.has_swir else "nir"])
            appear = wat_idx_a > 0
            dn = a["nir"] - b["nir"]
            wat = np.where(appear, dn < -NIR_FALL, dn > NIR_FALL)
        else:
            wat = np.zeros(cls.shape, bool)
    ok[cls == 1] = veg[cls == 1]
    ok[cls == 2] = con[cls == 2]
    ok[cls == 3] = wat[cls == 3]
    out.ravel()[at] = ok
    return out


def add_evidence(p: Prepared, prof: SensorProfile, classes: Array, delta: Array, conf: Array) -> None:
    """Step 6 in place: second-index bonus, haze penalty, NDMI required under haze."""
    if not classes.any():
        return
    agree = second_index_agrees(p.bands_before, p.bands_after, classes, prof)
    if p.hazy.any() and prof.has_swir:
        drop = p.hazy & (classes == 1) & ~agree
        classes[drop] = 0
        delta[drop] = 0
        conf[drop] = 0
    conf[agree & (classes > 0)] += np.float32(AGREE_BONUS)
    haze_hit = p.hazy & (classes > 0)
    conf[haze_hit] *= np.float32(HAZE_CONFIDENCE)


# ----------------------------------------------------------------------------- entry points
def classify(
    win: WindowInput, params: WindowParams, thresholds: Thresholds, *, use_numba: bool | None = None
) -> tuple[Array, Array, Array, Array, Array]:
    """All steps: (classes, delta, confidence, valid, hazy)."""
    if use_numba is None:
        use_numba = _fast.HAVE_NUMBA
    p = prepare(win, params)
    prof = params.profile
    if use_numba:
        consts, th, (vb, va, cb, ca, wb, wa, bb, ba), passing, valid = _kernel_pass(p, win, params, thresholds)
        shape = valid.shape
        classes = np.zeros(shape, np.uint8)
        delta = np.zeros(shape, np.float32)
        conf = np.zeros(shape, np.float32)
        if p.hazy.any():  # no colour test under haze (``change.classify_window``)
            passing[p.hazy] &= 7
        if not np.isfinite(th[3]):
            passing &= 7
        _fast.rules_pass(
            vb,
            va,
            cb,
            ca,
            wb,
            wa,
            bb,
            ba,
            p.before,
            p.after,
            _visible_idx(prof),
            prof.has_swir,
            passing,
            valid,
            consts,
            th,
            classes,
            delta,
            conf,
        )
    else:
        valid = _valid(p, cloud_mask(p, win, params), params)
        classes, delta, conf = classify_window(p.bands_before, p.bands_after, valid, prof, thresholds, p.hazy)
    add_evidence(p, prof, classes, delta, conf)
    return classes, delta, conf, valid, p.hazy


def sample_histograms(win: WindowInput, params: WindowParams, *, use_numba: bool | None = None) -> tuple[dict, Array]:
    """Threshold sample: histograms of each rule's robust score, and ``valid``."""
    if use_numba is None:
        use_numba = _fast.HAVE_NUMBA
    p = prepare(win, params)
    prof = params.profile
    if not use_numba:
        valid = _valid(p, cloud_mask(p, win, params), params)
        return score_histograms(compute_scores(p.bands_before, p.bands_after, prof), valid, p.hazy), valid
    _c, _t, (vb, va, cb, ca, wb, wa, _bb, _ba), passing, valid = _kernel_pass(p, win, params, None)
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
        if prof.has_swir:
            a = p.bands_after
            sel &= ((a["blue"] + a["green"]) + a["red"]) / np.float32(3) >= np.float32(CONSTRUCTION_BRIGHT_AFTER)
        if prof.has_swir or prof.has_nir:
            sel &= ~(wb > WATER_SIGN_MARGIN)
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
        if has_colour_test(prof):
            sel = (passing & 8) > 0
            sel &= valid
            sel &= ~p.hazy
            k = np.zeros(valid.shape, np.float32)
            sb, sa = _visible_sums(p, prof)
            _fast_colour.colour_scores(sb, sa, sel, k)
            out[COLOUR] = np.histogram(k[sel], bins=HIST_BINS, range=HIST_RANGE)[0].astype(np.int64)
    return out, valid


def normalisation_sample(
    win: WindowInput, params: WindowParams, *, n: int = 8000, seed: int = 0
) -> tuple[dict[str, Array], dict[str, Array]]:
    """Up to ``n`` pixels of both dates (reflectance by role, not normalised) where both have
    data, neither product mask flags them and neither is a bright cloud: what IR-MAD fits on."""
    ok = win.has_data & ~flags(win)
    idx = np.flatnonzero(ok.ravel())
    if idx.size > n:
        idx = np.sort(np.random.default_rng([seed, *win.origin]).choice(idx, n, replace=False))
    roles = params.profile.reflectance_roles
    b = {r: win.before[i].ravel()[idx] for i, r in enumerate(roles)}
    a = {r: win.after[i].ravel()[idx] for i, r in enumerate(roles)}
    keep = ~(brightness_cloud(b["blue"], b["green"], b["red"]) | brightness_cloud(a["blue"], a["green"], a["red"]))
    return {r: v[keep] for r, v in b.items()}, {r: v[keep] for r, v in a.items()}
