"""Reading for detection: each date of a pair, every band onto one grid, window by window.

The interface the detector consumes
-----------------------------------
``open_pair(before, after, sensor=None, *, before_acquired=None, after_acquired=None)``
    ``before`` / ``after``: a path of any input kind (stacked GeoTIFF, ``.SAFE`` folder or zip,
    STAC item JSON, Landsat C2 folder: ``products.open_product``) or a ``DateSource``. Opens and
    checks every band file (header, CRS, first and last pixel) and returns a ``Pair``
    (picklable, Django-free; it travels inside tile jobs):

    - ``before``, ``after``: the two ``DateSource`` (sensor, date, sun angles, band files with
      that date's own scale and offset, the product mask and its kind);
    - ``grid``: the before date's finest reflectance band (``products.Grid``: CRS, transform,
      size, block shape); the after date and coarser bands are warped onto it on the fly;
    - ``overlap``: the window of ``grid`` both dates cover; ``roles``: the band roles read;
    - ``profile``: the ``SensorProfile`` for kernels that take *reflectance* (scale 1, offset
      0, no nodata value: missing data is NaN), ``mask_band`` set when both dates have a
      product mask;
    - ``notes``: what was assumed (an offset from the date rule, a missing mask …).

``PairReader(pair)`` (a context manager: everything it opens is on one ``ExitStack``) and
``cached_reader(run_id, pair)`` (one open reader per thread and run; ``close_run``):

    ``reader.read_dates(window, shift=(0, 0)) -> (DateWindow, DateWindow)``, for each date:

    - ``reflectance[role]``: float32 reflectance of the window, NaN where the band has no
      data (nodata value, outside the scene, a 20 m band's edge); bands at other resolutions
      are resampled bilinearly, masks by nearest neighbour (GDAL WarpedVRT);
    - ``valid``: True where every band has data and the product mask does not say "no data";
    - ``cloud``, ``shadow``, ``snow``: the product mask in the project's semantics (SCL
      8/9/10, 3, 11; QA_PIXEL bits 1-3, 4, 5; pre-collection BQA high confidences), or None
      when the product has none (the detector then falls back to its brightness tests);
    - ``stack(roles)``: the reflectance bands as one (n, h, w) array (no copy).

    The after date is read moved by ``shift`` (co-registration: ``after[r - dy, c - dx]``).
    ``reader.read(window, shift)`` gives the same as the arrays the numba kernels take:
    ``(before stack, after stack, before flagged, after flagged)`` with ``flagged`` = not data
    | cloud | shadow | snow (None without masks).

Memory stays bounded by the window: no band is read whole.
"""

from __future__ import annotations

import datetime as dt
import threading
from contextlib import ExitStack
from dataclasses import dataclass, replace

import numpy as np
import rasterio.windows
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from rasterio.windows import Window
from shapely.geometry import box

from . import _fast_arrays
from .constants import SENSORS, SensorProfile
from .errors import NoOverlapError, SensorMismatchError
from .products import DateSource, Grid, band_georef, open_product, validate_source
from .products.base import MASK_KINDS, ROLES, BandFile, open_band


@dataclass(frozen=True)
class Pair:
    before: DateSource
    after: DateSource
    grid: Grid
    overlap: Window
    roles: tuple[str, ...]
    profile: SensorProfile
    notes: tuple[str, ...] = ()

    @property
    def bytes_per_pixel(self) -> int:
        """Bytes per grid pixel of the before date's files (GDAL block-cache planning)."""
        return 2 * (len(self.roles) + (1 if self.before.mask else 0))


def _source(x, sensor: str | None, acquired: dt.date | None) -> DateSource:
    if isinstance(x, DateSource):
        if sensor and x.sensor != sensor:
            raise SensorMismatchError(x.path, "sensor_differs", actual=x.sensor, expected=sensor)
        return replace(x, acquired=acquired) if acquired else x
    return open_product(x, sensor=sensor, acquired=acquired)


def reflectance_profile(sensor: str, roles: tuple[str, ...], mask_kind: str | None) -> SensorProfile:
    base = SENSORS[sensor]
    bands = {r: i + 1 for i, r in enumerate(roles)}
    mask_band = None
    if mask_kind:
        mask_band = "scl" if mask_kind == "scl" else "qa"
        bands[mask_band] = len(roles) + 1
    return replace(base, bands=bands, band_count=len(bands), scale=1.0, offset=0.0, nodata=None, mask_band=mask_band)


def open_pair(
    before,
    after,
    sensor: str | None = None,
    *,
    before_acquired: dt.date | None = None,
    after_acquired: dt.date | None = None,
) -> Pair:
    b = _source(before, sensor, before_acquired)
    a = _source(after, sensor, after_acquired)
    if a.sensor != b.sensor:
        raise SensorMismatchError(a.path, "pair_sensor_mismatch", after=a.sensor, before=b.sensor)
    roles = b.roles
    a.require(roles)
    grid = validate_source(b)
    grid_a = validate_source(a)
    overlap = _overlap(grid, grid_a, b, a)
    notes = [f"{d.name}: {n}" for d in (b, a) for n in d.notes]
    mask_kind = b.mask_kind if (b.mask and a.mask and b.mask_kind == a.mask_kind) else None
    if (b.mask is None) != (a.mask is None):
        notes.append("only one date has a product mask: clouds by the brightness tests on both")
    return Pair(b, a, grid, overlap, roles, reflectance_profile(b.sensor, roles, mask_kind), tuple(notes))


def _overlap(grid: Grid, grid_a: Grid, b: DateSource, a: DateSource) -> Window:
    try:
        a_bounds = transform_bounds(grid_a.crs, grid.crs, *grid_a.bounds, densify_pts=21)
    except Exception as exc:  # noqa: BLE001 - PROJ failure means they cannot be related
        raise NoOverlapError(a.path, "crs_untransformable", detail=str(exc)[:200]) from exc
    inter = box(*grid.bounds).intersection(box(*a_bounds))
    if inter.is_empty or inter.area <= 0:
        raise NoOverlapError(a.path, "no_overlap", other=b.name)
    return rasterio.windows.from_bounds(*inter.bounds, transform=grid.affine)


class DateWindow:
    """One date's pixels of one window (see the module docstring). ``valid`` is computed on
    first use (the numba kernels test finiteness themselves)."""

    def __init__(self, stack: np.ndarray, roles, no_data=None, cloud=None, shadow=None, snow=None, *, finite=None):
        self._stack = stack
        self.reflectance = {r: stack[i] for i, r in enumerate(roles)}
        self._no_data = no_data
        self.cloud, self.shadow, self.snow = cloud, shadow, snow
        self._finite = finite  # every band finite, when the reader made it while scaling
        self._valid = None

    @property
    def valid(self) -> np.ndarray:
        if self._valid is None:
            valid = self._finite if self._finite is not None else np.isfinite(self._stack).all(axis=0)
            if self._no_data is not None:
                valid &= ~self._no_data
            self._valid = valid
        return self._valid

    def stack(self, roles=None) -> np.ndarray:
        if roles is None or tuple(roles) == tuple(self.reflectance):
            return self._stack
        return np.stack([self.reflectance[r] for r in roles])

    @property
    def flagged(self) -> np.ndarray | None:
        """Not data | cloud | shadow | snow by the product mask (None without one)."""
        if self.cloud is None:
            return None
        return self._no_data | self.cloud | self.shadow | self.snow


def _on_grid(crs, transform, ds, grid: Grid, tol: float = 1e-6) -> bool:
    if crs != grid.crs or ds.width != grid.width or ds.height != grid.height:
        return False
    res = grid.pixel_size
    return all(abs(x - y) <= tol * res for x, y in zip(tuple(transform)[:6], grid.transform, strict=False))


@dataclass
class _Read:
    view: object
    indexes: list[int]
    slots: list[int]  # position in the roles stack, or -1 for the mask
    bands: list[BandFile]
    fill: float


class DateReader:
    """One date's bands on ``grid``; its datasets are entered on the caller's ``stack``."""

    def __init__(self, source: DateSource, grid: Grid, roles: tuple[str, ...], stack: ExitStack):
        self.source, self.roles = source, roles
        self.flags = MASK_KINDS.get(source.mask_kind or "")
        groups: dict[str, list[tuple[int, BandFile]]] = {}
        for i, r in enumerate(roles):
            groups.setdefault(source.bands[r].path, []).append((i, source.bands[r]))
        if source.mask is not None:
            groups.setdefault(source.mask.path, []).append((-1, source.mask))
        self.reads: list[_Read] = []
        for items in groups.values():
            ds = stack.enter_context(open_band(items[0][1]))
            crs, tr = band_georef(ds, items[0][1])
            if items[0][1].georef is None and _on_grid(crs, tr, ds, grid):
                self._add(ds, items)
                continue
            for kind, resampling in ((lambda s: s >= 0, Resampling.bilinear), (lambda s: s < 0, Resampling.nearest)):
                part = [it for it in items if kind(it[0])]
                if part:
                    nodata = part[0][1].nodata
                    vrt = WarpedVRT(
                        ds,
                        src_crs=crs,
                        src_transform=tr,
                        crs=grid.crs,
                        transform=grid.affine,
                        width=grid.width,
                        height=grid.height,
                        resampling=resampling,
                        src_nodata=nodata,
                        nodata=nodata if nodata is not None else 0,
                    )
                    self._add(stack.enter_context(vrt), part)

    def _add(self, view, items) -> None:
        nodata = items[0][1].nodata
        self.reads.append(
            _Read(view, [bf.index for _, bf in items], [s for s, _ in items], [bf for _, bf in items], nodata or 0)
        )

    def read(self, win: Window, shift: tuple[int, int] = (0, 0)) -> DateWindow:
        h, w = int(win.height), int(win.width)
        out = np.empty((len(self.roles), h, w), np.float32)
        finite = np.empty((h, w), bool)  # every band finite: the valid mask, made while scaling
        mask_raw = None
        scaled = 0
        for rd in self.reads:
            raw = read_shifted(rd.view, rd.indexes, win, shift, rd.fill)
            for k, (slot, bf) in enumerate(zip(rd.slots, rd.bands, strict=True)):
                if slot < 0:
                    mask_raw = raw[k]
                    continue
                scale_into(raw[k], bf, out[slot], finite, first=scaled == 0)
                scaled += 1
        flags = () if mask_raw is None or self.flags is None else self.flags(mask_raw)
        return DateWindow(out, self.roles, *flags, finite=finite if scaled else None)


_NO_MASK = np.empty((0, 0), bool)


def scale_into(raw: np.ndarray, bf: BandFile, o: np.ndarray, finite: np.ndarray | None = None, *, first=True) -> None:
    """``o`` = ``raw`` in reflectance: times the band's scale, plus its offset, NaN at nodata
    (one numba pass where the kernels are installed and numpy computes in float32). With
    ``finite``: set it to (``first``) or AND it with ``isfinite(o)``."""
    if _fast_arrays.HAVE_NUMBA and raw.dtype.name in _fast_arrays.SCALE_DTYPES:
        nodata = bf.nodata is not None
        _fast_arrays.scale_band(
            raw,
            np.float32(bf.scale),
            np.float32(bf.offset or 0),
            float(bf.nodata or 0),
            nodata,
            o,
            _NO_MASK if finite is None else finite,
            first,
        )
        return
    np.multiply(raw, np.float32(bf.scale), out=o, casting="unsafe")
    if bf.offset:
        o += np.float32(bf.offset)
    if bf.nodata is not None:
        np.copyto(o, np.float32(np.nan), where=raw == bf.nodata)
    if finite is not None:
        if first:
            np.isfinite(o, out=finite)
        else:
            finite &= np.isfinite(o)


class PairReader:
    """Both dates of a ``Pair`` on its grid, as a context manager closing all it opened."""

    def __init__(self, pair: Pair):
        self.pair = pair
        self.profile = pair.profile
        self._stack = ExitStack()
        try:
            self.before = DateReader(pair.before, pair.grid, pair.roles, self._stack)
            self.after = DateReader(pair.after, pair.grid, pair.roles, self._stack)
        except BaseException:
            self._stack.close()
            raise

    def __enter__(self) -> PairReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._stack.close()

    def window_transform(self, win: Window):
        return rasterio.windows.transform(win, self.pair.grid.affine)

    def read_dates(self, win: Window, shift: tuple[int, int] = (0, 0)) -> tuple[DateWindow, DateWindow]:
        return self.before.read(win), self.after.read(win, shift)

    def read(self, win: Window, shift: tuple[int, int] = (0, 0)):
        b, a = self.read_dates(win, shift)
        masked = self.profile.mask_band is not None
        return b.stack(), a.stack(), b.flagged if masked else None, a.flagged if masked else None


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


def cached_reader(run_id: str, pair: Pair) -> PairReader:
    """This thread's reader of run ``run_id``, opened on first use; readers of other runs
    this process still holds are closed."""
    cur = getattr(_local, "reader", None)
    if cur is not None and cur[0] == run_id:
        return cur[1]
    reader = PairReader(pair)
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


__all__ = ["ROLES", "DateReader", "DateWindow", "Pair", "PairReader", "cached_reader", "close_run", "open_pair"]
