"""Change rules (vegetation loss, construction, water change) and automatic thresholds.

Misregistration (dates off by up to 1 pixel) is handled by comparing each pixel of one date
with the min/max over the 3x3 neighbourhood of the *before* date: a "drop" must be larger
than the drop from the *lowest* before neighbour, a "rise" larger than the rise over the
*highest* before neighbour. Along an edge shifted by one pixel, the after value equals one of
the before neighbours, so the robust score is <= 0 and the edge is not flagged. Pixels that
pass this strict test are "core" pixels; a change region is then regrown by one pixel into
neighbours passing the plain per-pixel test (hysteresis), so true changes keep their full
extent while isolated edge slivers (no core next to them) are never grown.

Thresholds come from the scene: each rule's robust score is histogrammed over a sample of
the pair (after radiometric normalisation); the bulk of that distribution is stable land, so
its median and its spread (interquartile range / 1.349, a robust sigma) describe no change.
A change must stand out: T = max(floor + max(median, 0), median + Z * sigma), a z-score test
that also keeps the rule's fixed floor (a season shift the normalisation left moves the
median, and the floor with it).

Confidence per pixel (before the second-index and haze terms of ``window``): 0.25 on a
regrown pixel and 0.25 + 0.25*clip((s - T)/T, 0, 1) on a core pixel (s = robust score), so
one index alone never exceeds 0.5, "low"; a second index agreeing adds ``AGREE_BONUS``.

Construction on land that was already bare (sensors with NIR): a roof, a slab or a yard built
on bare soil need not be brighter than the soil, nor lower its NDVI (a red tile roof has about
the soil's brightness and NDVI), so neither construction index sees it; what changes is the
*colour* of the surface. The colour test measures it as the distance between the unit B-G-R
vectors of the two dates (the chord, ~ the spectral angle in radians): blind to a uniform
brightening or darkening (soil moisture, illumination), which moves a pixel along its own
vector, and to the NIR, where crop phenology and moisture act. It runs on pixels not
vegetated on either date, not greening (NDVI rises by less than the vegetation-loss floor),
not water on either date, bright enough for a colour to mean anything
(``COLOUR_MIN_BRIGHTNESS``) and not under haze (whose bluish path radiance is a colour change
of its own). Per pixel at 4 m the sensor noise is about as large as a tile
roof's colour change, so both dates are first summed over 3x3 (noise / 3); the robust score
is the smallest distance from the after pixel to the sums around each before neighbour, so a
one-pixel misregistration does not make an edge look recoloured. Its threshold comes from the
scene like the others (z-score over the candidates, floor ``COLOUR_FLOOR``); without a sample
histogram the test is off, as a colour threshold without the scene's noise means nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import morph
from .constants import (
    CLASS_CONSTRUCTION,
    CLASS_VEGETATION_LOSS,
    CLASS_WATER_CHANGE,
    COLOUR_FLOOR,
    COLOUR_MIN_BRIGHTNESS,
    CONSTRUCTION_BRIGHT_AFTER,
    CONSTRUCTION_BRIGHT_FLOOR,
    CONSTRUCTION_NDBI_FLOOR,
    CONSTRUCTION_NDVI_AFTER_MAX,
    NDVI_VEGETATED,
    VEG_LOSS_FLOOR,
    WATER_FLOOR,
    WATER_SIGN_MARGIN,
    SensorProfile,
)
from .indices import brightness, exg, normalized_difference
from .types import Thresholds

Array = np.ndarray
RULES = ("vegetation_loss", "construction", "water_change")
#: The construction rule's colour test (sensors with NIR): a score with its own threshold.
COLOUR = "construction_colour"
VISIBLE = ("blue", "green", "red")
HIST_RANGE = (-1.0, 2.0)
HIST_BINS = 750

# Drone RGB has no NIR: vegetation is ExG on reflectance (different scale from NDVI).
EXG_VEGETATED = 0.10
EXG_LOSS_FLOOR = 0.08
#: How far (in robust sigmas of the scene's stable pixels) a change must stand out.
Z_SCORE = 5.0
#: Confidence added where a second, independent index agrees (see ``window``).
AGREE_BONUS = 0.35


def floors(prof: SensorProfile) -> dict[str, float]:
    return {
        "vegetation_loss": VEG_LOSS_FLOOR if prof.has_nir else EXG_LOSS_FLOOR,
        "construction": CONSTRUCTION_NDBI_FLOOR if prof.has_swir else CONSTRUCTION_BRIGHT_FLOOR,
        "water_change": WATER_FLOOR,
        COLOUR: COLOUR_FLOOR,
    }


def has_colour_test(prof: SensorProfile) -> bool:
    """The colour test needs the visible bands and the NIR (for "not vegetated", "not water")."""
    return prof.has_nir and all(r in prof.bands for r in VISIBLE)


def rule_indices(prof: SensorProfile) -> dict[str, str | None]:
    """Index each rule is evaluated on, for this sensor."""
    return {
        "vegetation_loss": "ndvi" if prof.has_nir else "exg",
        "construction": "ndbi" if prof.has_swir else "brightness",
        "water_change": ("mndwi" if prof.has_swir else "ndwi") if prof.has_nir or prof.has_swir else None,
    }


def robust_stats_from_histogram(hist: Array, edges: Array) -> tuple[float, float]:
    """(median, robust sigma = IQR / 1.349) of a histogram, linear within bins; (nan, nan)
    when it is empty."""
    h = np.asarray(hist, dtype=np.float64)
    total = h.sum()
    if total <= 0:
        return float("nan"), float("nan")
    cdf = np.concatenate([[0.0], np.cumsum(h)]) / total
    q25, q50, q75 = np.interp([0.25, 0.5, 0.75], cdf, edges)
    return float(q50), float((q75 - q25) / 1.349)


def scene_threshold(hist: Array | None, floor: float, edges: Array, z: float = Z_SCORE) -> tuple[float, float, float]:
    """(threshold, median, sigma) of one rule: max(floor + max(median, 0), median + z*sigma);
    the floor alone without a histogram."""
    if hist is None:
        return float(floor), float("nan"), float("nan")
    med, sigma = robust_stats_from_histogram(hist, edges)
    if not np.isfinite(med):
        return float(floor), med, sigma
    return float(max(floor + max(med, 0.0), med + z * sigma)), med, sigma


def max3(a: Array) -> Array:
    """3x3 maximum, nearest edges (see ``morph``)."""
    return morph.max3(a)


def min3(a: Array) -> Array:
    """3x3 minimum, nearest edges (see ``morph``)."""
    return morph.min3(a)


def visible_sums(bands: dict[str, Array]) -> list[Array]:
    """3x3 sums (``morph.sum3``) of the blue, green and red reflectance."""
    return [morph.sum3(bands[r]) for r in VISIBLE]


def colour_distance(b: Sequence[Array], a: Sequence[Array]) -> Array:
    """Distance between the unit (blue, green, red) vectors of ``b`` and ``a`` (the chord,
    2 sin(angle / 2)); NaN where either has no data or is zero."""
    nb = np.sqrt((b[0] * b[0] + b[1] * b[1]) + b[2] * b[2])
    na = np.sqrt((a[0] * a[0] + a[1] * a[1]) + a[2] * a[2])
    d0 = b[0] / nb - a[0] / na
    d1 = b[1] / nb - a[1] / na
    d2 = b[2] / nb - a[2] / na
    return np.sqrt((d0 * d0 + d1 * d1) + d2 * d2)


def _nearest_shift(x: Array, dr: int, dc: int) -> Array:
    """x[r + dr, c + dc] with the edge repeated beyond the array."""
    h, w = x.shape
    return np.pad(x, 1, mode="edge")[1 + dr : 1 + dr + h, 1 + dc : 1 + dc + w]


def colour_robust(sb: Sequence[Array], sa: Sequence[Array]) -> Array:
    """Smallest colour distance from the after sums to the before sums of the 3x3 neighbours
    (NaN if any is NaN)."""
    out = colour_distance(sb, sa)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr or dc:
                np.minimum(out, colour_distance([_nearest_shift(x, dr, dc) for x in sb], sa), out=out)
    return out


def colour_state(vb: Array, va: Array, wb: Array, wa: Array, bb: Array, ba: Array) -> Array:
    """Where the colour test applies: not vegetated on either date, not greening, not water on
    either date, bright enough on both (see the module docstring)."""
    s = vb < np.float32(NDVI_VEGETATED)
    s &= va < np.float32(NDVI_VEGETATED)
    s &= (va - vb) < np.float32(VEG_LOSS_FLOOR)
    s &= ~(wb > np.float32(WATER_SIGN_MARGIN))
    s &= ~(wa > np.float32(WATER_SIGN_MARGIN))
    s &= bb >= np.float32(COLOUR_MIN_BRIGHTNESS)
    s &= ba >= np.float32(COLOUR_MIN_BRIGHTNESS)
    return s


def _vegetation_index(bands: dict[str, Array], prof: SensorProfile) -> Array:
    """NDVI, or excess green without NIR."""
    if prof.has_nir:
        return normalized_difference(bands["nir"], bands["red"])
    return exg(bands["red"], bands["green"], bands["blue"])


def _vegetated(prof: SensorProfile) -> float:
    """The vegetation index above which a pixel was vegetated."""
    return NDVI_VEGETATED if prof.has_nir else EXG_VEGETATED


def _construction_index(bands: dict[str, Array], prof: SensorProfile) -> Array:
    """NDBI (SWIR, NIR), or the visible brightness without SWIR."""
    if prof.has_swir:
        return normalized_difference(bands["swir1"], bands["nir"])
    return brightness(bands["blue"], bands["green"], bands["red"])


def _water_index(bands: dict[str, Array], prof: SensorProfile) -> Array:
    """MNDWI (green, SWIR), or NDWI (green, NIR) without SWIR; sensors without NIR have none."""
    return normalized_difference(bands["green"], bands["swir1" if prof.has_swir else "nir"])


def _was_water(before: dict[str, Array], prof: SensorProfile) -> Array:
    """Clearly water on the before date (MNDWI, or NDWI without SWIR, above the margin)."""
    if not (prof.has_swir or prof.has_nir):
        return np.zeros(np.shape(before["green"]), bool)
    return _water_index(before, prof) > WATER_SIGN_MARGIN


def _built_after(after: dict[str, Array], prof: SensorProfile) -> Array | bool:
    """SWIR sensors: the after date is brighter in the visible than bare soil (a built surface;
    a cleared field with a rising NDBI is vegetation loss). Without SWIR the construction
    index is the brightness itself."""
    if not prof.has_swir:
        return True
    mean = ((after["blue"] + after["green"]) + after["red"]) / np.float32(3)
    return mean >= np.float32(CONSTRUCTION_BRIGHT_AFTER)


@dataclass
class RuleScores:
    """Per-rule arrays on one window (see module docstring)."""

    score: dict[str, Array]  # robust score, larger = stronger change
    candidate: dict[str, Array]  # pixel may be this change type (state conditions)
    naive: dict[str, Array]  # per-pixel score, used only to regrow by one pixel
    naive_candidate: dict[str, Array]
    delta: dict[str, Array]  # after - before of the rule's index
    hist_score: dict[str, Array] | None = None  # what Otsu sees (default: score on candidates)


def compute_scores(before: dict[str, Array], after: dict[str, Array], prof: SensorProfile) -> RuleScores:
    """Evaluate all rules. ``before``/``after`` map band role -> float32 reflectance."""
    score, cand, naive, ncand, delta, hist = {}, {}, {}, {}, {}, {}
    with np.errstate(invalid="ignore", divide="ignore"):
        vb, va = _vegetation_index(before, prof), _vegetation_index(after, prof)
        high = _vegetated(prof)
        mn_vb = min3(vb)
        score["vegetation_loss"] = mn_vb - va
        cand["vegetation_loss"] = mn_vb >= high
        naive["vegetation_loss"] = vb - va
        ncand["vegetation_loss"] = vb >= high
        delta["vegetation_loss"] = va - vb

        # Construction: NDBI up, NDVI down and bright after (SWIR); else visible brightness up,
        # NDVI (ExG) down and low after; never on what was water (filled water is the water
        # rule's, and the indices of dark water are mostly noise).
        was_water = _was_water(before, prof)
        cb, ca = _construction_index(before, prof), _construction_index(after, prof)
        score["construction"] = ca - max3(cb)
        veg_after_max = CONSTRUCTION_NDVI_AFTER_MAX if prof.has_nir else EXG_VEGETATED
        c_state = (va < vb) & (va < veg_after_max) & ~was_water & _built_after(after, prof)
        cand["construction"] = c_state
        naive["construction"] = ca - cb
        ncand["construction"] = c_state
        delta["construction"] = ca - cb
        if has_colour_test(prof):
            wb, wa = _water_index(before, prof), _water_index(after, prof)
            bb = brightness(before["blue"], before["green"], before["red"])
            ba = brightness(after["blue"], after["green"], after["red"])
            k_state = colour_state(vb, va, wb, wa, bb, ba)
            sb, sa = visible_sums(before), visible_sums(after)
            score[COLOUR] = colour_robust(sb, sa)
            cand[COLOUR] = k_state
            naive[COLOUR] = colour_distance(sb, sa)
            ncand[COLOUR] = k_state
            delta[COLOUR] = ca - cb
            del sb, sa, bb, ba
        del cb, ca

        # Water: MNDWI (or NDWI without SWIR) changes sign, clearly on each side of 0.
        if prof.has_swir or prof.has_nir:
            wb, wa = _water_index(before, prof), _water_index(after, prof)
            m = WATER_SIGN_MARGIN
            mx, mn = max3(wb), min3(wb)
            appear = (wa > m) & (mx < -m)
            vanish = (mn > m) & (wa < -m)
            s = np.where(appear, wa - mx, np.where(vanish, mn - wa, np.float32(-9)))
            score["water_change"] = s.astype(np.float32, copy=False)
            cand["water_change"] = appear | vanish
            d = wa - wb
            naive["water_change"] = np.abs(d)
            ncand["water_change"] = ((wa > m) & (wb < -m)) | ((wb > m) & (wa < -m))
            delta["water_change"] = d
            # Sign-change candidates are nearly all real changes, so Otsu would split the change
            # mode itself: it sees the robust |change| over all valid pixels instead.
            hist["water_change"] = np.maximum(wa - mx, mn - wa)
    return RuleScores(score, cand, naive, ncand, delta, hist)


def score_histograms(scores: RuleScores, valid: Array, hazy: Array | None = None) -> dict[str, Array]:
    """Histograms (HIST_BINS over HIST_RANGE) of each rule's robust score on candidates (the
    colour test's not under ``hazy``, where it does not run)."""
    out = {}
    for rule, s in scores.score.items():
        if scores.hist_score and rule in scores.hist_score:
            s, sel = scores.hist_score[rule], valid
        else:
            sel = scores.candidate[rule] & valid
            if rule == COLOUR and hazy is not None:
                sel &= ~hazy
        h, _ = np.histogram(s[sel], bins=HIST_BINS, range=HIST_RANGE)
        out[rule] = h.astype(np.int64)
    return out


def thresholds_from_histograms(
    hists: dict[str, Array], prof: SensorProfile, fixed: dict[str, float] | None = None, *, z: float = Z_SCORE
) -> Thresholds:
    """Per rule: the fixed value if given, else the scene threshold (``scene_threshold``); the
    colour test's always from the scene (off without its histogram)."""
    fixed = dict(fixed or {})
    fl = floors(prof)
    edges = np.linspace(*HIST_RANGE, HIST_BINS + 1)
    vals, auto, stats = {}, [], {}
    for rule in RULES:
        if rule in fixed and fixed[rule] is not None:
            vals[rule] = float(fixed[rule])
        else:
            vals[rule], med, sigma = scene_threshold(hists.get(rule), fl[rule], edges, z)
            auto.append(rule)
            if np.isfinite(med):
                stats[rule] = (round(med, 4), round(sigma, 4))
    colour = math.inf  # off without the scene's noise (see the module docstring)
    if has_colour_test(prof) and hists.get(COLOUR) is not None:
        colour, med, sigma = scene_threshold(hists[COLOUR], fl[COLOUR], edges, z)
        if np.isfinite(med):
            auto.append(COLOUR)
            stats[COLOUR] = (round(med, 4), round(sigma, 4))
        else:
            colour = math.inf
    idx = rule_indices(prof)
    return Thresholds(
        vegetation_loss=vals["vegetation_loss"],
        construction=vals["construction"],
        water_change=vals["water_change"],
        construction_colour=colour,
        auto=tuple(auto),
        construction_index=idx["construction"] or "",
        water_index=idx["water_change"] or "",
        stable=stats,
    )


def _paint(
    classes: Array,
    delta: Array,
    conf: Array,
    cls: int,
    core: Array,
    passing: Array,
    margin: Array,
    after_index: Array,
    before_index: Array,
) -> None:
    """Write one rule's result: final = passing pixels next to (or in) a core pixel; core pixels
    get 0.25 + 0.25*margin confidence (margin = (score - T) / T, clipped to 0..1), regrown
    ones 0.25."""
    final = morph.dilate3(core)
    final &= passing
    classes[final] = cls
    delta[final] = after_index[final] - before_index[final]
    conf[final] = 0.25
    conf[core] = 0.25 + 0.25 * np.clip(margin[core], 0.0, 1.0)


def _margin(score: Array, t: np.float32) -> Array:
    return (score - t) / max(float(t), 1e-6)


def classify_window(
    before: dict[str, Array],
    after: dict[str, Array],
    valid: Array,
    prof: SensorProfile,
    thresholds: Thresholds,
    hazy: Array | None = None,
) -> tuple[Array, Array, Array]:
    """Class raster (uint8, 0 = no change), per-pixel delta of the class's index and per-pixel
    confidence; priority when rules overlap: water > construction > vegetation (and within
    construction, the brightness / NDBI test over the colour test). The numpy reference of the
    numba kernels.

    Each rule's per-pixel ("naive") test is a necessary condition of its robust 3x3 test (the
    3x3 min/max of the before index is never on the change side of the pixel's own value), and
    regrowing only adds naive-passing pixels. So the naive test runs first on whole arrays, and
    the neighbourhood work (3x3 min/max, regrow) only for rules with passing pixels, with the
    per-class outputs written on the passing pixels only.

    ``hazy``: pixels under haze on either date, where the colour test does not run (haze
    adds a bluish path radiance, a colour change of its own that the haze correction leaves
    in part)."""
    shape = valid.shape
    classes = np.zeros(shape, dtype=np.uint8)
    delta = np.zeros(shape, dtype=np.float32)
    conf = np.zeros(shape, dtype=np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        vb, va = _vegetation_index(before, prof), _vegetation_index(after, prof)
        high = _vegetated(prof)

        # vegetation loss: core = min3(vb) >= high & min3(vb) - va > t; naive = vb >= high & vb - va > t
        t = np.float32(thresholds.vegetation_loss)
        passing = vb - va
        passing = passing > t
        passing &= vb >= high
        passing &= valid
        if passing.any():
            mn = min3(vb)
            s = mn - va
            core = mn >= high
            core &= s > t
            core &= passing
            del mn
            if core.any():
                _paint(classes, delta, conf, CLASS_VEGETATION_LOSS, core, passing, _margin(s, t), va, vb)
            del s, core

        # construction: state = NDVI falls and is low after; score = ca - max3(cb)
        cb, ca = _construction_index(before, prof), _construction_index(after, prof)
        t = np.float32(thresholds.construction)
        veg_after_max = CONSTRUCTION_NDVI_AFTER_MAX if prof.has_nir else EXG_VEGETATED
        passing = ca - cb
        passing = passing > t
        if prof.has_swir:  # or the visible brightness rises: roofs on bare soil lower NDBI
            bb = brightness(before["blue"], before["green"], before["red"])
            ba = brightness(after["blue"], after["green"], after["red"])
            tb = np.float32(CONSTRUCTION_BRIGHT_FLOOR)
            passing |= (ba - bb) > tb
        passing &= va < vb
        passing &= va < veg_after_max
        passing &= ~_was_water(before, prof)
        passing &= _built_after(after, prof)
        passing &= valid
        tk = np.float32(thresholds.construction_colour)
        if has_colour_test(prof) and np.isfinite(tk):
            # colour test (module docstring), painted first: where both tests pass, the
            # brightness / NDBI test's confidence stands
            kpass = colour_state(
                vb,
                va,
                _water_index(before, prof),
                _water_index(after, prof),
                brightness(before["blue"], before["green"], before["red"]),
                brightness(after["blue"], after["green"], after["red"]),
            )
            kpass &= valid
            if hazy is not None:
                kpass &= ~hazy
            if kpass.any():
                sb, sa = visible_sums(before), visible_sums(after)
                kpass &= colour_distance(sb, sa) > tk
                if kpass.any():
                    s = colour_robust(sb, sa)
                    core = s > tk
                    core &= kpass
                    if core.any():
                        _paint(classes, delta, conf, CLASS_CONSTRUCTION, core, kpass, _margin(s, tk), ca, cb)
                    del s, core
                del sb, sa
            del kpass
        if passing.any():
            s = max3(cb)
            np.subtract(ca, s, out=s)
            core = s > t
            margin = _margin(s, t)
            if prof.has_swir:
                sb = ba - max3(bb)
                core |= sb > tb
                np.maximum(margin, (sb - tb) / tb, out=margin)
            core &= passing
            if core.any():
                _paint(classes, delta, conf, CLASS_CONSTRUCTION, core, passing, margin, ca, cb)
            del s, core, margin
        del cb, ca, vb, va

        if prof.has_swir or prof.has_nir:
            wb, wa = _water_index(before, prof), _water_index(after, prof)
            m = WATER_SIGN_MARGIN
            t = np.float32(thresholds.water_change)
            passing = (wa > m) & (wb < -m)
            passing |= (wb > m) & (wa < -m)
            passing &= np.abs(wa - wb) > t
            passing &= valid
            if passing.any():
                mx, mn = max3(wb), min3(wb)
                appear = (wa > m) & (mx < -m)
                vanish = (mn > m) & (wa < -m)
                s = np.where(appear, wa - mx, np.where(vanish, mn - wa, np.float32(-9))).astype(np.float32, copy=False)
                core = appear | vanish
                core &= s > t
                core &= passing
                del mx, mn, appear, vanish
                if core.any():
                    _paint(classes, delta, conf, CLASS_WATER_CHANGE, core, passing, _margin(s, t), wa, wb)
    return classes, delta, conf
