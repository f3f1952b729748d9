"""Clean-up of change-class rasters: opening, sieve to a minimum mapping unit (m²),
polygonize (after sieving), areas in true m² (ellipsoidal), simplify.

Linear features (new roads, tracks, embankments) are 2 pixels wide at 10 m: a 3x3 opening
erases anything narrower than 3 pixels, so the opening here is by a 2x2 square (it removes
1-pixel lines, edge slivers and isolated pixels, and keeps what is at least 2 pixels wide in
any direction), then regrows into the changed pixels next to what it kept, so the staircase
edges of diagonal features are not shaved off. The minimum mapping unit applies to area *or*
length: an elongated region whose length (of the rectangle with its area and perimeter)
reaches ``min_length`` stays whatever its area.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from affine import Affine
from pyproj import CRS, Geod, Transformer
from rasterio.features import shapes
from rasterio.windows import Window
from rasterio.windows import transform as window_transform
from scipy import ndimage
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import Polygon, shape

from . import _fast_arrays, morph

Array = np.ndarray
GEOD = Geod(ellps="WGS84")
FOUR = ndimage.generate_binary_structure(2, 1)  # 4-connectivity everywhere (label, sieve, shapes)
EIGHT = ndimage.generate_binary_structure(2, 2)  # only to find thin diagonal lines
LINE_MIN_WIDTH_PX = 1.25
LINE_MAX_WIDTH_PX = 3.0


def morphological_opening(mask: Array, size: int = 2) -> Array:
    """Opening that keeps features at least ``size`` pixels wide (see the module docstring):
    ``size`` 2: 2x2 opening plus a one-pixel regrow into ``mask``; ``size`` >= 3: the plain
    ``size`` x ``size`` square opening."""
    m = np.asarray(mask).astype(bool, copy=False)
    out = np.zeros(m.shape, dtype=bool)
    box = morph.bbox(m, 2)
    if box is None:
        return out
    sub = m[box]
    if size == 2:
        opened = morph.open2(sub)
        out[box] = opened | (morph.dilate3(opened) & sub)
        return out
    if size == 3:
        out[box] = morph.dilate3(morph.erode3(sub)) & sub
        return out
    m8 = sub.astype(np.uint8)
    er = ndimage.minimum_filter(m8, size=size, mode="nearest")
    out[box] = ndimage.maximum_filter(er, size=size, mode="nearest").astype(bool) & sub
    return out


def open_classes(classes: Array, size: int = 2, *, min_length_px: float | None = None) -> Array:
    """Opening of the changed mask (any class); classes outside it are cleared.

    With ``min_length_px``: thin lines the opening would cut (a road at 45 degrees crosses
    two pixels per row, and a 2x2 square does not fit in that staircase) are kept whole when
    they are lines (``thin_lines``), and made 4-connected (``bridge_diagonals``) so they come
    out as one region, not a string of sub-MMU pieces."""
    changed = classes > 0
    keep = morphological_opening(changed, size)
    out = classes.copy()
    if min_length_px is not None and (changed & ~keep).any():
        lines = thin_lines(changed, min_length_px)
        if lines.any():
            keep |= lines
            bridge_diagonals(out, lines)
            keep |= (out > 0) & morph.dilate3(lines)
    out[~keep] = 0
    return out


def geodesic_length(component: Array) -> float:
    """Longest shortest path (pixel centres, 8-neighbour steps of 1 or sqrt 2) across a
    connected pixel set: its length along any curve (two Dijkstra sweeps)."""
    rr, cc = np.nonzero(component)
    n = rr.size
    if n < 2:
        return float(n)
    index = -np.ones(component.shape, np.int64)
    index[rr, cc] = np.arange(n)
    src, dst, wts = [], [], []
    h, w = component.shape
    for dr, dc, wt in ((0, 1, 1.0), (1, 0, 1.0), (1, 1, 2**0.5), (1, -1, 2**0.5)):
        r2, c2 = rr + dr, cc + dc
        ok = (r2 < h) & (c2 >= 0) & (c2 < w)
        j = np.full(n, -1)
        j[ok] = index[r2[ok], c2[ok]]
        sel = j >= 0
        src.append(np.flatnonzero(sel))
        dst.append(j[sel])
        wts.append(np.full(int(sel.sum()), wt))
    graph = csr_matrix((np.concatenate(wts), (np.concatenate(src), np.concatenate(dst))), shape=(n, n))
    d = dijkstra(graph, directed=False, indices=0)
    far = int(np.argmax(np.where(np.isfinite(d), d, -1)))
    d = dijkstra(graph, directed=False, indices=far)
    return float(np.max(d[np.isfinite(d)])) + 1.0


def thin_lines(changed: Array, min_length_px: float) -> Array:
    """Pixels of 8-connected changed regions that are lines: at least ``min_length_px`` long
    along their middle (``geodesic_length``) and between ``LINE_MIN_WIDTH_PX`` and
    ``LINE_MAX_WIDTH_PX`` wide on average (area / length). A 2-px road at any angle is >= 1.4
    px wide by this measure; a one-pixel sliver along a shifted edge is 1 or less."""
    out = np.zeros(changed.shape, bool)
    box = morph.bbox(changed, 1)
    if box is None:
        return out
    lab, n = ndimage.label(changed[box], structure=EIGHT)
    sizes = label_sizes(lab, n)
    rough = rectangle_length(sizes, label_perimeters(lab, n))  # >= the true length: a pre-filter
    cand = (rough >= min_length_px) & (sizes <= LINE_MAX_WIDTH_PX * rough)
    cand[0] = False
    sub = out[box]
    for i, sl in enumerate(ndimage.find_objects(lab), start=1):
        if sl is None or not cand[i]:
            continue
        comp = lab[sl] == i
        length = geodesic_length(comp)
        if length >= min_length_px and LINE_MIN_WIDTH_PX <= sizes[i] / length <= LINE_MAX_WIDTH_PX:
            sub[sl] |= comp
    return out


def bridge_diagonals(classes: Array, where: Array) -> None:
    """In place: where two changed pixels of ``where`` touch only at a corner, also set the
    pixel beside them (the one to the right of the upper one) to the upper one's class."""
    m = (classes > 0) & where
    a, b = m[:-1, :-1], m[1:, 1:]  # down-right diagonal
    gap = a & b & ~m[:-1, 1:] & ~m[1:, :-1]
    classes[:-1, 1:][gap] = classes[:-1, :-1][gap]
    m = (classes > 0) & where
    a, b = m[:-1, 1:], m[1:, :-1]  # down-left diagonal
    gap = a & b & ~m[:-1, :-1] & ~m[1:, 1:]
    classes[1:, 1:][gap] = classes[:-1, 1:][gap]


def label_sizes(labels: Array, n: int) -> Array:
    """Pixels of each label 0..n (numba where installed: bincount copies the labels first)."""
    if _fast_arrays.HAVE_NUMBA:
        return _fast_arrays.label_sizes(labels, n)
    return np.bincount(labels.ravel(), minlength=n + 1)


def labels_where(table: Array, labels: Array) -> Array:
    """``table[labels]``: the pixels whose label the boolean ``table`` selects."""
    if _fast_arrays.HAVE_NUMBA:
        return _fast_arrays.labels_where(table, labels)
    return table[labels]


def rectangle_length(area: Array, perimeter: Array) -> Array:
    """Length of the rectangle with this area and perimeter (its width for a square); for a
    thin region, its length along the middle (any curve)."""
    half = np.asarray(perimeter, np.float64) / 2
    disc = np.maximum(half * half - 4 * np.asarray(area, np.float64), 0)
    return (half + np.sqrt(disc)) / 2


def label_perimeters(labels: Array, n: int) -> Array:
    """Perimeter (pixel edges between a region and anything else, the array border included)
    of each label 0..n."""
    per = np.zeros(n + 1, dtype=np.int64)
    for a, b in ((labels[:, 1:], labels[:, :-1]), (labels[1:], labels[:-1])):
        diff = a != b
        per += np.bincount(a[diff], minlength=n + 1)
        per += np.bincount(b[diff], minlength=n + 1)
    for edge in (labels[0], labels[-1], labels[:, 0], labels[:, -1]):
        per += np.bincount(edge.ravel(), minlength=n + 1)
    return per


def harmonise_classes(classes: Array, min_pixels: int, *, min_length_px: float | None = None) -> Array:
    """One change, one class: inside each changed region (4-connected, any class), a piece of
    one class smaller than ``min_pixels`` takes the class most of the region has, and so does
    all of a thin line (``open_classes``), whose mixed pixels flip between vegetation loss and
    construction along its length (left as is, it would come out as a string of pieces each
    below the minimum mapping unit)."""
    box = morph.bbox(classes > 0)
    if box is None:
        return classes
    out = classes.copy()
    sub = out[box]
    lab, n = ndimage.label(sub > 0, structure=FOUR)
    if n == 0:
        return out
    flat = lab.ravel()
    at = np.flatnonzero(flat)
    votes = np.bincount(flat[at] * 4 + np.minimum(sub.ravel()[at], 3), minlength=(n + 1) * 4).reshape(n + 1, 4)
    mixed = (votes[:, 1:] > 0).sum(axis=1) > 1
    mixed[0] = False
    if not mixed.any():
        return out  # no region mixes classes
    major = votes[:, 1:].argmax(axis=1).astype(np.uint8) + 1
    relabel = np.zeros(sub.shape, bool)
    if min_length_px is not None:
        relabel |= thin_lines(sub > 0, min_length_px)
    # in a region of one class every piece already has the region's class: only the mixed
    # regions' pieces are labelled (a piece, 4-connected, lies inside one region)
    in_mixed = labels_where(mixed, lab)
    mbox = morph.bbox(in_mixed)
    msub, mlab = sub[mbox], in_mixed[mbox]
    for cls in (1, 2, 3):
        pl, pn = ndimage.label((msub == cls) & mlab, structure=FOUR)
        if pn:
            small = label_sizes(pl, pn) < min_pixels
            small[0] = False
            relabel[mbox] |= labels_where(small, pl)
    relabel &= in_mixed
    sub[relabel] = major[lab[relabel]]
    return out


def _touches_border(
    labels: Array, box: tuple[slice, slice] | None = None, shape: tuple[int, int] | None = None, ring: bool = False
) -> Array:
    """Label ids present on the array border. With ``box``/``shape``: ``labels`` cover ``box``
    of an array of ``shape``; only the box edges lying on the array border count, or every
    box edge with ``ring`` (the box's outer ring connects to the outside)."""
    if box is None or ring:
        edges = [labels[0], labels[-1], labels[:, 0], labels[:, -1]]
    else:
        h, w = shape
        edges = []
        if box[0].start == 0:
            edges.append(labels[0])
        if box[0].stop == h:
            edges.append(labels[-1])
        if box[1].start == 0:
            edges.append(labels[:, 0])
        if box[1].stop == w:
            edges.append(labels[:, -1])
        if not edges:
            return np.zeros(0, dtype=np.intp)
    edge = np.concatenate(edges)
    return np.unique(edge[edge > 0])


def sieve(
    classes: Array,
    min_pixels: int,
    *,
    keep_border: bool = True,
    valid: Array | None = None,
    fill_holes: bool = True,
    min_length_px: float | None = None,
) -> Array:
    """Remove changed regions (4-connected, any class) smaller than ``min_pixels`` unless
    their length (``rectangle_length``) reaches ``min_length_px``, and fill no-change holes
    smaller than ``min_pixels`` inside changes (only valid pixels).

    With ``keep_border`` regions touching the array border are kept whatever their size: in a
    tile with halo they may continue in the next tile, and are judged after the seam merge.
    """
    out = classes.copy()
    if min_pixels <= 1:
        return out
    box = morph.bbox(out > 0)
    if box is None:
        return out
    # components lie inside the bounding box of the changed pixels: label only there; a
    # component touches the array border only where the box does
    sub = out[box]
    lab, n = ndimage.label(sub > 0, structure=FOUR)
    if n:
        sizes = label_sizes(lab, n)
        small = sizes < min_pixels
        small[0] = False
        if min_length_px is not None and small.any():
            small &= rectangle_length(sizes, label_perimeters(lab, n)) < min_length_px
        if keep_border:
            small[_touches_border(lab, box, out.shape)] = False
        if small.any():
            sub[labels_where(small, lab)] = 0
    changed = out > 0
    if fill_holes and changed.any():
        # a hole is enclosed by changed and invalid pixels, so it lies inside their bounding
        # box; grown by 1 the box's ring is all background and joins the (all background)
        # outside, which reaches the array border: label and fill only inside the box
        walls = changed if valid is None else changed | ~valid
        hbox = morph.bbox(walls, 1)
        del walls, changed
        osub = out[hbox]
        bg = osub == 0
        if valid is not None:
            bg &= valid[hbox]
        hl, hn = ndimage.label(bg, structure=FOUR)
        del bg
        if hn:
            hs = label_sizes(hl, hn)
            hole = hs < min_pixels
            hole[0] = False
            hole[_touches_border(hl)] = False  # every box edge: array border or the open ring
            if hole.any():
                hmask = labels_where(hole, hl)
                # fill on the holes' bounding box (plus one pixel of context): nothing outside it
                # changes, and the 3x3 maximum there only needs that context
                box = morph.bbox(hmask, 1)
                sub = osub[box]
                hsub = hmask[box]
                for _ in range(int(math.sqrt(min_pixels)) + 1):
                    grown = morph.max3(sub)
                    fill = hsub & (grown > 0)
                    sub[fill] = grown[fill]
                    hsub &= ~fill
                    if not hsub.any():
                        break
    return out


def pixel_area_m2(
    transform: Affine, crs, row: float = None, col: float = None, *, width: int = 1, height: int = 1
) -> float:
    """Ellipsoidal area (m²) of one pixel at (row, col) (default: the grid origin), any CRS."""
    row = 0.0 if row is None else row
    col = 0.0 if col is None else col
    ring = [
        transform @ (col, row),
        transform @ (col + 1, row),
        transform @ (col + 1, row + 1),
        transform @ (col, row + 1),
    ]
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

    geometry: Polygon  # in the raster CRS
    cls: int
    pixels: int
    sum_delta: float
    sum_conf: float
    on_seam: bool  # touches a tile edge that is not the scene edge
    sum_first: float = 0.0  # time series: sum of the first-seen date index


def polygonize_regions(
    classes: Array,
    transform: Affine,
    delta: Array,
    conf: Array,
    seam_edges: tuple[bool, bool, bool, bool] = (False, False, False, False),
    first: Array | None = None,
) -> list[RegionStats]:
    """Polygonize each 4-connected single-class region (after sieving) with its stats.

    ``seam_edges`` = (top, bottom, left, right): which array edges are tile seams; ``first``:
    the first-seen date index per pixel (time series), summed per region.
    """
    out: list[RegionStats] = []
    box = morph.bbox(classes > 0)
    if box is None:
        return out
    # work on the bounding box of the changed pixels only (same regions, same coordinates)
    (r0, r1), (c0, c1) = (box[0].start, box[0].stop), (box[1].start, box[1].stop)
    full_h, full_w = classes.shape
    classes, delta, conf = classes[box], delta[box], conf[box]
    first = first[box] if first is not None else None
    transform = window_transform(Window(c0, r0, c1 - c0, r1 - r0), transform)
    seam_edges = (
        seam_edges[0] and r0 == 0,
        seam_edges[1] and r1 == full_h,
        seam_edges[2] and c0 == 0,
        seam_edges[3] and c1 == full_w,
    )
    # one change at a time (4-connected, any class) on its own bounding box: GDAL's polygonize
    # scans every pixel of what it is given, and the changes cover a small part of the box
    comps, _ = ndimage.label(classes > 0, structure=FOUR)
    h, w = classes.shape
    for k, sl in enumerate(ndimage.find_objects(comps), start=1):
        if sl is None:
            continue
        (top, bottom), (left, right) = (sl[0].start, sl[0].stop), (sl[1].start, sl[1].stop)
        out.extend(
            _polygonize_change(
                np.where(comps[sl] == k, classes[sl], 0),
                window_transform(Window(left, top, right - left, bottom - top), transform),
                delta[sl],
                conf[sl],
                (
                    seam_edges[0] and top == 0,
                    seam_edges[1] and bottom == h,
                    seam_edges[2] and left == 0,
                    seam_edges[3] and right == w,
                ),
                None if first is None else first[sl],
            )
        )
    return out


def _polygonize_change(classes, transform, delta, conf, seam_edges, first) -> list[RegionStats]:
    """``polygonize_regions`` of one change: its single-class regions, their sums (over their
    pixels in raster order) and whether they touch a seam."""
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
    at = np.flatnonzero(flat)  # per-region sums over the labelled pixels only
    lab_at = flat[at]
    counts = np.bincount(lab_at, minlength=n + 1)
    sdelta = np.bincount(lab_at, weights=delta.ravel()[at].astype(np.float64), minlength=n + 1)
    sconf = np.bincount(lab_at, weights=conf.ravel()[at].astype(np.float64), minlength=n + 1)
    sfirst = (
        None if first is None else np.bincount(lab_at, weights=first.ravel()[at].astype(np.float64), minlength=n + 1)
    )
    seam = np.zeros(n + 1, dtype=bool)
    for is_seam, edge in zip(seam_edges, (labels[0], labels[-1], labels[:, 0], labels[:, -1]), strict=False):
        if is_seam:
            seam[np.unique(edge)] = True
    seam[0] = False
    out = []
    for geom, value in shapes(labels, mask=labels > 0, connectivity=4, transform=transform):
        i = int(value)
        out.append(
            RegionStats(
                shape(geom),
                cls_of[i],
                int(counts[i]),
                float(sdelta[i]),
                float(sconf[i]),
                bool(seam[i]),
                float(sfirst[i]) if sfirst is not None else 0.0,
            )
        )
    return out


def simplify(geom, tolerance: float):
    """Topology-preserving simplification (tolerance in CRS units)."""
    return shapely.simplify(geom, tolerance, preserve_topology=True) if tolerance > 0 else shapely.simplify(geom, 0)
