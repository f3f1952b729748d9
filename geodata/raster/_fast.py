"""Numba kernels for the per-pixel hot path of detection (optional: ``numba`` installed).

The kernels give exactly what the numpy path of ``window`` gives, in two passes over the
tile instead of ~100 numpy passes with their temporaries: ``pixel_pass`` computes per pixel
(from the reader's float32 reflectance) the brightness cloud and shadow tests, the six
indices and each rule's per-pixel ("naive") test; after the cloud dilation (numpy, on the
cloud bounding box) ``rules_pass`` does the 3x3 robust tests and the one-pixel regrow only
where a naive test passed (the construction rule's colour test takes its 3x3 visible sums,
``_sum3``, at the pixels it tests); ``scale_band`` turns a band's raw numbers into
reflectance as it is read. All arithmetic is float32 in the same order as numpy, constants
are passed as float32 (numpy's weak Python scalars), NaN propagates through the 3x3 min/max
as with ``np.minimum``; kernels release the GIL. The hot loops are branch-free where they
can be, so that LLVM vectorises them (AVX2: 8 pixels at a time).
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
def _col3(x, b, r, c, H):
    """Sum of band ``b`` over rows r-1..r+1 (those inside) at column ``c``: centre, before, after."""
    if 0 < r < H - 1:
        return x[b, r, c] + x[b, r - 1, c] + x[b, r + 1, c]
    if r > 0:
        return x[b, r, c] + x[b, r - 1, c]
    if r < H - 1:
        return x[b, r, c] + x[b, r + 1, c]
    return x[b, r, c]


@njit(inline="always", **_KW)
def _sum3(x, b, r, c, H, W):
    """3x3 sum of band ``b`` of ``x`` (bands, rows, cols) at (r, c) over the neighbours inside
    the array, rows first, in ``morph.sum3``'s order (centre, then before, then after): the
    colour test's input, computed where it is asked for (about a quarter of a tile's pixels)
    rather than for the whole tile."""
    if W == 1:
        return _col3(x, b, r, 0, H)
    if c == 0:
        return _col3(x, b, r, 0, H) + _col3(x, b, r, 1, H)
    if c == W - 1:
        return _col3(x, b, r, W - 1, H) + _col3(x, b, r, W - 2, H)
    return _col3(x, b, r, c, H) + _col3(x, b, r, c - 1, H) + _col3(x, b, r, c + 1, H)


@njit(**_KW)
def sum3_at(x, b, r, c):
    """``_sum3`` on its own (tests hold it to ``morph.sum3`` bit for bit)."""
    return _sum3(x, b, r, c, x.shape[1], x.shape[2])


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
def _vis(x, b, r, c, H, W, summed):
    """The 3x3 visible sum of band ``b`` at (r, c): read from ``x`` when it holds the sums
    already (``summed``, ``box_sums3``), else added up here (``_sum3``)."""
    if summed:
        return x[b, r, c]
    return _sum3(x, b, r, c, H, W)


@njit(inline="always", **_KW)
def _colour_naive(rb, ra, vis, r, c, H, W, summed):
    """``change.colour_distance`` of the 3x3 visible sums at (r, c); ``vis``: band positions of
    (blue, green, red)."""
    return _chord(
        _vis(rb, vis[0], r, c, H, W, summed),
        _vis(rb, vis[1], r, c, H, W, summed),
        _vis(rb, vis[2], r, c, H, W, summed),
        _vis(ra, vis[0], r, c, H, W, summed),
        _vis(ra, vis[1], r, c, H, W, summed),
        _vis(ra, vis[2], r, c, H, W, summed),
    )


@njit(inline="always", **_KW)
def _colour_robust(rb, ra, vis, r, c, H, W, summed):
    """``change.colour_robust`` at (r, c): min over the 3x3 before neighbours, nearest edges,
    NaN if any distance is NaN."""
    a0 = _vis(ra, vis[0], r, c, H, W, summed)
    a1 = _vis(ra, vis[1], r, c, H, W, summed)
    a2 = _vis(ra, vis[2], r, c, H, W, summed)
    mn = np.float32(np.inf)
    nan = False
    for rr in (max(r - 1, 0), r, min(r + 1, H - 1)):
        for cc in (max(c - 1, 0), c, min(c + 1, W - 1)):
            b0 = _vis(rb, vis[0], rr, cc, H, W, summed)
            b1 = _vis(rb, vis[1], rr, cc, H, W, summed)
            b2 = _vis(rb, vis[2], rr, cc, H, W, summed)
            d = _chord(b0, b1, b2, a0, a1, a2)
            nan |= d != d
            mn = min(mn, d)
    if nan:
        return np.float32(np.nan)
    return mn


@njit(inline="always", **_KW)
def _row_sums3(x, b, r, H, W, col, out):
    """out[c] = ``_sum3(x, b, r, c)`` for the whole row ``r``, in its order (column sums first,
    centre, before, after), with the edges as their own cases so that the loops vectorise."""
    if 0 < r < H - 1:
        for c in range(W):
            col[c] = x[b, r, c] + x[b, r - 1, c] + x[b, r + 1, c]
    elif r > 0:
        for c in range(W):
            col[c] = x[b, r, c] + x[b, r - 1, c]
    elif r < H - 1:
        for c in range(W):
            col[c] = x[b, r, c] + x[b, r + 1, c]
    else:
        for c in range(W):
            col[c] = x[b, r, c]
    if W == 1:
        out[0] = col[0]
        return
    out[0] = col[0] + col[1]
    for c in range(1, W - 1):
        out[c] = col[c] + col[c - 1] + col[c + 1]
    out[W - 1] = col[W - 1] + col[W - 2]


@njit(inline="always", **_KW)
def _colour_naive_row(rb, ra, vis, r, H, W, col, sums, out):
    """out[c] = ``_colour_naive`` at (r, c) for the whole row: the six visible sums of the row
    (``_row_sums3``), then the chords in one branch-free loop. About a quarter of a tile's
    pixels take the colour test; a vectorised row costs less than those pixels one by one."""
    for k in range(3):
        _row_sums3(rb, vis[k], r, H, W, col, sums[k])
        _row_sums3(ra, vis[k], r, H, W, col, sums[3 + k])
    for c in range(W):
        out[c] = _chord(sums[0, c], sums[1, c], sums[2, c], sums[3, c], sums[4, c], sums[5, c])


@njit(**_KW)
def colour_naive_rows(rb, ra, vis):
    """(``_colour_naive`` pixel by pixel, ``_colour_naive_row`` row by row) over the whole
    array: tests hold the two to the same bits."""
    H = rb.shape[1]
    W = rb.shape[2]
    one = np.empty((H, W), np.float32)
    rows = np.empty((H, W), np.float32)
    col = np.empty(W, np.float32)
    sums = np.empty((6, W), np.float32)
    for r in range(H):
        for c in range(W):
            one[r, c] = _colour_naive(rb, ra, vis, r, c, H, W, False)
        _colour_naive_row(rb, ra, vis, r, H, W, col, sums, rows[r])
    return one, rows


@njit(**_KW)
def box_sums3(x, idx, out):
    """out[k] = 3x3 sum of band ``idx[k]`` of ``x`` (bands, rows, cols): ``_sum3`` at every
    pixel, for the threshold sample, which scores most pixels of a tile.
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


@njit(**_KW)
def colour_scores(sb, sa, mask, out):
    """out[r, c] = the robust colour score where ``mask`` (the threshold sample's histogram),
    on the 3x3 sums ``sb``/``sa`` (``box_sums3``: blue, green, red)."""
    H = sb.shape[1]
    W = sb.shape[2]
    vis = np.arange(3)
    for r in range(H):
        for c in range(W):
            if mask[r, c]:
                out[r, c] = _colour_robust(sb, sa, vis, r, c, H, W, True)


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
def all_finite(stack, out):
    """out[r, c] = every band of ``stack`` (bands, rows, cols) is finite at (r, c): numpy's
    ``isfinite(stack).all(axis=0)`` in one pass, row by row."""
    for r in range(stack.shape[1]):
        for c in range(stack.shape[2]):
            out[r, c] = np.isfinite(stack[0, r, c])
        for b in range(1, stack.shape[0]):
            for c in range(stack.shape[2]):
                out[r, c] &= np.isfinite(stack[b, r, c])


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
