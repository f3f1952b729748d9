"""Numba kernels for the per-pixel hot path of detection (optional: ``numba`` installed).

The kernels give exactly what the numpy path of ``window`` gives, in two passes over the
tile instead of ~100 numpy passes with their temporaries: ``pixel_pass`` computes per pixel
(from the reader's float32 reflectance) the brightness cloud and shadow tests, the six
indices and each rule's per-pixel ("naive") test; after the cloud dilation (numpy, on the
cloud bounding box) ``rules_pass`` does the 3x3 robust tests and the one-pixel regrow only
where a naive test passed (the construction rule's colour test, ``_fast_colour``, scores a
row at a time and its robust test at the pixels it tests). ``_fast_arrays`` has the kernels
of the chores around them (scaling, label counts). All arithmetic is float32 in the same order as numpy, constants
are passed as float32 (numpy's weak Python scalars), NaN propagates through the 3x3 min/max
as with ``np.minimum``; kernels release the GIL. The hot loops are branch-free where they
can be, so that LLVM vectorises them (AVX2: 8 pixels at a time).
"""

from __future__ import annotations

import math

import numpy as np

from ._fast_colour import _colour_naive_row, _colour_robust
from ._numba import _KW, HAVE_NUMBA, njit

__all__ = ["HAVE_NUMBA", "pixel_pass", "rules_pass"]


@njit(inline="always", **_KW)
def _nd(a, b, eps):
    num = a - b
    den = a + b
    q = num / den
    bad = (abs(den) <= eps) | (not math.isfinite(q))
    return np.float32(np.nan) if bad else q


@njit(inline="always", **_KW)
def _ratio(t, o, sfloor, lo, hi, nan):
    q = t / max(o, sfloor)
    return min(lo, q), max(hi, q), nan | (o != o) | (q != q)


@njit(inline="always", **_KW)
def _shadow(t0, t1, t2, t3, t4, o0, o1, o2, o3, o4, p0, p1, p2, p3, p4, stotal, sfloor, sratio, sspread):
    """shadow_by_darkening for one pixel: ``t*`` this date, ``o*`` other date, roles in order
    (blue, green, red, nir, swir1), ``p*`` flag which exist. No early return: every pixel
    takes the same path, so that the loop calling it vectorises."""
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
    lo = np.float32(np.inf)
    hi = np.float32(-np.inf)
    nan = False
    if p0:
        lo, hi, nan = _ratio(t0, o0, sfloor, lo, hi, nan)
    if p1:
        lo, hi, nan = _ratio(t1, o1, sfloor, lo, hi, nan)
    if p2:
        lo, hi, nan = _ratio(t2, o2, sfloor, lo, hi, nan)
    if p3:
        lo, hi, nan = _ratio(t3, o3, sfloor, lo, hi, nan)
    if p4:
        lo, hi, nan = _ratio(t4, o4, sfloor, lo, hi, nan)
    return (total < stotal) & (not nan) & (hi < sratio) & (hi < sspread * lo)


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
    colour test applies (``colour``: its state only, the test itself is ``rules_pass``'s).
    The output arrays must be distinct (LLVM checks that they do not overlap before it runs
    the vector loop).

    Per row, two loops: the indices and the cloud test, branch-free so that LLVM vectorises
    it (the kernel is bound by memory traffic more than by arithmetic), then the rules' bits
    from the row just written, still in cache (with those bits in the first loop, it does not
    vectorise)."""
    H = rb.shape[1]
    W = rb.shape[2]
    p0 = roles[0] >= 0
    p1 = roles[1] >= 0
    p2 = roles[2] >= 0
    p3 = roles[3] >= 0
    p4 = roles[4] >= 0
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
    wet = p3 or p4
    zero = np.float32(0)
    test = np.int32(cloud_test)
    for r in range(H):
        for c in range(W):
            b0 = rb[i0, r, c] if p0 else zero
            a0 = ra[i0, r, c] if p0 else zero
            b1 = rb[i1, r, c] if p1 else zero
            a1 = ra[i1, r, c] if p1 else zero
            b2 = rb[i2, r, c] if p2 else zero
            a2 = ra[i2, r, c] if p2 else zero
            b3 = rb[i3, r, c] if p3 else zero
            a3 = ra[i3, r, c] if p3 else zero
            b4 = rb[i4, r, c] if p4 else zero
            a4 = ra[i4, r, c] if p4 else zero
            mean_b = ((b0 + b1) + b2) / three  # visible mean: cloud test and brightness index
            mean_a = ((a0 + a1) + a2) / three
            white_b = ((abs(b0 - mean_b) + abs(b1 - mean_b)) + abs(b2 - mean_b)) / three
            white_a = ((abs(a0 - mean_a) + abs(a1 - mean_a)) + abs(a2 - mean_a)) / three
            cl = ((mean_b > cbright) & (white_b < cwhite * mean_b)) | ((mean_a > cbright) & (white_a < cwhite * mean_a))
            dark = _shadow(
                a0, a1, a2, a3, a4, b0, b1, b2, b3, b4, p0, p1, p2, p3, p4, stotal, sfloor, sratio, sspread
            ) | _shadow(b0, b1, b2, b3, b4, a0, a1, a2, a3, a4, p0, p1, p2, p3, p4, stotal, sfloor, sratio, sspread)
            cli = np.int32(cl)
            cloud[r, c] = np.uint8((cli + np.int32(2) * (np.int32(dark) & (np.int32(1) - cli))) * test)
            vb[r, c] = _nd(b3, b2, eps) if p3 else (two * b1 - b2) - b0
            va[r, c] = _nd(a3, a2, eps) if p3 else (two * a1 - a2) - a0
            cb[r, c] = _nd(b4, b3, eps) if p4 else mean_b
            ca[r, c] = _nd(a4, a3, eps) if p4 else mean_a
            wb[r, c] = (_nd(b1, b4, eps) if p4 else _nd(b1, b3, eps)) if wet else zero
            wa[r, c] = (_nd(a1, a4, eps) if p4 else _nd(a1, a3, eps)) if wet else zero
            bb[r, c] = mean_b
            ba[r, c] = mean_a
        for c in range(W):
            v0 = vb[r, c]
            v1 = va[r, c]
            c0 = cb[r, c]
            c1 = ca[r, c]
            w0 = wb[r, c]
            w1 = wa[r, c]
            mean_b = bb[r, c]
            mean_a = ba[r, c]
            veg = ((v0 - v1) > tv) & (v0 >= high)
            was_water = wet & (w0 > m)
            water = wet & (((w1 > m) & (w0 < -m)) | ((w0 > m) & (w1 < -m))) & (abs(w1 - w0) > tw)
            built = (not p4) | (mean_a >= bright_after)
            rise = ((c1 - c0) > tc) | (p4 & ((mean_a - mean_b) > tb))
            con = rise & (v1 < v0) & (v1 < vmax) & (not was_water) & built
            col = (
                colour
                & (v0 < high)
                & (v1 < high)
                & ((v1 - v0) < vfloor)
                & (not (w0 > m))
                & (not (w1 > m))
                & (mean_b >= kmin)
                & (mean_a >= kmin)
            )
            bits = np.int32(veg) | (np.int32(con) << 1) | (np.int32(water) << 2) | (np.int32(col) << 3)
            passing[r, c] = np.uint8(bits)


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
def _score(rule, r, c, vb, va, cb, ca, wb, wa, bb, ba, rb, ra, vis, H, W, high, m, t, tt, tb, has_swir):
    """(is_core, margin = (score - T) / T) of ``rule`` (0 veg, 1 construction, 2 water,
    3 construction's colour test) at (r, c); construction on SWIR sensors also passes on the
    brightness rise (its own margin)."""
    if rule == 3:
        s = _colour_robust(rb, ra, vis, r, c, H, W, False)
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
def rules_pass(vb, va, cb, ca, wb, wa, bb, ba, rb, ra, vis, has_swir, passing, valid, consts, th, classes, delta, conf):
    """Robust 3x3 tests where a naive test passed (and the pixel is valid), then the regrow and
    the class/delta/confidence rasters; rule order vegetation < colour < construction < water
    (later ones win a pixel). The colour test's naive test runs here first (bit 8 is its state
    only), on the 3x3 visible sums of the reflectance ``rb``/``ra`` (``_sum3``; ``vis``: band
    positions of blue, green, red).
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
    col = np.empty(W, np.float32)
    sums = np.empty((6, W), np.float32)
    naive = np.empty(W, np.float32)
    any_pass = False
    for r in range(H):
        colour_row = False
        for c in range(W):
            colour_row |= (passing[r, c] & 8) != 0
        if colour_row:
            _colour_naive_row(rb, ra, vis, r, H, W, col, sums, naive)
        for c in range(W):
            p = passing[r, c]
            if p == 0:
                continue
            if not valid[r, c]:
                passing[r, c] = 0
                continue
            if p & 8:
                if not (naive[c] > th[3]):
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
                        rb,
                        ra,
                        vis,
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
