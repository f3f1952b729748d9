"""Open the two scenes of a pair and read windows of them (rio-tiler's ``Reader`` shape).

A ``PairReader`` is a context manager: every dataset it opens (the two files and the
WarpedVRTs putting the after scene on the before grid) is entered on one ``ExitStack`` and
closed with it. Tile workers keep one reader per run and thread open (``cached_reader``):
GDAL's block cache lives with the handle, so a halo reuses blocks its neighbour decoded.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.windows import Window

from .align import aligned_view, same_grid
from .constants import SensorProfile


class PairReader:
    """The before scene, and the after scene on the before grid (bilinear for reflectance,
    nearest for the mask band), of one stacked-GeoTIFF pair."""

    def __init__(self, before_path: str, after_path: str, profile: SensorProfile):
        self.profile = profile
        self._stack = ExitStack()
        try:
            self.before = self._stack.enter_context(rasterio.open(before_path))
            after = self._stack.enter_context(rasterio.open(after_path))
            self.warped = not same_grid(self.before, after)
            nodata = profile.nodata if profile.nodata is not None else 0
            self.after_refl = self._view(after, Resampling.bilinear, nodata)
            self.after_mask = (
                self._view(after, Resampling.nearest, nodata) if profile.mask_band and self.warped else self.after_refl
            )
        except BaseException:
            self._stack.close()
            raise

    def _view(self, after, resampling: Resampling, nodata: float):
        view = aligned_view(self.before, after, resampling=resampling, nodata=nodata)
        return view if view is after else self._stack.enter_context(view)

    def __enter__(self) -> PairReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._stack.close()

    def window_transform(self, win: Window):
        return self.before.window_transform(win)

    def read(self, win: Window, shift: tuple[int, int] = (0, 0)):
        """Raw DN of ``win`` (before grid): (before bands, after bands, before mask, after mask),
        bands in ``profile.reflectance_roles`` order, each dataset read once; the after scene is
        read moved by ``shift`` (co-registration). Masks are None without a mask band."""
        prof = self.profile
        idx = [prof.bands[r] for r in prof.reflectance_roles]
        nb = len(idx)
        if not prof.mask_band:
            raw_a = read_shifted(self.after_refl, idx, win, shift, prof.nodata)
            return self.before.read(idx, window=win), raw_a, None, None
        m = prof.bands[prof.mask_band]
        both_b = self.before.read([*idx, m], window=win)
        raw_b, mb = both_b[:nb], both_b[nb]
        if self.after_mask is self.after_refl:
            both_a = read_shifted(self.after_refl, [*idx, m], win, shift, prof.nodata)
            return raw_b, both_a[:nb], mb, both_a[nb]
        raw_a = read_shifted(self.after_refl, idx, win, shift, prof.nodata)
        ma = read_shifted(self.after_mask, [m], win, shift, 0)[0]
        return raw_b, raw_a, mb, ma


def read_shifted(ds, indexes, win: Window, shift: tuple[int, int], nodata) -> np.ndarray:
    """Read ``win`` moved by -shift (co-registration), padding outside the raster with nodata."""
    dy, dx = shift
    if not dy and not dx:
        return ds.read(indexes, window=win)
    r0, c0 = int(win.row_off) - dy, int(win.col_off) - dx
    h, w = int(win.height), int(win.width)
    if r0 >= 0 and c0 >= 0 and r0 + h <= ds.height and c0 + w <= ds.width:  # inside: plain read
        return ds.read(indexes, window=Window(c0, r0, w, h))
    out = np.full((len(indexes), h, w), nodata if nodata is not None else 0, dtype=ds.dtypes[0])
    rr0, cc0 = max(r0, 0), max(c0, 0)
    rr1, cc1 = min(r0 + h, ds.height), min(c0 + w, ds.width)
    if rr1 > rr0 and cc1 > cc0:
        out[:, rr0 - r0 : rr1 - r0, cc0 - c0 : cc1 - c0] = ds.read(
            indexes, window=Window(cc0, rr0, cc1 - cc0, rr1 - rr0)
        )
    return out


# One open reader per thread, for the run it last worked on; ``_by_run`` keeps them reachable
# so the run's driver can close them all when it ends (processes and distributed workers keep
# their own, closed when a later run reaches them).
_local = threading.local()
_lock = threading.Lock()
_by_run: dict[str, list[PairReader]] = {}


def cached_reader(run_id: str, before_path: str, after_path: str, profile: SensorProfile) -> PairReader:
    """This thread's reader of run ``run_id``, opened on first use; readers of other runs
    this process still holds are closed."""
    cur = getattr(_local, "reader", None)
    if cur is not None and cur[0] == run_id:
        return cur[1]
    reader = PairReader(before_path, after_path, profile)
    _local.reader = (run_id, reader)
    with _lock:
        for rid in [r for r in _by_run if r != run_id]:
            for old in _by_run.pop(rid):
                old.close()
        _by_run.setdefault(run_id, []).append(reader)
    return reader


def close_run(run_id: str) -> None:
    """Close the readers a run left open in this process."""
    with _lock:
        for reader in _by_run.pop(run_id, []):
            reader.close()
    cur = getattr(_local, "reader", None)
    if cur is not None and cur[0] == run_id:
        _local.reader = None
