"""Reads of the grid core. Each takes the acting user where jurisdiction applies."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.gis.geos import Point
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from .db.prepared import prepared_read
from .errors import InvalidInput, NotFound
from .jurisdiction import user_scope
from .models import AdminArea, AreaLevel, Duty, GridAssignment, GridCell


def admin_areas(*, level: str | None = None, parent_code: str | None = None) -> QuerySet[AdminArea]:
    """Administrative boundaries: public reference geography, the same for every user."""
    qs = AdminArea.objects.select_related("parent")
    if level is not None:
        qs = qs.filter(level=level)
    if parent_code:
        qs = qs.filter(parent__code=parent_code)
    return qs


def district_choices() -> QuerySet[AdminArea]:
    """The city's districts by code, names only (the district pickers of lists and forms)."""
    return AdminArea.objects.filter(level=AreaLevel.DISTRICT).order_by("code").only("code", "name", "level")


def grid_cells_visible(*, user) -> QuerySet[GridCell]:
    """Grid cells whose township lies in the user's scope."""
    return user_scope(user).filter(GridCell.objects.all(), district=None, township="township")


def grid_cell_get(*, user, code: str) -> GridCell:
    cell = (
        grid_cells_visible(user=user)
        .select_related("township__parent")
        .prefetch_related("assignments__user")
        .filter(code=code)
        .first()
    )
    if cell is None:
        raise NotFound(_("网格不存在。"), code="not_found", field="code")
    return cell


@dataclass(frozen=True)
class Location:
    cell_id: int
    cell_code: str
    township_code: str
    township_name: str
    district_code: str
    district_name: str


# The hot path of routing every report and every map click, so it is written for speed:
# - the subdivided parts table answers the point-in-polygon test on few vertices (MapIt's
#   GeometrySubdivided) and carries the codes and names of the answer, so it is one table;
# - cells do not overlap, so a point strictly inside the first part found has its answer
#   and the index scan stops there (LIMIT 1). A point on an edge is covered by the parts on
#   both sides: only then do we look at every candidate, and the lowest cell code wins, so
#   the same edge point resolves the same way every time;
# - it runs on the raw psycopg connection as a server-side prepared statement, planned once
#   per connection: Django's client-side binding would re-plan it on every call, which costs
#   more than the lookup itself.
_COLUMNS = "cell_id, cell_code, township_code, township_name, district_code, district_name"
_LOCATE_SQL = f"""
WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(%s::float8, %s::float8), 4326) AS g)
SELECT {_COLUMNS}, ST_Contains(p.geom, pt.g)
  FROM gridgov_gridcellpart p, pt WHERE ST_Covers(p.geom, pt.g) LIMIT 1
"""
_LOCATE_ON_EDGE_SQL = f"""
WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(%s::float8, %s::float8), 4326) AS g)
SELECT {_COLUMNS}, true
  FROM gridgov_gridcellpart p, pt WHERE ST_Covers(p.geom, pt.g) ORDER BY cell_code LIMIT 1
"""


def locate(point: Point) -> Location:
    """Return the grid cell, township and district covering a storage-SRID point."""
    lon, lat = point.coords
    return locate_lonlat(lon, lat)


def locate_lonlat(lon: float, lat: float) -> Location:
    """Return the grid cell, township and district covering a WGS84 longitude/latitude.

    The form to call in hot loops: reading coordinates back out of a GEOS point costs a
    quarter of the lookup itself.
    """
    params = (lon, lat)
    row = prepared_read(_LOCATE_SQL, params).fetchone()
    if row is not None and not row[-1]:
        row = prepared_read(_LOCATE_ON_EDGE_SQL, params).fetchone()
    if row is None:
        raise InvalidInput(
            _("位置（纬度 %(lat).6f，经度 %(lon).6f）不在本市的网格范围内。") % {"lat": lat, "lon": lon},
            code="outside_grid",
            field="lat",
        )
    return Location(*row[:-1])


def cell_staff(*, cell_id: int) -> list[dict]:
    """The 网格长 first, then the 网格员 of a cell: name (never the login name; the duty's title
    for an account without one), duty and phone."""
    rows = GridAssignment.objects.filter(cell_id=cell_id).select_related("user").order_by("duty", "user__username")
    return [
        {"name": a.user.get_full_name() or str(Duty(a.duty).label), "duty": a.duty, "phone": a.user.phone} for a in rows
    ]
