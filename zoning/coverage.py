"""The city's coverage by control units: what an edit leaves uncovered, what a new shape takes.

Control units tile the city: every place lies in exactly one unit (no overlap is enforced on
every save, zoning/geometry.py). Two questions follow from that, both answered in PostGIS:

- `uncovered(before)`: after an edit, the part of the edited units' former shapes that no unit
  covers any more: the gap the edit opened (a hole cut, a boundary pulled back, a unit deleted).
  Gaps the city had before are not counted: they are not this edit's doing.
- `carve_plan(shape)`: the units a new (or grown) shape overlaps, with the area it takes from
  each and what is left of them, so that the shape can be carved out of its neighbours.

Slivers below `OVERLAP_TOLERANCE_M2` (1 m², numerical noise along shared boundaries) count as
nothing in both.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection

from .import_geometry import OVERLAP_TOLERANCE_M2


@dataclass(frozen=True)
class Gap:
    """Area (m², on the ellipsoid) no unit covers, and its shape as GeoJSON (WGS84) if any."""

    area_m2: float
    geometry: dict | None

    @property
    def opened(self) -> bool:
        return self.area_m2 > OVERLAP_TOLERANCE_M2


NO_GAP = Gap(0.0, None)


@dataclass(frozen=True)
class Carve:
    """A unit a shape overlaps: what the shape takes from it and what remains (None: nothing)."""

    code: str
    name: str
    version: int
    area_taken_m2: float
    remainder: GEOSGeometry | None


# Raw SQL: unions and differences over the units around the edit, in one statement; the parts
# of the result below the tolerance are dropped before the area is measured.
_UNCOVERED_SQL = """
    WITH before AS (SELECT ST_Union(ST_GeomFromEWKB(w)) AS g FROM unnest(%(before)s::bytea[]) AS w),
    now AS (SELECT ST_Union(u.geom) AS g FROM zoning_controlunit u, before b WHERE ST_Intersects(u.geom, b.g)),
    gap AS (SELECT CASE WHEN now.g IS NULL THEN b.g ELSE ST_Difference(b.g, now.g) END AS g FROM before b, now),
    parts AS (SELECT p.geom AS g FROM gap, ST_Dump(ST_CollectionExtract(gap.g, 3)) AS p
               WHERE ST_Area(p.geom::geography) > %(tol)s)
    SELECT ST_Area(ST_Collect(g)::geography), ST_AsGeoJSON(ST_Collect(g), 7) FROM parts
"""


def uncovered(before: Sequence[GEOSGeometry]) -> Gap:
    """The part of `before` (the shapes the edited units had) that no control unit covers now."""
    if not before:
        return NO_GAP
    with connection.cursor() as cursor:
        cursor.execute(_UNCOVERED_SQL, {"before": [bytes(g.ewkb) for g in before], "tol": OVERLAP_TOLERANCE_M2})
        area, shape = cursor.fetchone()
    if not area:
        return NO_GAP
    return Gap(float(area), json.loads(shape))


# Raw SQL: the intersection and the difference with each overlapping unit in one pass, locked
# for the edit that follows. The remainder keeps its polygons above the tolerance only.
_CARVE_SQL = """
    SELECT u.code, u.name, u.version, ST_Area(ST_Intersection(u.geom, s.g)::geography),
           (SELECT ST_AsEWKB(ST_Multi(ST_Collect(p.geom)))
              FROM ST_Dump(ST_CollectionExtract(ST_Difference(u.geom, s.g), 3)) AS p
             WHERE ST_Area(p.geom::geography) > %(tol)s)
      FROM zoning_controlunit u, (SELECT ST_GeomFromEWKB(%(g)s) AS g) s
     WHERE ST_Intersects(u.geom, s.g) AND u.code <> %(exclude)s
     ORDER BY u.code {lock}
"""


def carve_plan(shape: GEOSGeometry, *, exclude_code: str | None = None, lock: bool = False) -> list[Carve]:
    """The units `shape` overlaps (beyond the tolerance), other than `exclude_code`, in code order.

    `lock` takes a row lock on each of them (FOR UPDATE), for an edit in the same transaction.
    """
    sql = _CARVE_SQL.format(lock="FOR UPDATE OF u" if lock else "")
    with connection.cursor() as cursor:
        cursor.execute(sql, {"g": bytes(shape.ewkb), "exclude": exclude_code or "", "tol": OVERLAP_TOLERANCE_M2})
        rows = cursor.fetchall()
    return [
        Carve(
            code=code,
            name=name,
            version=version,
            area_taken_m2=float(taken),
            remainder=GEOSGeometry(memoryview(rest), srid=settings.GRIDGOV_SRID) if rest else None,
        )
        for code, name, version, taken, rest in rows
        if taken > OVERLAP_TOLERANCE_M2  # neighbours along a shared edge only
    ]
