"""Reads of the grid core. Each takes the acting user where jurisdiction applies."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.contrib.gis.geos import Point
from django.db import connection
from django.db.models import QuerySet

from .errors import InvalidInput, NotFound
from .jurisdiction import user_scope
from .models import AdminArea, AreaLevel, GridCell


def admin_areas(*, level: str | None = None, parent_code: str | None = None) -> QuerySet[AdminArea]:
    """Administrative boundaries: public reference geography, the same for every user."""
    qs = AdminArea.objects.select_related("parent")
    if level is not None:
        if level not in AreaLevel.values:
            raise InvalidInput(f"'level' must be one of {', '.join(AreaLevel.values)}, got {level[:20]!r}", field="level")
        qs = qs.filter(level=level)
    if parent_code:
        qs = qs.filter(parent__code=parent_code)
    return qs


def grid_cells_visible(*, user) -> QuerySet[GridCell]:
    """Grid cells whose township lies in the user's scope."""
    return user_scope(user).filter(GridCell.objects.all(), district=None, township="township")


def grid_cell_get(*, user, code: str) -> GridCell:
    cell = grid_cells_visible(user=user).select_related("township__parent").prefetch_related("assignments__user").filter(code=code).first()
    if cell is None:
        raise NotFound(f"网格 {code[:20]} 不存在 / grid cell not found", field="code")
    return cell


@dataclass(frozen=True)
class Location:
    cell_id: int
    cell_code: str
    township_code: str
    township_name: str
    district_code: str
    district_name: str
    officers: list[dict] = field(default_factory=list)


# Raw SQL because one round trip matters here: the subdivided parts table answers the
# point-in-polygon test on few vertices, and officers come back aggregated in the same query.
# A point on an edge shared by two cells is covered by both; the lowest code wins, always.
_LOCATE_SQL = """
SELECT c.id, c.code, t.code, t.name, d.code, d.name,
       (SELECT coalesce(json_agg(json_build_object(
                   'username', u.username,
                   'name', coalesce(nullif(u.first_name, ''), u.username),
                   'duty', a.duty,
                   'phone', u.phone) ORDER BY a.duty, u.username), '[]')::text
          FROM gridgov_gridassignment a JOIN gridgov_user u ON u.id = a.user_id
         WHERE a.cell_id = c.id)
  FROM gridgov_gridcellpart p
  JOIN gridgov_gridcell c ON c.id = p.cell_id
  JOIN gridgov_adminarea t ON t.id = c.township_id
  JOIN gridgov_adminarea d ON d.id = t.parent_id
 WHERE ST_Covers(p.geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))
 ORDER BY c.code
 LIMIT 1
"""


def locate(point: Point) -> Location:
    """Return the grid cell, township and district covering a storage-SRID point."""
    with connection.cursor() as cursor:
        cursor.execute(_LOCATE_SQL, [point.x, point.y])
        row = cursor.fetchone()
    if row is None:
        raise InvalidInput(
            f"位置 (lat={point.y:.6f}, lon={point.x:.6f}) 不在杭州市网格范围内 / "
            "the point given by 'lat' and 'lon' is outside every Hangzhou grid cell",
            field="lat",
        )
    return Location(
        cell_id=row[0],
        cell_code=row[1],
        township_code=row[2],
        township_name=row[3],
        district_code=row[4],
        district_name=row[5],
        officers=json.loads(row[6]),
    )
