"""The import's geometry checks, in the child that read the file (Django-free, plain data out).

GEOS is the part of an import that a hostile polygon can make slow, so validity, the city test
and the overlaps inside the file run where the file was read, under its limits, on whole
columns: polygon type, validity (with the ST_MakeValid-style repair offered), inside the city
(beyond a tolerance), no overlap between two features of the file. What comes back is the
problems by feature index, with numbers and shapes, and the features ready to stage; the web
process adds the codes and the words (zoning/import_checks.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import shapely

from gridgov import coords

# Slivers below these are numerical noise from clipping along shared boundaries.
OVERLAP_TOLERANCE_M2 = 1.0
OUTSIDE_CITY_TOLERANCE_M2 = 1.0
# WKB header of a little-endian 2D MultiPolygon (type 6) holding one polygon.
_MULTI_OF_ONE = b"\x01" + (6).to_bytes(4, "little") + (1).to_bytes(4, "little")


@dataclass
class GeometryReport:
    # (feature index, kind, details): kinds "not_polygon" {type}, "invalid" {reason, repaired},
    # "outside" {outside_area_m2}, "overlap" {other (index), area_m2, overlap}
    problems: list[tuple[int, str, dict]] = field(default_factory=list)
    idx: list[int] = field(default_factory=list)  # the features whose geometry can be staged
    wkbs: list[bytes] = field(default_factory=list)  # their staging WKB (2D MultiPolygon, no SRID)
    extent: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, 0.0])


def check_geometries(geoms: np.ndarray, city_wkb: bytes) -> GeometryReport:
    report = GeometryReport()
    n = len(geoms)
    polygonal = np.isin(shapely.get_type_id(geoms), [3, 6]) if n else np.zeros(0, dtype=bool)
    for i in np.flatnonzero(~polygonal):
        report.problems.append((int(i), "not_polygon", {"type": None if geoms[i] is None else geoms[i].geom_type}))
    valid = np.zeros(n, dtype=bool)
    valid[polygonal] = shapely.is_valid(geoms[polygonal])
    for i in np.flatnonzero(polygonal & ~valid):
        reason = shapely.is_valid_reason(geoms[i])
        repaired = json.loads(shapely.to_geojson(shapely.make_valid(geoms[i])))
        report.problems.append((int(i), "invalid", {"reason": reason, "repaired": repaired}))
    ok = polygonal & valid
    _inside_city(report, geoms, ok, shapely.from_wkb(city_wkb))
    idx = np.flatnonzero(ok)
    _overlaps_in_file(report, geoms, idx)
    # WKB, 2D, without SRID (the typed staging column gives it SRID 4326 and refuses anything but
    # a MultiPolygon). A Polygon becomes a one-part MultiPolygon by prefixing the multi header.
    staged = geoms[idx]
    wkbs = shapely.to_wkb(staged, output_dimension=2, byte_order=1)
    single = (shapely.get_type_id(staged) == 3).tolist()
    report.idx = idx.tolist()
    report.wkbs = [_MULTI_OF_ONE + w if s else w for w, s in zip(wkbs, single, strict=True)]
    if len(idx):  # an empty envelope (nothing staged) matches no stored unit
        report.extent = [float(v) for v in shapely.total_bounds(staged)]
    return report


def _inside_city(report: GeometryReport, geoms: np.ndarray, ok: np.ndarray, city) -> None:
    shapely.prepare(city)
    inside = np.ones(len(geoms), dtype=bool)
    inside[ok] = shapely.covers(city, geoms[ok])  # the prepared geometry must come first
    for i in np.flatnonzero(ok & ~inside):
        outside = coords.area_m2(shapely.difference(geoms[i], city))
        if outside > OUTSIDE_CITY_TOLERANCE_M2:
            report.problems.append((int(i), "outside", {"outside_area_m2": round(outside, 1)}))


def _overlaps_in_file(report: GeometryReport, geoms: np.ndarray, idx: np.ndarray) -> None:
    left, right = _interior_pairs(geoms, idx)
    if not len(left):
        return
    for a, b, piece in zip(left, right, shapely.intersection(geoms[left], geoms[right]), strict=True):
        area = coords.area_m2(piece)
        if area > OVERLAP_TOLERANCE_M2:
            details = {"other": int(a), "area_m2": round(area, 1), "overlap": json.loads(shapely.to_geojson(piece))}
            report.problems.append((int(b), "overlap", details))


def _interior_pairs(geoms: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (a < b) of features among geoms[idx] whose interiors meet in 2D (the overlap candidates)."""
    if len(idx) < 2:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    tree = shapely.STRtree(geoms[idx])
    left, right = tree.query(geoms[idx])  # envelopes only: the exact test follows
    keep = left < right
    left, right = left[keep], right[keep]
    # Interiors can only meet where the envelopes share an area: pairs whose envelopes merely
    # touch (neighbours along a north-south or east-west line, as in a grid) are settled here
    # without the exact relate, which costs a few microseconds a pair.
    bounds = shapely.bounds(geoms[idx])
    width = np.minimum(bounds[left, 2], bounds[right, 2]) - np.maximum(bounds[left, 0], bounds[right, 0])
    height = np.minimum(bounds[left, 3], bounds[right, 3]) - np.maximum(bounds[left, 1], bounds[right, 1])
    keep = (width > 0) & (height > 0)
    left, right = idx[left[keep]], idx[right[keep]]
    if len(left):
        inter = shapely.relate_pattern(geoms[left], geoms[right], "2********")
        left, right = left[inter], right[inter]
    return left, right
