"""Relative radiometric normalisation of the after date onto the before date.

A season, a sensor or an illumination difference between two dates changes every pixel a
little; a land-cover change changes a few pixels a lot. Iteratively re-weighted MAD (IR-MAD,
Nielsen 2007; Canty & Nielsen 2008 for its use in normalisation) finds the pixels that did not
change: it takes the canonical correlates of the two multiband images, whose differences (the
MAD variates) are uncorrelated with known variances, so the sum of their standardised squares
is chi-square with one degree of freedom per band for unchanged pixels; each iteration weights
every pixel by its probability of no change and recomputes the correlates. The pixels with a
no-change probability above ``P_INVARIANT`` are the pseudo-invariant features; per band, an
orthogonal (major-axis) regression of before on after over them gives the gain and offset
that put the after date on the before date's radiometry.

Fitted once per scene pair on the threshold sample, applied per tile (a gain and an offset per
band: one pass).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg
from scipy.special import gammaincc

from . import _fast_arrays

Array = np.ndarray

P_INVARIANT = 0.9  # no-change probability of a pseudo-invariant pixel
MIN_FRACTION = 0.05  # ... or at least the most invariant 5 % of the sample
MIN_SAMPLE = 500  # fewer valid samples than this: keep the identity (nothing to fit on)
MAX_SAMPLE = 24000  # IR-MAD on more pixels than this gains nothing but time
GAIN_RANGE = (0.5, 2.0)  # a fitted gain outside this is not a radiometric difference


@dataclass(frozen=True)
class Normalisation:
    """after' = gain * after + offset, per band role."""

    roles: tuple[str, ...]
    gain: tuple[float, ...]
    offset: tuple[float, ...]
    n_invariant: int = 0
    n_sample: int = 0

    @classmethod
    def identity(cls, roles: tuple[str, ...]) -> Normalisation:
        return cls(tuple(roles), tuple(1.0 for _ in roles), tuple(0.0 for _ in roles))

    @property
    def is_identity(self) -> bool:
        return all(g == 1.0 for g in self.gain) and all(o == 0.0 for o in self.offset)

    def coefficients(self, role: str) -> tuple[float, float]:
        if role not in self.roles:
            return 1.0, 0.0
        i = self.roles.index(role)
        return self.gain[i], self.offset[i]

    def apply(self, after: dict[str, Array]) -> dict[str, Array]:
        """Normalise the float32 reflectance arrays of ``after`` in place (and return them)."""
        for role, band in after.items():
            g, o = self.coefficients(role)
            if _fast_arrays.HAVE_NUMBA and band.ndim == 2:
                _fast_arrays.gain_offset(band, np.float32(g), np.float32(o), g != 1.0, o != 0.0)
                continue
            if g != 1.0:
                band *= np.float32(g)
            if o != 0.0:
                band += np.float32(o)
        return after

    def describe(self) -> str:
        parts = [f"{r} {g:.3f}x{o:+.4f}" for r, g, o in zip(self.roles, self.gain, self.offset, strict=True)]
        return f"radiometric normalisation on {self.n_invariant} of {self.n_sample} sampled pixels: " + ", ".join(parts)


def irmad(x: Array, y: Array, *, iterations: int = 15, tol: float = 1e-4) -> tuple[Array, Array]:
    """IR-MAD of ``x`` (before) and ``y`` (after), both (n pixels, k bands) float64.

    Returns (no-change probability per pixel, canonical correlations ascending)."""
    n, k = x.shape
    w = np.ones(n)
    rho = np.zeros(k)
    prob = np.ones(n)
    for _ in range(iterations):
        sw = w.sum()
        if sw <= k + 1:
            break
        mx = (w @ x) / sw
        my = (w @ y) / sw
        xc = x - mx
        yc = y - my
        wx = xc * w[:, None]
        sxx = wx.T @ xc / sw
        syy = (yc * w[:, None]).T @ yc / sw
        sxy = wx.T @ yc / sw
        try:
            # generalised eigenproblem Sxy Syy^-1 Syx a = rho^2 Sxx a
            c = sxy @ linalg.solve(syy, sxy.T, assume_a="pos")
            lam, a = linalg.eigh(c, sxx)
        except (linalg.LinAlgError, ValueError):
            break
        lam = np.clip(lam, 0.0, 1.0)
        new_rho = np.sqrt(lam)
        b = linalg.solve(syy, sxy.T @ a, assume_a="pos")
        # unit variance for the canonical variates, positive correlation between the pairs
        b /= np.sqrt(np.maximum(np.einsum("ij,ij->j", b, syy @ b), 1e-30))
        sign = np.sign(np.einsum("ij,ij->j", a, sxy @ b))
        b *= np.where(sign == 0, 1.0, sign)
        mad = xc @ a - yc @ b
        var = np.maximum(2.0 * (1.0 - new_rho), 1e-12)
        z = (mad * mad / var).sum(axis=1)
        prob = gammaincc(k / 2.0, z / 2.0)  # chi-square survival function, k degrees of freedom
        w = prob
        done = np.max(np.abs(new_rho - rho)) < tol
        rho = new_rho
        if done:
            break
    return prob, rho


def major_axis_fit(src: Array, dst: Array) -> tuple[float, float]:
    """Orthogonal regression ``dst ~ gain * src + offset`` (errors in both variables)."""
    ms, md = src.mean(), dst.mean()
    s, d = src - ms, dst - md
    sss, sdd, ssd = (s * s).mean(), (d * d).mean(), (s * d).mean()
    if abs(ssd) < 1e-18:
        return 1.0, float(md - ms)
    gain = (sdd - sss + np.sqrt((sdd - sss) ** 2 + 4 * ssd * ssd)) / (2 * ssd)
    return float(gain), float(md - gain * ms)


def fit_normalisation(
    before: dict[str, Array], after: dict[str, Array], *, p_invariant: float = P_INVARIANT
) -> Normalisation:
    """Fit after -> before per band on IR-MAD pseudo-invariant pixels. ``before`` / ``after``
    map band role -> 1-D float samples of the same pixels (valid on both dates)."""
    roles = tuple(r for r in before if r in after)
    if not roles:
        return Normalisation.identity(())
    x = np.column_stack([np.asarray(before[r], np.float64) for r in roles])
    y = np.column_stack([np.asarray(after[r], np.float64) for r in roles])
    ok = np.isfinite(x).all(axis=1) & np.isfinite(y).all(axis=1)
    x, y = x[ok], y[ok]
    if len(x) > MAX_SAMPLE:  # an even spread over the pooled tiles
        keep = np.linspace(0, len(x) - 1, MAX_SAMPLE).astype(np.int64)
        x, y = x[keep], y[keep]
    n = len(x)
    if n < MIN_SAMPLE:
        return Normalisation.identity(roles)
    prob, _rho = irmad(x, y)
    # weighting by the no-change probability sharpens the MAD variances with each iteration,
    # so few pixels may pass P_INVARIANT on a large sample: keep at least the top MIN_FRACTION
    cut = min(p_invariant, float(np.quantile(prob, 1.0 - MIN_FRACTION)))
    inv = prob >= cut
    gains, offsets = [], []
    for j in range(len(roles)):
        g, o = major_axis_fit(y[inv, j], x[inv, j])
        if not (GAIN_RANGE[0] <= g <= GAIN_RANGE[1]):
            g, o = 1.0, 0.0
        gains.append(round(g, 6))
        offsets.append(round(o, 7))
    return Normalisation(roles, tuple(gains), tuple(offsets), int(inv.sum()), n)
