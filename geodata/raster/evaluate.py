"""Accuracy of detected change polygons against ground truth.

Truth set: truths with ``area_m2 >= min_area_m2`` that are not ``obscured`` (under or right
beside clouds/shadows). Excluded truths (small or obscured) are *neutral*: a detection that
matches only excluded truths counts neither as a hit nor as a false alarm, and detected area
over any truth is not false area.

By area: recall = area(truth set ∩ detections) / area(truth set); precision =
area(detections ∩ any truth) / area(counted detections).
By object: a truth is found when a detection (of the same change type when ``match_type``)
has IoU >= ``iou_threshold`` with it or covers >= ``overlap_threshold`` of the truth's area;
a detection is correct when IoU >= ``iou_threshold`` or >= ``overlap_threshold`` of the
detection's area lies on truths of its type. Areas are computed in the local UTM zone.

``area_scores``: the same by area on a pixel grid, with a tolerance of one pixel (mixed edge
pixels, co-registration), for references that are rasters (the real cubes' time-series
references) or are burnt onto the detection grid (``truth_masks``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS, Transformer
from rasterio.features import rasterize
from scipy import ndimage
from shapely.geometry import shape
from shapely.strtree import STRtree

from .constants import CLASS_BY_NAME
from .types import ChangeRecord, EvaluationResult


def _load(features_or_path) -> list[tuple[object, dict]]:
    if isinstance(features_or_path, (str, Path)):
        data = json.loads(Path(features_or_path).read_text())
        return [(shape(f["geometry"]), f.get("properties") or {}) for f in data["features"]]
    out = []
    for f in features_or_path:
        if isinstance(f, ChangeRecord):
            out.append((f.geometry, {"change_type": f.change_type, "area_m2": f.area_m2}))
        elif isinstance(f, dict):
            out.append((shape(f["geometry"]), f.get("properties") or {}))
        else:
            out.append((f[0], f[1]))
    return out


def _local_utm(geoms) -> Transformer:
    c = shapely.union_all([g.envelope for g in geoms]).centroid if geoms else shapely.Point(120, 30)
    zone = int((c.x + 180) // 6) + 1
    epsg = (32600 if c.y >= 0 else 32700) + zone
    return Transformer.from_crs("EPSG:4326", CRS.from_epsg(epsg), always_xy=True)


def evaluate(
    detected,
    truth,
    *,
    min_area_m2: float,
    iou_threshold: float = 0.3,
    overlap_threshold: float = 0.5,
    match_type: bool = True,
) -> EvaluationResult:
    """Compare detections (ChangeRecords, GeoJSON features or a path) to truth (path/features)."""
    det = _load(detected)
    tru = _load(truth)
    tr = _local_utm([g for g, _ in tru + det])

    def proj(g):
        return shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))

    dg = [shapely.make_valid(proj(g)) for g, _ in det]
    tg = [shapely.make_valid(proj(g)) for g, _ in tru]
    dtype = [p.get("change_type") for _, p in det]
    ttype = [p.get("change_type") for _, p in tru]
    counted = [float(p.get("area_m2", 0)) >= min_area_m2 and not p.get("obscured", False) for _, p in tru]

    ttree = STRtree(tg) if tg else None
    # truth side
    t_hit = [False] * len(tg)
    d_ok = [False] * len(dg)
    d_neutral = [False] * len(dg)
    d_on_same = [0.0] * len(dg)
    pairs = ttree.query(dg, predicate="intersects") if (ttree is not None and dg) else np.empty((2, 0), int)
    for di, ti in zip(*pairs, strict=False):
        inter = dg[di].intersection(tg[ti]).area
        if inter <= 0:
            continue
        same = (not match_type) or dtype[di] == ttype[ti]
        iou = inter / (dg[di].area + tg[ti].area - inter)
        if same:
            d_on_same[di] += inter
            if iou >= iou_threshold or inter / tg[ti].area >= overlap_threshold:
                t_hit[ti] = True
            if iou >= iou_threshold:
                if counted[ti]:
                    d_ok[di] = True
                else:
                    d_neutral[di] = True
    for di in range(len(dg)):
        if not d_ok[di] and d_on_same[di] / max(dg[di].area, 1e-9) >= overlap_threshold:
            # mostly on truths: correct if any of them is counted, else neutral
            hits = [ti for dd, ti in zip(*pairs, strict=False) if dd == di and counted[ti]]
            if hits:
                d_ok[di] = True
            else:
                d_neutral[di] = True
    for di in range(len(dg)):
        if d_ok[di]:
            d_neutral[di] = False
    # areas
    truth_set = [g for g, c in zip(tg, counted, strict=False) if c]
    all_truth = shapely.union_all(tg) if tg else shapely.GeometryCollection()
    truth_union = shapely.union_all(truth_set) if truth_set else shapely.GeometryCollection()
    det_counted = [g for g, n in zip(dg, d_neutral, strict=False) if not n]
    det_union = shapely.union_all(det_counted) if det_counted else shapely.GeometryCollection()
    det_all = shapely.union_all(dg) if dg else shapely.GeometryCollection()
    ta = truth_union.area
    recall_area = det_all.intersection(truth_union).area / ta if ta > 0 else 1.0
    da = det_union.area
    precision_area = det_union.intersection(all_truth).area / da if da > 0 else 1.0
    n_t = sum(counted)
    rec_obj = sum(h for h, c in zip(t_hit, counted, strict=False) if c) / n_t if n_t else 1.0
    n_d = sum(1 for n in d_neutral if not n)
    prec_obj = sum(d_ok) / n_d if n_d else 1.0
    return EvaluationResult(
        recall_area=recall_area,
        precision_area=precision_area,
        recall_object=rec_obj,
        precision_object=prec_obj,
        n_truth=n_t,
        n_truth_excluded=len(tg) - n_t,
        n_detected=n_d,
        n_detected_ignored=len(dg) - n_d,
        matched_truth=int(sum(h for h, c in zip(t_hit, counted, strict=False) if c)),
        matched_detected=int(sum(d_ok)),
    )


@dataclass(frozen=True)
class AreaScores:
    """Precision and recall by area on a pixel grid, with a tolerance (see ``area_scores``)."""

    recall: float
    precision: float
    truth_pixels: int
    detected_pixels: int
    false_pixels: int
    tolerance_px: int


def _grow(mask: np.ndarray, px: int) -> np.ndarray:
    return ndimage.binary_dilation(mask, np.ones((2 * px + 1, 2 * px + 1), bool)) if px > 0 else mask


def area_scores(
    detected: np.ndarray, truth: np.ndarray, *, neutral: np.ndarray | None = None, tolerance_px: int = 1
) -> AreaScores:
    """Recall = truth pixels within ``tolerance_px`` of a detected pixel / truth pixels;
    precision = detected pixels within ``tolerance_px`` of a truth (or ``neutral``) pixel /
    detected pixels outside ``neutral`` (a detection over an excluded truth or an uncertain
    reference pixel counts neither way). The tolerance forgives the one-pixel edge
    disagreement of mixed pixels and of the co-registration, never a missed or invented
    object."""
    det = np.asarray(detected, bool)
    tru = np.asarray(truth, bool)
    neu = np.zeros(det.shape, bool) if neutral is None else np.asarray(neutral, bool)
    counted = det & ~neu
    near_truth = _grow(tru | neu, tolerance_px)
    hit = _grow(det, tolerance_px) & tru
    ok = counted & near_truth
    n_t, n_d = int(tru.sum()), int(counted.sum())
    return AreaScores(
        recall=hit.sum() / n_t if n_t else 1.0,
        precision=ok.sum() / n_d if n_d else 1.0,
        truth_pixels=n_t,
        detected_pixels=n_d,
        false_pixels=int((counted & ~near_truth).sum()),
        tolerance_px=tolerance_px,
    )


def rasterize_wgs84(geoms: list, *, transform, crs, shape: tuple[int, int]) -> np.ndarray:
    """Burn lon/lat geometries onto a grid (pixel centres inside), as a bool mask."""

    if not geoms:
        return np.zeros(shape, bool)
    tr = Transformer.from_crs("EPSG:4326", CRS.from_user_input(crs), always_xy=True)
    proj = [shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))) for g in geoms]
    return rasterize(
        [(g, 1) for g in proj if not g.is_empty], out_shape=shape, transform=transform, dtype="uint8"
    ).astype(bool)


def truth_masks(truth, *, transform, crs, shape, min_area_m2: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(counted, excluded) truth masks of a truth GeoJSON (path or features): counted = not
    obscured and at least ``min_area_m2``; excluded = the rest (neutral for precision)."""
    items = _load(truth)
    counted = [g for g, p in items if not p.get("obscured", False) and float(p.get("area_m2", 0)) >= min_area_m2]
    excluded = [g for g, p in items if p.get("obscured", False) or float(p.get("area_m2", 0)) < min_area_m2]
    kw = dict(transform=transform, crs=crs, shape=shape)
    return rasterize_wgs84(counted, **kw), rasterize_wgs84(excluded, **kw)


def false_area_in(
    detected: np.ndarray, truth_any: np.ndarray, zones: dict[str, np.ndarray], *, tolerance_px: int = 1
) -> dict[str, tuple[int, int]]:
    """Per zone (cloud footprints, haze): (detected pixels in it farther than the tolerance
    from any truth, pixels of the zone)."""
    far = np.asarray(detected, bool) & ~_grow(np.asarray(truth_any, bool), tolerance_px)
    return {k: (int((far & z).sum()), int(z.sum())) for k, z in zones.items()}


def type_accuracy(classes: np.ndarray, truth, *, transform, crs) -> tuple[int, int]:
    """(truths whose detected pixels are mostly of their change type, truths counted): over
    the truths that are not obscured; a truth with no detected pixel counts as wrong."""

    right = total = 0
    for g, p in _load(truth):
        if p.get("obscured", False):
            continue
        total += 1
        m = rasterize_wgs84([g], transform=transform, crs=crs, shape=classes.shape)
        vals = classes[m]
        counts = np.bincount(vals[(vals > 0) & (vals < 4)], minlength=4)[1:4]
        if counts.sum() and int(counts.argmax()) + 1 == CLASS_BY_NAME[p["change_type"]]:
            right += 1
    return right, total
