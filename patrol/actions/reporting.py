"""Reporting a case: exactly once by client_uuid, routed to cell, township, district and unit.

The insert is one prepared statement (see `_REPORT_TAIL_SQL`): the case row, its audit row and
the duplicate suggestions; its priority rises inside a red line or priority control unit and its
deadline counts working days from now (`patrol.calendar`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections.abc import Sequence

from django.conf import settings
from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.geos import Point
from django.db import IntegrityError, connection, transaction
from django.db.models import JSONField
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.db.prepared import prepared_cursor
from gridgov.errors import Conflict, InvalidInput
from gridgov.selectors import locate_lonlat
from zoning import rules
from zoning.selectors import ZoneHit, zones_covering_lonlat

from ..calendar import add_working_days
from ..conf import setting
from ..models import PRIORITY_ORDER, Category, Issue, Priority, Source, Status
from ..reference import reference
from ..selectors import duplicate_window
from .photos import photos_for


def zones_at(point: Point) -> list[ZoneHit]:
    """The zoning units and zones covering a point now (the report hot path's prepared form)."""
    return zones_covering_lonlat(*point.coords)


def priority_for(category: Category, zones: Sequence[ZoneHit]) -> str:
    """The category's default priority, one step higher inside a red line or priority unit."""
    base = PRIORITY_ORDER.index(Priority(category.default_priority))
    return PRIORITY_ORDER[min(base + (1 if rules.is_sensitive(zones) else 0), len(PRIORITY_ORDER) - 1)].value


MAX_ACCURACY_M = 100_000


def _digest(
    *, reporter_id, lonlat: tuple[float, float], category: str, description: str, source: str, accuracy_m, photo_hashes
) -> str:
    canonical = json.dumps(
        {
            "reporter": reporter_id,
            "lon": round(lonlat[0], 7),
            "lat": round(lonlat[1], 7),
            "category": category,
            "description": description,
            "source": source,
            "accuracy_m": None if accuracy_m is None else round(float(accuracy_m), 2),
            "photos": sorted(h.lower() for h in photo_hashes),
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _resend(issue: Issue, digest: str) -> tuple[Issue, bool]:
    if issue.content_digest != digest:
        raise Conflict(_("该客户端编号已用于另一份内容不同的上报。"), code="client_uuid_reused", field="client_uuid")
    return issue, False


def issue_report(
    *,
    reporter,
    point,
    category: str,
    description: str,
    source: str = "patrol",
    client_uuid: uuid.UUID | None = None,
    accuracy_m: float | None = None,
    photo_hashes: Sequence[str] = (),
    crs_note: str = "",
    contact: dict | None = None,
) -> tuple[Issue, bool]:
    """Create (or, for an identical resend of client_uuid, return) a case; bool = created."""
    if source not in Source.values:
        raise InvalidInput(_("来源无效。"), code="invalid_choice", field="source")
    if point is None or getattr(point, "geom_type", None) != "Point":
        raise InvalidInput(_("请提供位置（纬度和经度）。"), code="required", field="lat")
    if point.srid != settings.GRIDGOV_SRID:
        point = point.transform(settings.GRIDGOV_SRID, clone=True)
    description = (description or "").strip()
    limit = setting("PATROL_DESCRIPTION_MAX_CHARS")
    if len(description) > limit:
        raise InvalidInput(_("问题描述不能超过 %(n)s 个字符。") % {"n": limit}, code="max_length", field="description")
    if accuracy_m is not None and not 0 <= accuracy_m <= MAX_ACCURACY_M:
        raise InvalidInput(
            _("定位精度应在 0 到 %(max)s 米之间。") % {"max": MAX_ACCURACY_M}, code="out_of_range", field="accuracy_m"
        )
    if client_uuid is None:
        client_uuid = uuid.uuid4()
    elif not isinstance(client_uuid, uuid.UUID):
        try:
            client_uuid = uuid.UUID(str(client_uuid))
        except ValueError:
            raise InvalidInput(_("客户端编号应为 UUID。"), code="invalid", field="client_uuid")
    reporter_id = reporter.pk if getattr(reporter, "is_authenticated", False) else None
    photo_hashes = [h.lower() for h in photo_hashes]
    lonlat = point.coords  # read once: every GEOS accessor is a round trip through ctypes
    # What the client sent: the digest tells an identical resend from a conflicting one.
    content = dict(
        lonlat=lonlat,
        category=category,
        description=description,
        source=source,
        accuracy_m=accuracy_m,
        photo_hashes=photo_hashes,
    )
    digest = _digest(reporter_id=reporter_id, **content)
    # Exactly once: the insert does nothing when the client_uuid exists (a resend, or a
    # concurrent first send that won), and the case is then answered from the existing row.
    # No look-up before the insert: first sends are the common case and pay one query less.
    try:
        issue = _issue_create(
            reporter=reporter,
            point=point,
            client_uuid=client_uuid,
            crs_note=crs_note,
            digest=digest,
            contact=contact or {},
            content=content,
        )
    except (InvalidInput, IntegrityError):
        # A resend whose content changed into something invalid is still a conflicting resend
        # (and an IntegrityError, on a unique key other than client_uuid, should not happen).
        existing = Issue.objects.filter(client_uuid=client_uuid).first()
        if existing is None:
            raise
        return _resend(existing, digest)
    if not getattr(issue, "_created", False):  # a concurrent identical send won: answer with its case
        existing = Issue.objects.filter(client_uuid=client_uuid).first()
        if existing is None:
            raise Conflict(_("客户端编号冲突，请重试。"), code="client_uuid_collision", field="client_uuid")
        return _resend(existing, digest)
    return issue, True


# What _issue_create sets itself, from the locate and zoning tables, the reference tables
# and the clock, rather than from the caller: full_clean skips these (a tenth of a report's
# time), the database's column types and constraints still hold them.
_CALLER_FIELDS = {"source", "description", "point", "accuracy_m", "crs_note", "contact"}
_SERVER_SET_FIELDS = [f.name for f in Issue._meta.fields if f.name not in _CALLER_FIELDS]


def _issue_create(
    *, reporter, point, client_uuid: uuid.UUID, crs_note: str, digest: str, contact: dict, content: dict
) -> Issue:
    """Route and insert a new case; raise IntegrityError-free: a lost client_uuid race returns
    the winner (via issue_report). Photos, if any, are linked in the same transaction.
    `content` is what the client sent (issue_report's digest input)."""
    lonlat, source, photo_hashes = content["lonlat"], content["source"], content["photo_hashes"]
    cat = reference.category(content["category"]) if isinstance(content["category"], str) else None
    if cat is None:
        raise InvalidInput(_("问题类别不存在。"), code="unknown_category", field="category")
    loc = locate_lonlat(*lonlat)  # InvalidInput naming lat/lon when outside every cell
    township_id, district_id = reference.township(loc.township_code)
    zones = zones_at(point)
    priority = priority_for(cat, zones)
    now = timezone.now()
    issue = Issue(
        client_uuid=client_uuid,
        content_digest=digest,
        source=source,
        category=cat,
        description=content["description"],
        point=point,
        accuracy_m=content["accuracy_m"],
        crs_note=crs_note[:64],
        reporter_id=reporter.pk if getattr(reporter, "is_authenticated", False) else None,
        contact=contact,
        grid_cell_id=loc.cell_id,
        grid_cell_code=loc.cell_code,
        township_id=township_id,
        district_id=district_id,
        zone_hits=[{"code": z.code, "name": z.name, "layer": z.layer, "category": z.category} for z in zones],
        responsible_unit_id=reference.dispatch_unit_id(
            category_code=cat.code, township_id=township_id, district_id=district_id
        ),
        status=Status.REPORTED,
        priority=priority,
        deadline=add_working_days(now, cat.days_for(priority)),
        reported_at=now,
    )
    # Field validation of what the caller gave; the CheckConstraints and unique keys are
    # enforced by the database, and validating them in Python would cost a query and a
    # savepoint each on the hot path.
    issue.full_clean(validate_constraints=False, validate_unique=False, exclude=_SERVER_SET_FIELDS)
    issue._district_code = loc.district_code  # for the response, without loading the district's polygon
    event_data = {"source": source, "priority": priority, "zones": [z.code for z in zones]}
    if not photo_hashes:
        # One statement, so atomic on its own (autocommit): no BEGIN/COMMIT round trips.
        return _issue_insert(issue=issue, lonlat=lonlat, photo_hashes=[], event_data=event_data)
    with transaction.atomic():
        photos = photos_for(photo_hashes, actor=reporter)
        issue = _issue_insert(
            issue=issue, lonlat=lonlat, photo_hashes=[p.sha256 for p in photos], event_data=event_data
        )
        if issue.pk and getattr(issue, "_created", False):
            issue.photos.add(*photos)
        return issue


# The report hot path in one statement (raw SQL on purpose, see bench/patrol_submit.py): the
# case row, its audit row and the duplicate suggestions, whose snapshot predates the new row.
# ON CONFLICT DO NOTHING turns a concurrent first send of the same client_uuid into "no row",
# answered by issue_report. It is prepared once per connection (server-side, as locate is):
# compiling Django's INSERT and planning the statement anew cost more than running it.
#
# A prepared statement keeps the plan it was first given, so the suggestions look up
# candidates by place only (the GiST index) and filter category, days and status on those:
# planned on a new, nearly empty table, a plan through the (category, reported_at) index
# would otherwise be kept and read every case of the category in the window, each report
# slower than the last.
_REPORT_TAIL_SQL = """
, ev AS (
    INSERT INTO patrol_issueevent (issue_id, action, from_status, to_status, actor_id, at, note, point,
                                   photo_hashes, data)
    SELECT i.id, 'report', '', 'reported', %s::bigint, %s::timestamptz, '', i.point, %s::varchar(64)[],
           %s::jsonb FROM i
    RETURNING 1
), near AS MATERIALIZED (
    SELECT d.id, d.status, d.reported_at, d.category, d.point
      FROM patrol_issue d
     WHERE ST_DWithin(d.point, ST_SetSRID(ST_MakePoint(%s::float8, %s::float8), 4326), %s::float8)
), dups AS (
    SELECT n.id, n.status, n.reported_at, ST_X(n.point) AS x, ST_Y(n.point) AS y
      FROM (SELECT * FROM near
             WHERE category = %s::varchar AND reported_at >= %s::timestamptz
               AND status NOT IN ('rejected', 'duplicate')
             ORDER BY reported_at DESC, id DESC
            OFFSET 0) AS n  -- newest first, then the exact distance only until LIMIT is met
     WHERE ST_DWithin(n.point::geography, ST_SetSRID(ST_MakePoint(%s::float8, %s::float8), 4326)::geography,
                      %s::float8)
     LIMIT %s::int
)
SELECT i.id, (SELECT count(*) FROM ev),
       (SELECT coalesce(json_agg(json_build_object('id', id, 'status', status, 'reported_at', reported_at,
                                                   'x', x, 'y', y) ORDER BY reported_at DESC, id DESC), '[]')
          FROM dups)::text
  FROM i
"""

# Field types whose Python value goes to the database as it is (what get_db_prep_save would
# hand over anyway); points go as two floats, other geometries as EWKB, JSON as text, naive
# datetimes and anything else through the field.
_AS_IS = {
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "FloatField",
    "ForeignKey",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "TextField",
    "UUIDField",
}


@functools.cache
def _report_statement() -> tuple[str, tuple]:
    """The report statement and, per case column, how to turn the field's value into its
    parameters: (field, convert or None for as-is, whether convert gives several).

    The columns come from the model, so a new field takes part without editing this; each
    placeholder is cast to the column's type, so the prepared statement has fixed types.
    """
    qn = connection.ops.quote_name
    columns, holders, converters = [], [], []
    for f in Issue._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(qn(f.column))
        if isinstance(f, GeometryField) and f.geom_type == "POINT" and f.dim == 2:
            # Two floats: cheaper to hand over than EWKB, which GEOS would have to write.
            holders.append(f"ST_SetSRID(ST_MakePoint(%s::float8, %s::float8), {f.srid})::{f.db_type(connection)}")
            converters.append((f, lambda v, f=f: (None, None) if v is None else _coords_in(v, f.srid), True))
        elif isinstance(f, GeometryField):
            holders.append(f"ST_GeomFromEWKB(%s::bytea)::{f.db_type(connection)}")
            converters.append((f, lambda v: None if v is None else bytes(v.ewkb), False))
        elif isinstance(f, JSONField):
            holders.append("%s::jsonb")
            converters.append((f, lambda v, enc=f.encoder: None if v is None else json.dumps(v, cls=enc), False))
        elif f.get_internal_type() == "DateTimeField":
            holders.append("%s::timestamptz")
            converters.append(
                (f, lambda v, f=f: v if v is None or v.tzinfo else f.get_db_prep_save(v, connection), False)
            )
        elif f.get_internal_type() in _AS_IS:
            holders.append(f"%s::{f.db_type(connection)}")
            converters.append((f, None, False))
        else:
            holders.append("%s")
            converters.append((f, lambda v, f=f: f.get_db_prep_save(v, connection), False))
    insert = (
        f"INSERT INTO {qn(Issue._meta.db_table)} ({', '.join(columns)}) VALUES ({', '.join(holders)}) "
        f"ON CONFLICT DO NOTHING RETURNING {qn(Issue._meta.pk.column)}, {qn(Issue._meta.get_field('point').column)}"
    )
    return "WITH i AS (" + insert + ")" + _REPORT_TAIL_SQL, tuple(converters)


def _coords_in(point: Point, srid: int) -> tuple[float, float]:
    return point.coords if point.srid in (srid, None) else point.transform(srid, clone=True).coords


def _issue_insert(*, issue: Issue, lonlat: tuple[float, float], photo_hashes: list[str], event_data: dict) -> Issue:
    sql, converters = _report_statement()
    params = []
    for f, convert, several in converters:
        value = f.pre_save(issue, add=True)  # auto_now etc., as Model.save() would
        if convert is None:
            params.append(value)
        elif several:
            params.extend(convert(value))
        else:
            params.append(convert(value))
    x, y = lonlat
    since, degrees, radius, limit = duplicate_window(lat=y)
    params += [
        issue.reporter_id,
        issue.reported_at,
        photo_hashes,
        json.dumps(event_data, ensure_ascii=False),
        x,
        y,
        degrees,
        issue.category_id,
        since,
        x,
        y,
        radius,
        limit,
    ]
    cursor = prepared_cursor()
    with connection.wrap_database_errors:
        cursor.execute(sql, params, prepare=True)
        row = cursor.fetchone()
    if row is None:  # lost the race on client_uuid
        return issue
    issue.pk = row[0]
    issue._state.adding = False
    issue._state.db = connection.alias
    issue._created = True
    issue._duplicates = json.loads(row[2])
    return issue
