"""The SQL of the OGC resources: a page of features as GeoJSON text assembled by PostGIS.

Raw SQL because each feature comes out of PostgreSQL as finished GeoJSON text (the geometry's
`ST_AsGeoJSON` spliced in as text, never parsed and re-encoded in Python), with the optional
reprojection, the spatial filter (`&&` on the GiST index, then `ST_Intersects` on the geometry)
and the CQL2 filter in one statement. Identifiers come from the collection declarations; every
value is bound.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import connection

from gridgov.jurisdiction import user_scope
from gridgov.selectors import prepared_read

from .params import EPSG4326, EPSG4490

if TYPE_CHECKING:
    from .params import ItemsQuery
    from .registry import Collection

# Where Hangzhou lies, for a collection with no rows yet.
CITY_BBOX = [118.34, 29.18, 120.72, 30.57]
EXTENT_TTL = 60.0  # seconds an extent is reused: edits move it rarely and only a little
_extents: dict[str, tuple[float, list[float], str | None]] = {}
GEOJSON_DIGITS = 7  # 1e-7° ≈ 1 cm


def _geometry_sql(geometry: str, crs: str) -> str:
    # EPSG:4490 and EPSG:4326 are latitude-first by definition; CRS84 is longitude-first.
    if crs == EPSG4490:
        return f"ST_FlipCoordinates(ST_Transform({geometry}, 4490))"
    if crs == EPSG4326:
        return f"ST_FlipCoordinates({geometry})"
    return geometry


@dataclass(frozen=True)
class Statement:
    source: str
    where: str
    params: dict


def statement(c: Collection, q: ItemsQuery | None, user, *, fid: str | None = None) -> Statement:
    """FROM and WHERE of the rows a request selects, with their parameters."""
    params: dict = {}
    where = [c.where]
    source = c.source
    interval = q.interval if q is not None else None
    if interval is not None:
        source = c.history.source
        params["dt_start"], params["dt_end"] = interval
    if c.scope is not None:
        sql, scope_params = c.scope.sql(user_scope(user))
        where.append(sql)
        params.update(scope_params)
    if fid is not None:
        where.append(f"{c.id_sql} = %(fid)s::text")
        params["fid"] = fid
    if q is not None and q.bbox is not None:
        params["bx0"], params["by0"], params["bx1"], params["by1"] = q.bbox
        box = "ST_MakeEnvelope(%(bx0)s, %(by0)s, %(bx1)s, %(by1)s, 4326)"
        # A box inside the query box intersects it; only the others need ST_Intersects.
        where.append(f"{c.geometry} && {box} AND ({c.geometry} @ {box} OR ST_Intersects({c.geometry}, {box}))")
    if q is not None and q.ids is not None:
        where.append(f"{c.id_sql} = ANY(%(ids)s::text[])")
        params["ids"] = list(q.ids)
    if q is not None:
        by_name = {f.name: f for f in c.fields}
        for i, (name, value) in enumerate(q.equals):
            where.append(f"{by_name[name].sql} = %(eq{i})s")
            params[f"eq{i}"] = value
        if q.filter is not None:
            where.append(q.filter.sql)
            params.update(q.filter.params)
    return Statement(source, " AND ".join(f"({w})" for w in where), params)


def _selected(c: Collection, q: ItemsQuery, user):
    fields = c.fields_for(user)
    if q.properties is None:
        return fields
    return tuple(f for f in fields if f.name in q.properties)


def _rows_sql(c: Collection, q: ItemsQuery, user, st: Statement, fields) -> tuple[str, str]:
    """The page's rows with plain columns (_id, _g, _p0…, _s0…) and the ORDER BY over them.

    Cheap columns only: PostgreSQL computes the select list of every row that OFFSET skips,
    so GeoJSON and reprojection are computed by the caller's outer query on the page alone.
    """
    by_name = {f.name: f for f in c.fields}
    cols = [f"{c.id_sql} AS _id", f"{c.geometry} AS _g"]
    cols += [f"{f.sql} AS _p{i}" for i, f in enumerate(fields)]
    order, outer = [], []
    for j, (name, desc) in enumerate(q.sortby):
        cols.append(f"{by_name[name].sql} AS _s{j}")
        direction = "DESC" if desc else "ASC"
        order.append(f"{by_name[name].sql} {direction} NULLS LAST")
        outer.append(f"_s{j} {direction} NULLS LAST")
    sql = (
        f"SELECT {', '.join(cols)} FROM {st.source} WHERE {st.where} "
        f"ORDER BY {', '.join([*order, c.id_sql])} LIMIT %(limit)s OFFSET %(offset)s"
    )
    return sql, ", ".join([*outer, "_id"])


def _features_sql(c: Collection, q: ItemsQuery, user, st: Statement) -> str:
    fields = _selected(c, q, user)
    rows, order = _rows_sql(c, q, user, st, fields)
    props = ", ".join(f"'{f.name}', s._p{i}" for i, f in enumerate(fields))
    feature = (
        """'{"type":"Feature","id":' || to_json(s._id)::text"""
        f""" || ',"geometry":' || COALESCE(ST_AsGeoJSON({_geometry_sql("s._g", q.crs)}, {GEOJSON_DIGITS}), 'null')"""
        f""" || ',"properties":' || json_build_object({props})::text || '}}'"""
    )
    return f"SELECT {feature} FROM ({rows}) s ORDER BY {order}"


def page(c: Collection, q: ItemsQuery, user) -> tuple[list[str], int]:
    """GeoJSON text of each feature of the page, and the number of features matched."""
    # Prepared (server-side binding, as asyncpg does for tipg): a PostGIS page is planned in
    # more time than it runs, and clients ask the same shapes of query again and again.
    st = statement(c, q, user)
    sql = _features_sql(c, q, user, st)
    rows = [r[0] for r in prepared_read(sql, {**st.params, "limit": q.limit, "offset": q.offset}).fetchall()]
    if q.offset == 0 and len(rows) < q.limit:
        return rows, len(rows)  # the whole answer fits in the page: no count needed
    return rows, prepared_read(f"SELECT count(*) FROM {st.source} WHERE {st.where}", st.params).fetchone()[0]


def feature(c: Collection, fid: str, q: ItemsQuery, user) -> str | None:
    """One feature's GeoJSON text; prepared, since clients fetch many items one by one."""
    st = statement(c, q, user, fid=fid)
    row = prepared_read(_features_sql(c, q, user, st), {**st.params, "limit": 1, "offset": 0}).fetchone()
    return row[0] if row else None


def table_rows(c: Collection, q: ItemsQuery, user) -> tuple[list[str], list[tuple]]:
    """A page as rows for CSV: id, the selected properties, the geometry as WKT."""
    st = statement(c, q, user)
    fields = _selected(c, q, user)
    rows, order = _rows_sql(c, q, user, st, fields)
    cols = ", ".join(["s._id", *(f"s._p{i}" for i in range(len(fields)))])
    wkt = f"ST_AsText({_geometry_sql('s._g', q.crs)}, {GEOJSON_DIGITS})"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {cols}, {wkt} FROM ({rows}) s ORDER BY {order}",
            {**st.params, "limit": q.limit, "offset": q.offset},
        )
        return ["id", *(f.name for f in fields), "geometry"], cursor.fetchall()


def extent(c: Collection) -> list[float]:
    return _extent(c)[0]


def temporal_start(c: Collection) -> str | None:
    return _extent(c)[1]


def _extent(c: Collection) -> tuple[list[float], str | None]:
    """Lon/lat bounds of every row (and the start of its history), reused for EXTENT_TTL seconds."""
    cached = _extents.get(c.id)
    if cached is not None and time.monotonic() - cached[0] < EXTENT_TTL:
        return cached[1], cached[2]
    first = f"({c.history.first_moment_sql})" if c.history else "NULL::timestamptz"
    sql = (
        f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), {first} "
        f"FROM (SELECT ST_Extent({c.geometry}) AS e FROM {c.source} WHERE {c.where}) s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    bbox = [round(v, 6) for v in row[:4]] if row[0] is not None else CITY_BBOX
    start = row[4].isoformat() if row[4] is not None else None
    _extents[c.id] = (time.monotonic(), bbox, start)
    return bbox, start
