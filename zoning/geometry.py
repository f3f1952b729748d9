"""Geometry of the zoning app: GeoJSON in at the edge, and the checks every save runs.

`parse_geojson` reads a GeoJSON geometry (or a Feature, or a FeatureCollection of one feature)
as a request carries it, checking its shape and counting its vertices before GEOS sees it, so
that a huge or malformed polygon costs a walk over at most `max_vertices` positions; the
serializer field in `zoning.inputs` turns its `GeoJSONProblem` into a message naming the
field. `to_storage` moves it from the CRS the client named to the storage SRID.

The checks (`check_geometry`: valid, inside the city, no overlap inside its layer) run in
PostGIS on the stored geometry's EWKB, with their tolerances.
"""

from __future__ import annotations

import json
import math
from typing import Any

import shapely
import shapely.errors
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import connection
from django.utils.translation import gettext as _

from gridgov import coords
from gridgov.errors import InvalidInput

from .import_geometry import OUTSIDE_CITY_TOLERANCE_M2, OVERLAP_TOLERANCE_M2
from .models import Layer

POLYGONAL = frozenset({"Polygon", "MultiPolygon"})
SITE_TYPES = frozenset({"Point", "Polygon", "MultiPolygon"})
# How deep the positions sit in `coordinates`, per geometry type.
_POSITION_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}


class GeoJSONProblem(ValueError):
    """What is wrong with a GeoJSON value: a code of `serializers.GeoJSONGeometryField`."""

    def __init__(self, code: str, **params: Any):
        super().__init__(code)
        self.code = code
        self.params = params


class GeometryInvalid(InvalidInput):
    kind = "invalid_geometry"


class OverlapError(InvalidInput):
    kind = "overlap"


def parse_geojson(value: Any, *, types: frozenset[str], max_vertices: int) -> shapely.Geometry:
    """A 2D shapely geometry of one of `types` from a GeoJSON value (in the client's CRS)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise GeoJSONProblem("not_json")
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    elif isinstance(value, dict) and value.get("type") == "FeatureCollection":
        features = value.get("features")
        if not isinstance(features, list) or len(features) != 1 or not isinstance(features[0], dict):
            raise GeoJSONProblem("one_feature")
        value = features[0].get("geometry")
    if not isinstance(value, dict) or value.get("type") not in _POSITION_DEPTH:
        raise GeoJSONProblem("not_geometry")
    gtype = value["type"]
    if gtype not in types:
        raise GeoJSONProblem("type", type=gtype)
    _check_positions(value.get("coordinates"), _POSITION_DEPTH[gtype], max_vertices)
    try:
        shape = shapely.from_geojson(json.dumps({"type": gtype, "coordinates": value["coordinates"]}))
    except shapely.errors.GEOSException:
        raise GeoJSONProblem("not_geometry")
    return shapely.force_2d(shape)


def _check_positions(coordinates: Any, depth: int, budget: int) -> None:
    """Nested lists down to `depth`, each position 2 or 3 finite numbers, at most `budget` of them."""
    seen = 0
    stack = [(coordinates, depth)]
    while stack:
        node, level = stack.pop()
        if not isinstance(node, list):
            raise GeoJSONProblem("not_geometry")
        if level:
            stack.extend((child, level - 1) for child in node)
            continue
        if not 2 <= len(node) <= 3 or not all(type(v) in (int, float) and math.isfinite(v) for v in node):
            raise GeoJSONProblem("position")
        seen += 1
        if seen > budget:
            raise GeoJSONProblem("too_many_vertices", limit=budget)


def to_storage(shape: shapely.Geometry, *, crs: str, multi: bool) -> GEOSGeometry:
    """The geometry in the storage SRID (a MultiPolygon if `multi` and it is polygonal)."""
    if crs != coords.CRS.WGS84:
        shape = coords.transform_geometry(shape, crs, coords.CRS.WGS84)
    geom = GEOSGeometry(memoryview(shapely.to_wkb(shape)), srid=settings.GRIDGOV_SRID)
    if multi and geom.geom_type == "Polygon":
        geom = MultiPolygon(geom, srid=geom.srid)
    return geom


def vertex_count(shape: shapely.Geometry) -> int:
    return int(shapely.get_num_coordinates(shape))


# --- the checks of a save ----------------------------------------------------------------------


def check_valid(geom: GEOSGeometry, *, label: str, field: str = "geometry") -> None:
    """Refuse an invalid geometry, saying where and why, and offering the ST_MakeValid repair."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT (d).valid, (d).reason, ST_AsGeoJSON((d).location, 7),
                      ST_AsGeoJSON(ST_Multi(ST_CollectionExtract(ST_MakeValid(g), 3)), 7)
                 FROM (SELECT g, ST_IsValidDetail(g) d FROM (SELECT ST_GeomFromEWKB(%s) g) a) b""",
            [bytes(geom.ewkb)],
        )
        valid, reason, location, repaired = cursor.fetchone()
    if valid:
        return
    loc = json.loads(location) if location else None
    where = f"（{loc['coordinates'][0]:.6f}, {loc['coordinates'][1]:.6f}）" if loc else ""
    raise GeometryInvalid(
        _("%(label)s的几何无效：%(reason)s%(where)s") % {"label": label, "reason": reason, "where": where},
        code="invalid_geometry",
        field=field,
        extra={"reason": reason, "location": loc, "repaired": json.loads(repaired) if repaired else None},
    )


def check_within_city(geom: GEOSGeometry, *, label: str, field: str = "geometry") -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT ST_CoveredBy(g, c.geom), ST_Area(ST_Difference(g, c.geom)::geography),
                      ST_AsGeoJSON(ST_Difference(g, c.geom), 7)
                 FROM gridgov_adminarea c, (SELECT ST_GeomFromEWKB(%s) g) a WHERE c.code = %s""",
            [bytes(geom.ewkb), settings.GRIDGOV_CITY_CODE],
        )
        row = cursor.fetchone()
    if row is None:
        raise InvalidInput(_("未加载市域边界，无法校验范围。"), code="city_missing", field=field)
    covered, outside, outside_geom = row
    if covered or (outside or 0) <= OUTSIDE_CITY_TOLERANCE_M2:
        return
    raise InvalidInput(
        _("%(label)s超出市域范围 %(area).0f 平方米。") % {"label": label, "area": outside},
        code="outside_city",
        field=field,
        extra={"outside_area_m2": round(outside, 1), "outside_geometry": json.loads(outside_geom)},
    )


def find_overlaps(geom: GEOSGeometry, *, layer: str, exclude_code: str | None = None) -> list[dict]:
    """Features of `layer` whose interiors overlap `geom`, with the overlap's area and shape."""
    if layer == Layer.CONTROL_UNIT:
        table, extra = "zoning_controlunit", ""
    else:
        table, extra = "zoning_zone", "AND layer = %(layer)s"
    # Raw SQL: the intersection is computed once per candidate and reused for area and shape.
    sql = f"""
        SELECT code, name, a, ST_AsGeoJSON(i, 7) FROM (
            SELECT code, name, ST_Area(ST_Intersection(geom, g)::geography) a, ST_Intersection(geom, g) i
              FROM {table}, (SELECT ST_GeomFromEWKB(%(g)s) g) s
             WHERE ST_Intersects(geom, g) AND code <> %(exclude)s {extra}
        ) o WHERE a > %(tol)s ORDER BY a DESC
    """
    with connection.cursor() as cursor:
        cursor.execute(
            sql, {"g": bytes(geom.ewkb), "exclude": exclude_code or "", "layer": layer, "tol": OVERLAP_TOLERANCE_M2}
        )
        return [
            {"code": r[0], "name": r[1], "area_m2": round(r[2], 1), "geometry": json.loads(r[3])}
            for r in cursor.fetchall()
        ]


def check_geometry(geom: GEOSGeometry, *, layer: str, label: str, exclude_code: str | None = None) -> None:
    """Valid, inside the city, and overlapping no other feature of its layer."""
    check_valid(geom, label=label)
    check_within_city(geom, label=label)
    overlaps = find_overlaps(geom, layer=layer, exclude_code=exclude_code)
    if overlaps:
        first = overlaps[0]
        raise OverlapError(
            _("%(label)s与%(name)s（%(code)s）重叠 %(area).0f 平方米，同一图层不得重叠。")
            % {"label": label, "name": first["name"], "code": first["code"], "area": first["area_m2"]},
            code="overlap",
            field="geometry",
            extra={"overlaps": overlaps},
        )
