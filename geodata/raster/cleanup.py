"""Clean-up of change-class rasters: opening, sieve to a minimum mapping unit (m²),
polygonize (after sieving), areas in true m² (ellipsoidal), simplify."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from affine import Affine
from pyproj import CRS, Geod, Transformer
from rasterio.features import shapes
from scipy import ndimage
from shapely.geometry import Polygon, shape

Array = np.ndarray
GEOD = Geod(ellps="WGS84")
FOUR = ndimage.generate_binary_structure(2, 1)  # 4-connectivity everywhere (label, sieve, shapes)


def morphological_opening(mask: Array, size: int = 3) -> Array:
    """Binary opening with a ``size``×``size`` square (removes 1-pixel lines and specks)."""
    m = np.asarray(mask, dtype=np.uint8)
    er = ndimage.minimum_filter(m, size=size, mode="nearest")
    return ndimage.maximum_filter(er, size=size, mode="nearest").astype(bool) & m.astype(bool)


def open_classes(classes: Array, size: int = 3) -> Array:
    """Opening of the changed mask (any class); classes outside it are cleared."""
    out = classes.copy()
    out[~morphological_opening(classes > 0, size)] = 0
    return out


def _touches_border(labels: Array) -> Array:
    """Label ids present on the array border."""
    edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    return np.unique(edge[edge > 0])


def sieve(classes: Array, min_pixels: int, *, keep_border: bool = True, valid: Array | None = None,
          fill_holes: bool = True) -> Array:
    """Remove changed regions (4-connected, any class) smaller than ``min_pixels`` and fill
    no-change holes smaller than ``min_pixels`` inside changes (only valid pixels).

    With ``keep_border`` regions touching the array border are kept whatever their size: in a
    tile with halo they may continue in the next tile, and are judged after the seam merge.
    """
    out = classes.copy()
    if min_pixels <= 1:
        return out
    lab, n = ndimage.label(out > 0, structure=FOUR)
    if n:
        sizes = np.bincount(lab.ravel(), minlength=n + 1)
        small = sizes < min_pixels
        small[0] = False
        if keep_border:
            small[_touches_border(lab)] = False
        if small.any():
            out[small[lab]] = 0
    if fill_holes and (out > 0).any():
        bg = out == 0
        if valid is not None:
            bg &= valid
        hl, hn = ndimage.label(bg, structure=FOUR)
        if hn:
            hs = np.bincount(hl.ravel(), minlength=hn + 1)
            hole = hs < min_pixels
            hole[0] = False
            hole[_touches_border(hl)] = False
            if hole.any():
                hmask = hole[hl]
                for _ in range(int(math.sqrt(min_pixels)) + 1):
                    grown = ndimage.maximum_filter(out, size=3)
                    fill = hmask & (grown > 0)
                    out[fill] = grown[fill]
                    hmask &= ~fill
                    if not hmask.any():
                        break
    return out


def pixel_area_m2(transform: Affine, crs, row: float = None, col: float = None, *, width: int = 1, height: int = 1) -> float:
    """Ellipsoidal area (m²) of one pixel at (row, col) (default: the grid origin), any CRS."""
    row = 0.0 if row is None else row
    col = 0.0 if col is None else col
    ring = [transform @ (col, row), transform @ (col + 1, row), transform @ (col + 1, row + 1), transform @ (col, row + 1)]
    tr = _to_wgs84(crs)
    lon, lat = tr.transform([p[0] for p in ring], [p[1] for p in ring])
    area, _ = GEOD.polygon_area_perimeter(lon, lat)
    return abs(area)


def min_pixels_for_area(min_area_m2: float, transform: Affine, crs, row: float = 0, col: float = 0) -> int:
    """Smallest whole number of pixels whose ellipsoidal area can reach ``min_area_m2``
    (floor, so the sieve never removes a region the final m² filter would keep)."""
    if min_area_m2 <= 0:
        return 0
    a = pixel_area_m2(transform, crs, row, col)
    return max(1, int(math.floor(min_area_m2 / a * 0.98)))


_TR_CACHE: dict[str, Transformer] = {}


def _to_wgs84(crs) -> Transformer:
    key = CRS.from_user_input(crs).to_wkt()
    tr = _TR_CACHE.get(key)
    if tr is None:
        tr = Transformer.from_crs(CRS.from_wkt(key), "EPSG:4326", always_xy=True)
        _TR_CACHE[key] = tr
    return tr


def to_wgs84(geom, crs):
    """Reproject a shapely geometry from ``crs`` to WGS84 lon/lat."""
    tr = _to_wgs84(crs)
    return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def geodesic_area_m2(geom_wgs84) -> float:
    """Ellipsoidal area (m²) of a lon/lat geometry."""
    return abs(GEOD.geometry_area_perimeter(geom_wgs84)[0])


@dataclass
class RegionStats:
    """A polygon from one tile plus sums needed to merge it with pieces from other tiles."""

    geometry: Polygon      # in the raster CRS
    cls: int
    pixels: int
    sum_delta: float
    sum_conf: float
    on_seam: bool          # touches a tile edge that is not the scene edge


def polygonize_regions(classes: Array, transform: Affine, delta: Array, conf: Array,
                       seam_edges: tuple[bool, bool, bool, bool] = (False, False, False, False)) -> list[RegionStats]:
    """Polygonize each 4-connected single-class region (after sieving) with its stats.

    ``seam_edges`` = (top, bottom, left, right): which array edges are tile seams.
    """
    out: list[RegionStats] = []
    if not (classes > 0).any():
        return out
    labels = np.zeros(classes.shape, dtype=np.int32)
    cls_of = [0]
    offset = 0
    for cls in np.unique(classes[classes > 0]):
        lab, n = ndimage.label(classes == cls, structure=FOUR)
        sel = lab > 0
        labels[sel] = lab[sel] + offset
        cls_of.extend([int(cls)] * n)
        offset += n
    n = offset
    flat = labels.ravel()
    counts = np.bincount(flat, minlength=n + 1)
    sdelta = np.bincount(flat, weights=delta.ravel().astype(np.float64), minlength=n + 1)
    sconf = np.bincount(flat, weights=conf.ravel().astype(np.float64), minlength=n + 1)
    seam = np.zeros(n + 1, dtype=bool)
    for is_seam, edge in zip(seam_edges, (labels[0], labels[-1], labels[:, 0], labels[:, -1]), strict=False):
        if is_seam:
            seam[np.unique(edge)] = True
    seam[0] = False
    for geom, value in shapes(labels, mask=labels > 0, connectivity=4, transform=transform):
        i = int(value)
        out.append(RegionStats(shape(geom), cls_of[i], int(counts[i]), float(sdelta[i]), float(sconf[i]), bool(seam[i])))
    return out


def simplify(geom, tolerance: float):
    """Topology-preserving simplification (tolerance in CRS units)."""
    return shapely.simplify(geom, tolerance, preserve_topology=True) if tolerance > 0 else shapely.simplify(geom, 0)
