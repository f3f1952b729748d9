"""Co-registration: the integer shift between two dates, by phase correlation."""

from __future__ import annotations

import numpy as np


def estimate_shift(before_band, after_band, *, max_shift: int = 4) -> tuple[int, int, float]:
    """Integer (dy, dx) such that ``after[r - dy, c - dx]`` matches ``before[r, c]``, by phase
    correlation (Hann-windowed), and the correlation peak height (0..1, higher = surer).
    Returns (0, 0, 0.0) if the peak is further than ``max_shift`` or the input is flat."""
    a = np.asarray(before_band, dtype=np.float64)
    b = np.asarray(after_band, dtype=np.float64)
    if a.shape != b.shape or min(a.shape) < 16:
        return 0, 0, 0.0
    a = np.where(np.isfinite(a), a, 0.0)
    b = np.where(np.isfinite(b), b, 0.0)
    a = a - a.mean()
    b = b - b.mean()
    win = np.outer(np.hanning(a.shape[0]), np.hanning(a.shape[1]))
    fa = np.fft.rfft2(a * win)
    fb = np.fft.rfft2(b * win)
    cross = fa * np.conj(fb)
    mag = np.abs(cross)
    if not (mag > 0).any():
        return 0, 0, 0.0
    cross /= np.maximum(mag, 1e-12)
    corr = np.fft.irfft2(cross, s=a.shape)
    i, j = np.unravel_index(int(np.argmax(corr)), corr.shape)
    dy = i if i <= a.shape[0] // 2 else i - a.shape[0]
    dx = j if j <= a.shape[1] // 2 else j - a.shape[1]
    peak = float(corr[i, j])
    if abs(dy) > max_shift or abs(dx) > max_shift:
        return 0, 0, peak
    return int(dy), int(dx), peak
