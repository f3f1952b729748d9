"""Changed area per zone from a change-class raster (exactextract coverage fractions)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import numpy as np
import rasterio
import shapely
from exactextract import exact_extract
from exactextract.feature import JSONFeatureSource
from pyproj import Transformer
from shapely.geometry import mapping

from .cleanup import GEOD, geodesic_area_m2
from .constants import CHANGE_CLASSES
from .errors import CorruptRasterError, NoCRSError
from .types import ZoneSummary


def _pixel_areas(transform, crs, centers) -> np.ndarray:
    """Ellipsoidal area of one pixel at each (row, col), in one projection call."""
    rc = np.asarray(centers, dtype=np.float64).reshape(-1, 2)
    rows = np.floor(rc[:, 0])
    cols = np.floor(rc[:, 1])
    xs, ys = [], []
    for dr, dc in ((0, 0), (0, 1), (1, 1), (1, 0)):
        x, y = transform @ (cols + dc, rows + dr)
        xs.append(x)
        ys.append(y)
    tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(np.concatenate(xs), np.concatenate(ys))
    n = len(rc)
    lon = lon.reshape(4, n)
    lat = lat.reshape(4, n)
    return np.array([abs(GEOD.polygon_area_perimeter(lon[:, i], lat[:, i])[0]) for i in range(n)])


def summarize_by_zones(change_raster_path: str | os.PathLike, zones: Iterable[tuple[Any, Any]], *,
                       strategy: str = "feature-sequential", max_cells_in_memory: int = 30_000_000) -> list[ZoneSummary]:
    """Per zone (id, shapely geometry in WGS84): changed area (m²) by change type.

    Each class's area is sum(coverage fraction of cells of that class) × the ellipsoidal area
    of one cell at the zone's centroid; cells marked invalid (255 = nodata/cloud) count in
    neither the changed nor the valid area. Zones outside the raster get zeros.
    """
    zones = list(zones)
    try:
        ds = rasterio.open(change_raster_path)
    except rasterio.errors.RasterioError as exc:
        raise CorruptRasterError(change_raster_path, f"not a readable raster ({exc})") from exc
    with ds:
        if ds.crs is None:
            raise NoCRSError(change_raster_path, "change raster has no CRS")
        crs, transform, inv = ds.crs, ds.transform, ~ds.transform
        tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        feats = []
        centers = []
        for i, (_zid, geom) in enumerate(zones):
            g = shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
            feats.append({"type": "Feature", "id": i, "properties": {"zid": i}, "geometry": mapping(g)})
            c = g.centroid
            col, row = inv @ (c.x, c.y) if not c.is_empty else (0.0, 0.0)
            centers.append((row, col))
        if not feats:
            return []
        src = JSONFeatureSource(feats, srs_wkt=crs.to_wkt())
        res = exact_extract(ds, src, ["unique", "frac", "count"], include_cols=["zid"], strategy=strategy,
                            max_cells_in_memory=max_cells_in_memory)
        areas_px = _pixel_areas(transform, crs, centers)
    out = []
    by_zid = {f["properties"]["zid"]: f["properties"] for f in res}
    for i, (zid, geom) in enumerate(zones):
        props = by_zid.get(i, {})
        pa = float(areas_px[i])
        count = float(props.get("count") or 0.0)
        uniq = props.get("unique")
        frac = props.get("frac")
        areas = {name: 0.0 for name in CHANGE_CLASSES.values()}
        if uniq is not None and frac is not None:
            for v, f in zip(np.atleast_1d(uniq), np.atleast_1d(frac), strict=False):
                name = CHANGE_CLASSES.get(int(v))
                if name:
                    areas[name] += float(f) * count * pa
        out.append(ZoneSummary(zone_id=zid, zone_area_m2=geodesic_area_m2(geom), valid_area_m2=count * pa,
                               changed_area_m2=areas))
    return out
