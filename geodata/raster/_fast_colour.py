"""Numba kernels of the construction rule's colour test: 3x3 visible sums (pixel by pixel,
a row at a time, a whole tile), the chord between the two dates' colour directions, the naive
and robust scores (``change.colour_distance`` / ``colour_robust`` are the numpy references;
tests hold them to the same bits). ``_fast.rules_pass`` calls them per pixel and per row."""

from __future__ import annotations

import numpy as np

from ._numba import _KW, njit


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
