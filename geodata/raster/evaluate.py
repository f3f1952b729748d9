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
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import shape
from shapely.strtree import STRtree

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
