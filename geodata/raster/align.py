"""Put the "after" scene on the "before" grid (rasterio WarpedVRT)."""

from __future__ import annotations

from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from shapely.geometry import box

from .errors import NoOverlapError


def same_grid(a, b, *, tol: float = 1e-6) -> bool:
    """True when ``a`` and ``b`` share CRS, transform and shape (no warping needed)."""
    if a.crs != b.crs or a.width != b.width or a.height != b.height:
        return False
    ta, tb = a.transform, b.transform
    res = max(abs(ta.a), abs(ta.e))
    return all(abs(x - y) <= tol * res for x, y in zip(tuple(ta)[:6], tuple(tb)[:6], strict=False))


def overlap_bounds(before, after) -> tuple[float, float, float, float]:
    """Bounds (in the before CRS) of the area both scenes cover; NoOverlapError if empty."""
    b = box(*before.bounds)
    try:
        a_bounds = transform_bounds(after.crs, before.crs, *after.bounds, densify_pts=21)
    except Exception as exc:  # noqa: BLE001 - PROJ failure means they cannot be related
        raise NoOverlapError(after.name, f"cannot transform bounds to the before CRS ({exc})") from exc
    inter = b.intersection(box(*a_bounds))
    if inter.is_empty or inter.area <= 0:
        raise NoOverlapError(
            after.name,
            f"does not overlap {before.name} (after bounds {tuple(round(v, 3) for v in a_bounds)} "
            f"vs before {tuple(round(v, 3) for v in before.bounds)} in the before CRS)",
        )
    return inter.bounds


def aligned_view(before, after, *, resampling: Resampling = Resampling.bilinear, nodata: float | None = 0):
    """Return a dataset-like object with ``after``'s pixels on ``before``'s grid.

    Same grid: ``after`` itself. Otherwise a WarpedVRT (caller closes it); use bilinear for
    reflectance and nearest for masks/classes. Pixels outside ``after`` read as ``nodata``.
    """
    if same_grid(before, after):
        return after
    src_nodata = after.nodata if after.nodata is not None else nodata
    return WarpedVRT(
        after,
        crs=before.crs,
        transform=before.transform,
        width=before.width,
        height=before.height,
        resampling=resampling,
        src_nodata=src_nodata,
        nodata=src_nodata,
    )


def estimate_shift(before_band, after_band, *, max_shift: int = 4) -> tuple[int, int, float]:
    """Integer (dy, dx) such that ``after[r - dy, c - dx]`` matches ``before[r, c]``, by phase
    correlation (Hann-windowed), and the correlation peak height (0..1, higher = surer).
    Returns (0, 0, 0.0) if the peak is further than ``max_shift`` or the input is flat."""
    import numpy as np

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
