"""Numba kernels for the per-pixel hot path of detection (optional: ``numba`` installed).

The kernels give exactly what the numpy path of ``window`` gives, in two passes over the
tile instead of ~100 numpy passes with their temporaries: ``pixel_pass`` computes per pixel
(from the reader's float32 reflectance) the brightness cloud and shadow tests, the six
indices and each rule's per-pixel ("naive") test; after the cloud dilation (numpy, on the
cloud bounding box) ``rules_pass`` does the 3x3 robust tests and the one-pixel regrow only
where a naive test passed (``box_sums3`` gives it the 3x3 visible sums of the construction
rule's colour test). All arithmetic is float32 in the same
order as numpy, constants are passed as float32 (numpy's weak Python scalars), NaN propagates
through the 3x3 min/max as with ``np.minimum``; kernels release the GIL.
"""

from __future__ import annotations

import math

import numpy as np

try:  # pragma: no cover - exercised when numba is installed
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    HAVE_NUMBA = False

    def njit(*args, **kwargs):  # type: ignore[no-redef]
        def wrap(fn):
            return fn

        return wrap


F32 = np.float32
_KW = dict(cache=True, nogil=True, error_model="numpy")


@njit(inline="always", **_KW)
def _nd(a, b, eps):
    num = a - b
    den = a + b
    q = num / den
    bad = (abs(den) <= eps) | (not math.isfinite(q))
    return np.float32(np.nan) if bad else q


@njit(inline="always", **_KW)
def _shadow(t0, t1, t2, t3, t4, o0, o1, o2, o3, o4, present, stotal, sfloor, sratio, sspread):
    """shadow_by_darkening for one pixel: ``t*`` this date, ``o*`` other date, roles in order
    (blue, green, red, nir, swir1), ``present`` flags which exist."""
    p0, p1, p2, p3, p4 = present
    total = np.float32(0)
    first = True
    if p0:
        total = t0
        first = False
    if p1:
        total = t1 if first else total + t1
        first = False
    if p2:
        total = t2 if first else total + t2
        first = False
    if p3:
        total = t3 if first else total + t3
        first = False
    if p4:
        total = t4 if first else total + t4
    if not (total < stotal):
        return False
    lo = np.float32(np.inf)
    hi = np.float32(-np.inf)
    nan = False
    if p0:
        q = t0 / max(o0, sfloor)
        nan |= (o0 != o0) | (q != q)
        lo = min(lo, q)
        hi = max(hi, q)
    if p1:
        q = t1 / max(o1, sfloor)
        nan |= (o1 != o1) | (q != q)
        lo = min(lo, q)
        hi = max(hi, q)
    if p2:
        q = t2 / max(o2, sfloor)
        nan |= (o2 != o2) | (q != q)
        lo = min(lo, q)
        hi = max(hi, q)
    if p3:
        q = t3 / max(o3, sfloor)
        nan |= (o3 != o3) | (q != q)
        lo = min(lo, q)
        hi = max(hi, q)
    if p4:
        q = t4 / max(o4, sfloor)
        nan |= (o4 != o4) | (q != q)
        lo = min(lo, q)
        hi = max(hi, q)
    return (not nan) and hi < sratio and hi < sspread * lo


@njit(inline="always", **_KW)
def _get(rb, ra, i, r, c, present):
    """Reflectance of band ``i`` at (r, c) on both dates (0 if the role is absent)."""
    if not present:
        return np.float32(0), np.float32(0)
    return rb[i, r, c], ra[i, r, c]


@njit(**_KW)
def pixel_pass(rb, ra, roles, cloud_test, colour, consts, th, cloud, vb, va, cb, ca, wb, wa, bb, ba, passing):
    """cloud (uint8): 1 bright cloud, 2 uniform darkening (shadow) on either date.
    rb/ra: float32 reflectance (bands, rows, cols); roles: band positions of (blue, green,
    red, nir, swir1), -1 if absent. consts (float32): eps, cloud_brightness, cloud_whiteness,
    shadow_ratio, shadow_spread, shadow_total_max (max_brightness * n), shadow_floor,
    ndvi_high, veg_after_max, water_margin, three (3.0), two (2.0), built_brightness (visible
    mean after a construction, SWIR sensors), brightness floor (the SWIR sensors' second
    construction test: visible brightness rises), colour minimum brightness, vegetation-loss
    floor. th: thresholds (veg, construction, water, colour) as float32. passing bits:
    1 vegetation_loss, 2 construction, 4 water_change (not yet ANDed with valid), 8 where the
    colour test applies (``colour``: its state only, the test itself is ``rules_pass``'s)."""
    H = rb.shape[1]
    W = rb.shape[2]
    present = (roles[0] >= 0, roles[1] >= 0, roles[2] >= 0, roles[3] >= 0, roles[4] >= 0)
    i0 = max(roles[0], 0)
    i1 = max(roles[1], 0)
    i2 = max(roles[2], 0)
    i3 = max(roles[3], 0)
    i4 = max(roles[4], 0)
    eps = consts[0]
    cbright = consts[1]
    cwhite = consts[2]
    sratio = consts[3]
    sspread = consts[4]
    stotal = consts[5]
    sfloor = consts[6]
    high = consts[7]
    vmax = consts[8]
    m = consts[9]
    three = consts[10]
    two = consts[11]
    bright_after = consts[12]
    tb = consts[13]
    kmin = consts[14]
    vfloor = consts[15]
    tv = th[0]
    tc = th[1]
    tw = th[2]
    has_nir = present[3]
    has_swir = present[4]
    for r in range(H):
        for c in range(W):
            b0, a0 = _get(rb, ra, i0, r, c, present[0])
            b1, a1 = _get(rb, ra, i1, r, c, present[1])
            b2, a2 = _get(rb, ra, i2, r, c, present[2])
            b3, a3 = _get(rb, ra, i3, r, c, present[3])
            b4, a4 = _get(rb, ra, i4, r, c, present[4])
            cl = False
            mean_b = ((b0 + b1) + b2) / three  # visible mean: cloud test and brightness index
            mean_a = ((a0 + a1) + a2) / three
            if cloud_test:
                if mean_b > cbright:
                    white = ((abs(b0 - mean_b) + abs(b1 - mean_b)) + abs(b2 - mean_b)) / three
                    cl |= white < cwhite * mean_b
                if mean_a > cbright:
                    white = ((abs(a0 - mean_a) + abs(a1 - mean_a)) + abs(a2 - mean_a)) / three
                    cl |= white < cwhite * mean_a
                dark = False
                if not cl:
                    dark = _shadow(a0, a1, a2, a3, a4, b0, b1, b2, b3, b4, present, stotal, sfloor, sratio, sspread)
                if not (cl or dark):
                    dark = _shadow(b0, b1, b2, b3, b4, a0, a1, a2, a3, a4, present, stotal, sfloor, sratio, sspread)
                cloud[r, c] = 1 if cl else (2 if dark else 0)
            else:
                cloud[r, c] = 0
            # indices
            if has_nir:
                v0 = _nd(b3, b2, eps)
                v1 = _nd(a3, a2, eps)
            else:
                v0 = (two * b1 - b2) - b0
                v1 = (two * a1 - a2) - a0
            if has_swir:
                c0 = _nd(b4, b3, eps)
                c1 = _nd(a4, a3, eps)
            else:
                c0 = mean_b
                c1 = mean_a
            vb[r, c] = v0
            va[r, c] = v1
            cb[r, c] = c0
            ca[r, c] = c1
            bits = 0
            if ((v0 - v1) > tv) & (v0 >= high):
                bits |= 1
            was_water = False
            w0 = np.float32(0)
            w1 = np.float32(0)
            if has_swir or has_nir:
                if has_swir:
                    w0 = _nd(b1, b4, eps)
                    w1 = _nd(a1, a4, eps)
                else:
                    w0 = _nd(b1, b3, eps)
                    w1 = _nd(a1, a3, eps)
                wb[r, c] = w0
                wa[r, c] = w1
                was_water = w0 > m
                if (((w1 > m) & (w0 < -m)) | ((w0 > m) & (w1 < -m))) & (abs(w1 - w0) > tw):
                    bits |= 4
            bb[r, c] = mean_b
            ba[r, c] = mean_a
            built = (not has_swir) or (mean_a >= bright_after)
            rise = ((c1 - c0) > tc) or (has_swir and ((mean_a - mean_b) > tb))
            if rise & (v1 < v0) & (v1 < vmax) & (not was_water) & built:
                bits |= 2
            if colour:
                if (
                    (v0 < high)
                    and (v1 < high)
                    and ((v1 - v0) < vfloor)
                    and (not (w0 > m))
                    and (not (w1 > m))
                    and (mean_b >= kmin)
                    and (mean_a >= kmin)
                ):
                    bits |= 8
            passing[r, c] = bits


@njit(**_KW)
def box_sums3(x, idx, out):
    """out[k] = 3x3 sum of band ``idx[k]`` of ``x`` (bands, rows, cols) over the neighbours
    inside the array, rows first, in ``morph.sum3``'s order (centre, then before, then after).
    The edges are their own loops so that the inner loops have no branch and vectorise."""
    H = x.shape[1]
    W = x.shape[2]
    tmp = np.empty((H, W), np.float32)
    for k in range(idx.shape[0]):
        b = idx[k]
        for r in range(H):
            if 0 < r < H - 1:
                for c in range(W):
                    tmp[r, c] = x[b, r, c] + x[b, r - 1, c] + x[b, r + 1, c]
            elif r > 0:
                for c in range(W):
                    tmp[r, c] = x[b, r, c] + x[b, r - 1, c]
            elif r < H - 1:
                for c in range(W):
                    tmp[r, c] = x[b, r, c] + x[b, r + 1, c]
            else:
                for c in range(W):
                    tmp[r, c] = x[b, r, c]
        for r in range(H):
            if W == 1:
                out[k, r, 0] = tmp[r, 0]
                continue
            out[k, r, 0] = tmp[r, 0] + tmp[r, 1]
            for c in range(1, W - 1):
                out[k, r, c] = tmp[r, c] + tmp[r, c - 1] + tmp[r, c + 1]
            out[k, r, W - 1] = tmp[r, W - 1] + tmp[r, W - 2]


@njit(inline="always", **_KW)
def _chord(b0, b1, b2, a0, a1, a2):
    """``change.colour_distance`` for one pair of (blue, green, red) vectors."""
    nb = np.sqrt((b0 * b0 + b1 * b1) + b2 * b2)
    na = np.sqrt((a0 * a0 + a1 * a1) + a2 * a2)
    d0 = b0 / nb - a0 / na
    d1 = b1 / nb - a1 / na
    d2 = b2 / nb - a2 / na
    return np.sqrt((d0 * d0 + d1 * d1) + d2 * d2)


@njit(inline="always", **_KW)
def _colour_naive(sb, sa, r, c):
    return _chord(sb[0, r, c], sb[1, r, c], sb[2, r, c], sa[0, r, c], sa[1, r, c], sa[2, r, c])


@njit(inline="always", **_KW)
def _colour_robust(sb, sa, r, c, H, W):
    """``change.colour_robust`` at (r, c): min over the 3x3 before neighbours, nearest edges,
    NaN if any distance is NaN."""
    a0 = sa[0, r, c]
    a1 = sa[1, r, c]
    a2 = sa[2, r, c]
    mn = np.float32(np.inf)
    nan = False
    for rr in (max(r - 1, 0), r, min(r + 1, H - 1)):
        for cc in (max(c - 1, 0), c, min(c + 1, W - 1)):
            d = _chord(sb[0, rr, cc], sb[1, rr, cc], sb[2, rr, cc], a0, a1, a2)
            nan |= d != d
            mn = min(mn, d)
    if nan:
        return np.float32(np.nan)
    return mn


@njit(**_KW)
def colour_scores(sb, sa, mask, out):
    """out[r, c] = the robust colour score where ``mask`` (the threshold sample's histogram)."""
    H = sb.shape[1]
    W = sb.shape[2]
    for r in range(H):
        for c in range(W):
            if mask[r, c]:
                out[r, c] = _colour_robust(sb, sa, r, c, H, W)


@njit(inline="always", **_KW)
def _min_max3(a, r, c, H, W):
    """3x3 (min, max) at (r, c), nearest edges, NaN if any neighbour is NaN (branch-free)."""
    r0 = max(r - 1, 0)
    r2 = min(r + 1, H - 1)
    c0 = max(c - 1, 0)
    c2 = min(c + 1, W - 1)
    mn = a[r, c]
    mx = mn
    nan = False
    for rr in (r0, r, r2):
        for cc in (c0, c, c2):
            v = a[rr, cc]
            nan |= v != v
            mn = min(mn, v)
            mx = max(mx, v)
    if nan:
        return np.float32(np.nan), np.float32(np.nan)
    return mn, mx


@njit(inline="always", **_KW)
def _score(rule, r, c, vb, va, cb, ca, wb, wa, bb, ba, sb, sa, H, W, high, m, t, tt, tb, has_swir):
    """(is_core, margin = (score - T) / T) of ``rule`` (0 veg, 1 construction, 2 water,
    3 construction's colour test) at (r, c); construction on SWIR sensors also passes on the
    brightness rise (its own margin)."""
    if rule == 3:
        s = _colour_robust(sb, sa, r, c, H, W)
        return s > t, (s - t) / tt
    if rule == 0:
        mn, mx = _min_max3(vb, r, c, H, W)
        s = mn - va[r, c]
        return (mn >= high) and (s > t), (s - t) / tt
    if rule == 1:
        mn, mx = _min_max3(cb, r, c, H, W)
        s = ca[r, c] - mx
        ok = s > t
        x = (s - t) / tt
        if has_swir:
            mn, mx = _min_max3(bb, r, c, H, W)
            sb = ba[r, c] - mx
            ok = ok or (sb > tb)
            x = max(x, (sb - tb) / tb)
        return ok, x
    mn, mx = _min_max3(wb, r, c, H, W)
    w1 = wa[r, c]
    appear = (w1 > m) and (mx < -m)
    vanish = (mn > m) and (w1 < -m)
    if appear:
        s = w1 - mx
    elif vanish:
        s = mn - w1
    else:
        s = np.float32(-9)
    return (appear or vanish) and (s > t), (s - t) / tt


@njit(**_KW)
def rules_pass(vb, va, cb, ca, wb, wa, bb, ba, sb, sa, has_swir, passing, valid, consts, th, classes, delta, conf):
    """Robust 3x3 tests where a naive test passed (and the pixel is valid), then the regrow and
    the class/delta/confidence rasters; rule order vegetation < colour < construction < water
    (later ones win a pixel). The colour test's naive test runs here first (bit 8 is its state
    only), on the 3x3 visible sums ``sb``/``sa`` (``box_sums3``).
    Confidence: 0.25 + 0.25 * margin on core pixels, 0.25 on regrown ones (``change``)."""
    H = vb.shape[0]
    W = vb.shape[1]
    high = consts[7]
    m = consts[9]
    tb = consts[13]
    quarter = np.float32(0.25)
    core = np.zeros((H, W), np.uint8)
    # each core pixel's margin per rule, kept from the robust test for its confidence
    margin = np.empty((4, H, W), np.float32)
    any_pass = False
    for r in range(H):
        for c in range(W):
            p = passing[r, c]
            if p == 0:
                continue
            if not valid[r, c]:
                passing[r, c] = 0
                continue
            if p & 8:
                if not (_colour_naive(sb, sa, r, c) > th[3]):
                    p &= 7
                    passing[r, c] = p
                    if p == 0:
                        continue
            any_pass = True
            bits = 0
            for rule in range(4):
                if p & (1 << rule):
                    ok, x = _score(
                        rule,
                        r,
                        c,
                        vb,
                        va,
                        cb,
                        ca,
                        wb,
                        wa,
                        bb,
                        ba,
                        sb,
                        sa,
                        H,
                        W,
                        high,
                        m,
                        th[rule],
                        th[4 + rule],
                        tb,
                        has_swir,
                    )
                    if ok:
                        bits |= 1 << rule
                        margin[rule, r, c] = x
            core[r, c] = bits
    if not any_pass:
        return
    for r in range(H):
        for c in range(W):
            p = passing[r, c]
            if p == 0:
                continue
            for rule in (0, 3, 1, 2):
                bit = 1 << rule
                if not (p & bit):
                    continue
                r0 = max(r - 1, 0)
                r2 = min(r + 1, H - 1)
                c0 = max(c - 1, 0)
                c2 = min(c + 1, W - 1)
                acc = 0
                for rr in (r0, r, r2):
                    for cc in (c0, c, c2):
                        acc |= core[rr, cc]
                near = (acc & bit) != 0
                if not near:
                    continue
                classes[r, c] = 2 if rule == 3 else rule + 1
                if rule == 0:
                    delta[r, c] = va[r, c] - vb[r, c]
                elif rule == 1 or rule == 3:
                    delta[r, c] = ca[r, c] - cb[r, c]
                else:
                    delta[r, c] = wa[r, c] - wb[r, c]
                if core[r, c] & bit:
                    x = margin[rule, r, c]
                    if x < 0:
                        x = np.float32(0)
                    elif x > 1:
                        x = np.float32(1)
                    conf[r, c] = quarter + quarter * x
                else:
                    conf[r, c] = quarter
