"""Reads of the grid core. Each takes the acting user where jurisdiction applies."""

from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass

import psycopg
from django.contrib.gis.geos import Point
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connection, connections
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from .errors import InvalidInput, NotFound
from .jurisdiction import user_scope
from .models import AdminArea, Duty, GridAssignment, GridCell, User


def admin_areas(*, level: str | None = None, parent_code: str | None = None) -> QuerySet[AdminArea]:
    """Administrative boundaries: public reference geography, the same for every user."""
    qs = AdminArea.objects.select_related("parent")
    if level is not None:
        qs = qs.filter(level=level)
    if parent_code:
        qs = qs.filter(parent__code=parent_code)
    return qs


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


# One server-binding cursor per database connection (Django keeps one connection per thread).
_cursors: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _server_cursor(raw) -> psycopg.Cursor:
    cursor = _cursors.get(raw)
    if cursor is None or cursor.closed:
        cursor = _cursors[raw] = psycopg.Cursor(raw)
    return cursor


def prepared_cursor() -> psycopg.Cursor:
    """The server-binding cursor of this thread's database connection, for hot statements
    that are run with `execute(sql, params, prepare=True)`.

    It skips Django's cursor wrapper, so it does what that wrapper would do first: the
    once-per-request health check (a restarted database costs a reconnect, not a 500). Wrap
    the call in `connection.wrap_database_errors` so errors arrive as Django's exceptions.
    Read-only statements go through `prepared_read`, which saves that check's round trip.
    """
    db = connections[DEFAULT_DB_ALIAS]
    db.close_if_health_check_failed()
    db.ensure_connection()
    return _server_cursor(db.connection)


def prepared_read(sql: str, params) -> psycopg.Cursor:
    """Run a read-only hot query as a prepared statement; return the cursor to fetch from.

    The first query of a request on a reused connection is its own health check: where
    Django would send SELECT 1 first, this sends the query, and if the connection turns out
    to be dead (database restarted, idle connection dropped) it reconnects and runs the query
    again, which a read may do. So a restart still costs a reconnect, not a 500, and every
    request saves a round trip.
    """
    db = connections[DEFAULT_DB_ALIAS]
    # A read may always be redone on a fresh connection, except inside a transaction (which
    # the lost connection took with it) or behind a pool (which replaces connections itself).
    may_redo = not db.in_atomic_block and not getattr(db, "pool", None)
    check = db.connection is not None and db.health_check_enabled and not db.health_check_done and may_redo
    db.ensure_connection()
    try:
        with db.wrap_database_errors:
            cursor = _server_cursor(db.connection)
            cursor.execute(sql, params, prepare=True)
    except (OperationalError, InterfaceError):
        raw = db.connection
        if not may_redo or raw is None or not (raw.closed or raw.broken):
            raise
        db.close()
        db.ensure_connection()
        with db.wrap_database_errors:
            cursor = _server_cursor(db.connection)
            cursor.execute(sql, params, prepare=True)
    if check:
        db.health_check_done = True
    return cursor


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


@functools.cache
def _token_user_sql() -> tuple[str, tuple[str, ...]]:
    """The token look-up of DRF's TokenAuthentication, with the user's columns from the model."""
    qn = connection.ops.quote_name
    fields = User._meta.concrete_fields
    token = Token._meta
    user_fk = token.get_field("user")
    sql = (
        f"SELECT t.{qn(token.get_field('created').column)}, {', '.join('u.' + qn(f.column) for f in fields)}"
        f"  FROM {qn(token.db_table)} t JOIN {qn(User._meta.db_table)} u ON u.{qn(User._meta.pk.column)} = "
        f"t.{qn(user_fk.column)} WHERE t.{qn(token.pk.column)} = %s"
    )
    return sql, tuple(f.attname for f in fields)


def token_user(key: str):
    """Return (user, token) for an API token key, or None when no token has that key.

    What DRF's `TokenAuthentication` looks up on every API request (`select_related("user")`),
    as one prepared statement: building the ORM query and its join cost more than running it.
    Active or not is the caller's decision, as in DRF.
    """
    if not isinstance(key, str) or "\x00" in key:  # PostgreSQL text cannot hold NUL: no such token
        return None
    sql, names = _token_user_sql()
    row = prepared_read(sql, (key,)).fetchone()
    if row is None:
        return None
    user = User.from_db(DEFAULT_DB_ALIAS, names, row[1:])
    token = Token.from_db(DEFAULT_DB_ALIAS, ("key", "user_id", "created"), (key, user.pk, row[0]))
    token.user = user
    return user, token
