"""After all tiles: merge the pieces of regions cut by tile seams, measure, filter, simplify.

A region touching a tile seam is polygonized per tile; its pieces are unioned here, so a
change crossing a seam comes out as one polygon, and the per-tile sums (pixels, index change,
confidence) are added up over the pieces. Only then is the minimum mapping unit applied (area
*or* length, see ``cleanup``), and the objects it drops are erased from the class raster.

A linear clearing (vegetation loss at most ``LINEAR_MAX_WIDTH_PX`` wide and at least the
minimum length long) is a new road, track or embankment: it is reported as construction
(its index change stays the NDVI's), and repainted so in the class raster.
"""

from __future__ import annotations

import rasterio
import shapely
from rasterio.features import geometry_mask
from rasterio.windows import Window, from_bounds
from shapely.strtree import STRtree

from . import cleanup
from .constants import CHANGE_CLASSES, CLASS_CONSTRUCTION, CLASS_INVALID, CLASS_VEGETATION_LOSS
from .types import ChangeRecord

LINEAR_MAX_WIDTH_PX = 3.0


def merge_regions(regions: list) -> list[tuple]:
    """(geometry, cls, pixels, sum_delta, sum_conf, sum_first) per object, pieces on seams
    unioned."""
    out = [(r.geometry, r.cls, r.pixels, r.sum_delta, r.sum_conf, r.sum_first) for r in regions if not r.on_seam]
    by_cls: dict[int, list] = {}
    for r in regions:
        if r.on_seam:
            by_cls.setdefault(r.cls, []).append(r)
    for cls, pieces in by_cls.items():
        merged = shapely.union_all([p.geometry for p in pieces], grid_size=None)
        parts = list(getattr(merged, "geoms", [merged]))
        tree = STRtree(parts)
        acc = [[0, 0.0, 0.0, 0.0] for _ in parts]
        pts = shapely.point_on_surface([p.geometry for p in pieces])
        hits = tree.query(pts, predicate="intersects")
        seen = set()
        for pi, gi in zip(*hits, strict=False):
            if pi in seen:
                continue
            seen.add(pi)
            a = acc[gi]
            a[0] += pieces[pi].pixels
            a[1] += pieces[pi].sum_delta
            a[2] += pieces[pi].sum_conf
            a[3] += pieces[pi].sum_first
        for g, a in zip(parts, acc, strict=False):
            if a[0]:
                out.append((g, cls, a[0], a[1], a[2], a[3]))
    return out


def to_records(
    merged: list[tuple],
    *,
    crs,
    pixel_size: float,
    min_area_m2: float,
    min_length_m: float | None,
    simplify_px: float,
    rule_index: dict[str, str | None],
    dates: list | None = None,
) -> tuple[list[ChangeRecord], list, list]:
    """Records (WGS84, ellipsoidal area) of the merged regions that pass the minimum mapping
    unit by area or by length, largest first; the geometries dropped and those reclassed as
    linear construction (raster CRS). With ``dates`` (time series), ``first_seen`` is the
    date of the region's mean first-seen index."""
    records: list[ChangeRecord] = []
    dropped, linear = [], []
    for geom, cls, npx, sdelta, sconf, sfirst in merged:
        exact = cleanup.to_wgs84(shapely.simplify(geom, 0), crs)
        area = cleanup.geodesic_area_m2(exact)
        g = cleanup.to_wgs84(cleanup.simplify(geom, simplify_px * pixel_size), crs) if simplify_px > 0 else exact
        # the simplified outline's perimeter: the staircase of pixel edges is not length
        perimeter = abs(cleanup.GEOD.geometry_area_perimeter(g)[1])
        length = float(cleanup.rectangle_length(area, perimeter))
        long_enough = min_length_m is not None and length >= min_length_m
        if area < min_area_m2 and not long_enough:
            dropped.append(geom)
            continue
        if not g.is_valid:
            g = shapely.make_valid(g)
        name = index = CHANGE_CLASSES[cls]
        if cls == CLASS_VEGETATION_LOSS and long_enough and area / length <= LINEAR_MAX_WIDTH_PX * pixel_size:
            name = CHANGE_CLASSES[CLASS_CONSTRUCTION]
            linear.append(geom)
        records.append(
            ChangeRecord(
                geometry=g,
                change_type=name,
                area_m2=area,
                mean_index_change=sdelta / npx,
                index=rule_index[index] or "",
                confidence=float(min(1.0, max(0.0, sconf / npx))),
                pixel_count=int(npx),
                first_seen=dates[min(len(dates) - 1, int(round(sfirst / npx)))] if dates else None,
            )
        )
    records.sort(key=lambda r: -r.area_m2)
    return records, dropped, linear


def repaint(path: str, geoms: list, value: int) -> None:
    """Set the changed pixels inside ``geoms`` to ``value`` in the class raster (0: erase a
    dropped object; CLASS_CONSTRUCTION: a linear clearing)."""
    with rasterio.open(path, "r+") as dst:
        full = Window(0, 0, dst.width, dst.height)
        for g in geoms:
            w = from_bounds(*g.bounds, transform=dst.transform).round_offsets().round_lengths()
            w = w.intersection(full)
            w = Window(w.col_off, w.row_off, w.width + 1, w.height + 1).intersection(full)
            data = dst.read(1, window=w)
            inside = geometry_mask([g], out_shape=data.shape, transform=dst.window_transform(w), invert=True)
            data[inside & (data != CLASS_INVALID) & (data != 0)] = value
            dst.write(data, 1, window=w)
