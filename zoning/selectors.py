"""Reads of the zoning app: which zones cover a place (now or as of a date), lists, history.

Control units and zones are published planning data (三线一单 results are public), so the
lists and the point/polygon lookups are open to everyone; version history, which names the
people who changed a unit, needs a signed-in account.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from django.contrib.gis.geos import GEOSGeometry
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.dates import parse_moment
from gridgov.db.prepared import prepared_read
from gridgov.errors import NotFound
from gridgov.models import bbox_polygon

from .models import ControlUnit, Layer, Zone, ZoningVersion


@dataclass(frozen=True)
class ZoneHit:
    code: str  # unit/zone code, e.g. ZH33010610001
    name: str
    layer: str  # "red_line" | "control_unit" | "water" | "air" | "soil" | "resource"
    category: str | None  # "priority" | "key" | "general" for control units, else None


# Raw SQL: one round trip over both live tables (or the version table for as-of), with the
# spatial predicate on the GiST-indexed column. The ORM would need two queries and a union.
_LIVE_SQL = """
    SELECT code, name, 'control_unit' AS layer, category FROM zoning_controlunit WHERE {pred}
    UNION ALL
    SELECT code, name, layer, NULL FROM zoning_zone WHERE {pred}
    ORDER BY layer, code
"""
_ASOF_SQL = """
    SELECT code, name, layer, NULLIF(category, '') FROM zoning_zoningversion
     WHERE valid_from <= %(as_of)s AND (valid_to IS NULL OR valid_to > %(as_of)s)
       AND action <> 'delete' AND {pred}
     ORDER BY layer, code
"""


def _hits(geom: GEOSGeometry, predicate: str, as_of: dt.datetime | None) -> list[ZoneHit]:
    if geom.srid not in (None, 4326):
        geom = geom.transform(4326, clone=True)
    pred = f"{predicate}(geom, ST_GeomFromEWKB(%(g)s))"
    params = {"g": bytes(geom.ewkb) if geom.srid else bytes(GEOSGeometry(geom.wkt, srid=4326).ewkb)}
    if as_of is None:
        sql = _LIVE_SQL.format(pred=pred)
    else:
        if timezone.is_naive(as_of):
            as_of = timezone.make_aware(as_of)
        sql = _ASOF_SQL.format(pred=pred)
        params["as_of"] = as_of
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [ZoneHit(code=r[0], name=r[1], layer=r[2], category=r[3]) for r in cursor.fetchall()]


def zones_covering(point, *, as_of: dt.datetime | None = None) -> list[ZoneHit]:
    """Zones whose geometry covers the storage-SRID point, as they were at `as_of` (default now)."""
    return _hits(point, "ST_Covers", as_of)


# The same live lookup for a longitude/latitude, prepared once per connection (as locate is):
# every report asks it, and planning the union cost more than running it.
_LIVE_AT_LONLAT_SQL = _LIVE_SQL.format(
    pred="ST_Covers(geom, ST_SetSRID(ST_MakePoint(%(x)s::float8, %(y)s::float8), 4326))"
)


def zones_covering_lonlat(lon: float, lat: float) -> list[ZoneHit]:
    """Zones covering a WGS84 longitude/latitude now: `zones_covering` for hot paths."""
    rows = prepared_read(_LIVE_AT_LONLAT_SQL, {"x": lon, "y": lat}).fetchall()
    return [ZoneHit(code=r[0], name=r[1], layer=r[2], category=r[3]) for r in rows]


def zones_intersecting(geom, *, as_of: dt.datetime | None = None) -> list[ZoneHit]:
    """Zones whose geometry intersects the storage-SRID geometry, as they were at `as_of`."""
    return _hits(geom, "ST_Intersects", as_of)


def parse_as_of(value: str | None, *, field: str = "as_of") -> dt.datetime | None:
    """Parse YYYY-MM-DD (end of that day, local time) or an ISO datetime; None if absent."""
    if not value:
        return None
    when, bare_date = parse_moment(value, field=field)
    return when.replace(hour=23, minute=59, second=59, microsecond=999999) if bare_date else when


def units(
    *,
    category: str | None = None,
    district: str | None = None,
    bbox: tuple | None = None,
    as_of: dt.datetime | None = None,
) -> QuerySet:
    """Control units now (ControlUnit rows) or as of a moment (ZoningVersion rows).

    The filters arrive validated (zoning.inputs.UnitFilterSerializer).
    """
    if as_of is None:
        qs = ControlUnit.objects.select_related("district")
        if district:
            qs = qs.filter(code__startswith=f"ZH{district}")
    else:
        qs = ZoningVersion.objects.filter(layer=Layer.CONTROL_UNIT, valid_from__lte=as_of).exclude(action="delete")
        qs = qs.exclude(valid_to__lte=as_of)
        if district:
            qs = qs.filter(code__startswith=f"ZH{district}")
    if category:
        qs = qs.filter(category=category)
    if bbox:
        qs = qs.filter(geom__intersects=bbox_polygon(bbox))
    return qs.order_by("code")


def zones(*, layer: str | None = None, bbox: tuple | None = None) -> QuerySet:
    """Red-line areas and element zones, of one layer and in a box if asked."""
    qs = Zone.objects.all()
    if layer:
        qs = qs.filter(layer=layer)
    if bbox:
        qs = qs.filter(geom__intersects=bbox_polygon(bbox))
    return qs


def unit_get(code: str) -> ControlUnit:
    unit = ControlUnit.objects.select_related("district").filter(code=code).first()
    if unit is None:
        raise NotFound(_("管控单元 %(code)s 不存在。") % {"code": code}, code="unit_not_found", field="code")
    return unit


def feature_history(*, user, code: str) -> list[dict]:
    """All versions of a unit or zone, oldest first, each with what it changed.

    The change is computed against the previous version: area added and removed (m², on the
    geography) and the attributes whose values differ. Times are local (settings.TIME_ZONE).
    """
    if user is None or not user.is_authenticated:
        raise NotFound(_("管控单元 %(code)s 不存在。") % {"code": code}, code="unit_not_found", field="code")
    # Raw SQL for the geometric differences between consecutive versions in one query.
    sql = """
        SELECT v.id, v.version, v.action, v.reason, v.author_name, v.created_at, v.valid_from, v.valid_to,
               v.name, v.category, v.layer, v.attributes, p.attributes,
               ST_Area(ST_Transform(v.geom, 4326)::geography),
               CASE WHEN p.id IS NULL THEN ST_Area(v.geom::geography)
                    ELSE ST_Area(ST_Difference(v.geom, p.geom)::geography) END,
               CASE WHEN p.id IS NULL THEN 0 ELSE ST_Area(ST_Difference(p.geom, v.geom)::geography) END,
               NOT ST_Equals(v.geom, COALESCE(p.geom, v.geom)) OR p.id IS NULL
          FROM zoning_zoningversion v
          LEFT JOIN zoning_zoningversion p ON p.layer = v.layer AND p.code = v.code AND p.version = v.version - 1
         WHERE v.code = %s
         ORDER BY v.version
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [code])
        rows = cursor.fetchall()
    if not rows:
        raise NotFound(_("管控单元 %(code)s 不存在。") % {"code": code}, code="unit_not_found", field="code")
    out = []
    for r in rows:
        attrs, prev = _json(r[11]) or {}, _json(r[12])
        changed = {}
        if prev is not None:
            for key in sorted(set(attrs) | set(prev)):
                if attrs.get(key) != prev.get(key):
                    changed[key] = {"before": prev.get(key), "after": attrs.get(key)}
        out.append(
            {
                "version": r[1],
                "action": r[2],
                "reason": r[3],
                "author": r[4],
                # Local time (Asia/Shanghai, with its offset): the page shows the clock time as it is.
                "created_at": timezone.localtime(r[5]).isoformat(),
                "valid_from": timezone.localtime(r[6]).isoformat(),
                "valid_to": timezone.localtime(r[7]).isoformat() if r[7] else None,
                "name": r[8],
                "category": r[9] or None,
                "layer": r[10],
                "attributes": attrs,
                "area_m2": round(r[13], 1),
                "changes": {
                    "geometry_changed": bool(r[16]),
                    "area_added_m2": round(r[14] or 0.0, 1),
                    "area_removed_m2": round(r[15] or 0.0, 1),
                    "attributes": changed,
                },
            }
        )
    return out


def _json(value):
    # Raw cursors hand jsonb back as text (Django registers its own loader).
    return json.loads(value) if isinstance(value, str) else value


def version_get(*, user, code: str, version: int) -> ZoningVersion:
    """One version of a unit (signed-in users: versions name who changed the unit)."""
    row = ZoningVersion.objects.filter(code=code, version=version).first() if user.is_authenticated else None
    if row is None:
        raise NotFound(
            _("%(code)s 没有第 %(version)s 版。") % {"code": code, "version": version},
            code="version_not_found",
            field="version",
        )
    return row
