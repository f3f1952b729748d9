"""Writes of the patrol loop: reporting, photos, the transitions, escalation.

Each service is keyword-only, runs in one transaction, checks the transition table
(`patrol.transitions.TRANSITIONS`) and writes an `IssueEvent` in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
import logging
import re
import uuid
from collections.abc import Sequence

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import signals
from django.utils import timezone

from gridgov.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from gridgov.jurisdiction import user_scope
from gridgov.models import AdminArea, GridAssignment, Organization, Role
from zoning.selectors import ZoneHit as ZoneRef
from zoning.selectors import zones_covering_lonlat

from .models import (
    CLOCK_STATUSES,
    PRIORITY_ORDER,
    Category,
    DispatchRule,
    Holiday,
    Issue,
    IssueEvent,
    Photo,
    Priority,
    Source,
    Status,
)
from .transitions import TRANSITIONS, Transition

log = logging.getLogger(__name__)

# Defaults; override in Django settings.
DEFAULTS = {
    "PATROL_DUPLICATE_RADIUS_M": 100.0,
    "PATROL_DUPLICATE_DAYS": 7,
    "PATROL_DESCRIPTION_MAX_CHARS": 4000,
    "PATROL_NOTE_MAX_CHARS": 2000,
    "PATROL_PHOTO_MAX_BYTES": 10 * 1024 * 1024,
    "PATROL_PHOTO_MAX_SIDE": 1600,
    "PATROL_PHOTO_MAX_PIXELS": 60_000_000,
    "PATROL_MAX_PHOTOS": 9,
    "PATROL_ESCALATION_STEP_DAYS": 2,
    "PATROL_DEADLINE_HOUR": 18,
}


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])


# --- Working-day calendar -------------------------------------------------------------------


def is_working_day(day: dt.date, exceptions: dict[dt.date, bool]) -> bool:
    if day in exceptions:
        return exceptions[day]
    return day.weekday() < 5


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """Return the end of the `days`-th working day after `start` (local time), skipping
    weekends and holidays and counting 调休 working weekends. The day of `start` does not count."""
    local = timezone.localtime(start)
    exceptions = reference.holidays()
    day = local.date()
    left = max(0, int(days))
    while left:
        day += dt.timedelta(days=1)
        if is_working_day(day, exceptions):
            left -= 1
    hour = setting("PATROL_DEADLINE_HOUR")
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


# --- Zoning adapter -------------------------------------------------------------------------


def zones_at(point: Point) -> list[ZoneRef]:
    """The zoning units and zones covering a point now (the report hot path's prepared form)."""
    return zones_covering_lonlat(*point.coords)


def priority_for(category: Category, zones: Sequence[ZoneRef]) -> str:
    """The category's default priority, one step higher inside a red line or priority unit."""
    base = PRIORITY_ORDER.index(Priority(category.default_priority))
    sensitive = any(z.layer == "red_line" or (z.layer == "control_unit" and z.category == "priority") for z in zones)
    return PRIORITY_ORDER[min(base + (1 if sensitive else 0), len(PRIORITY_ORDER) - 1)].value


# --- Routing --------------------------------------------------------------------------------


def dispatch_rule_unit(*, category_code: str, township_id: int | None, district_id: int | None) -> Organization | None:
    """The responsible unit of the most specific dispatch rule (area first, then category)."""
    unit_id = reference.dispatch_unit_id(category_code=category_code, township_id=township_id, district_id=district_id)
    return Organization.objects.filter(pk=unit_id).first() if unit_id else None


# --- Photos ---------------------------------------------------------------------------------


def _exif_data(img, *, field: str = "photo") -> tuple[Point | None, dt.datetime | None, dict]:
    """Read GPS position and capture time from EXIF; keep a small summary as data.

    A photo whose EXIF block is present but broken (offsets past its end, an impossible
    orientation, tags Pillow has to skip) is refused: its GPS and time could not be trusted,
    and cameras and phones do not write such blocks. A photo without EXIF is fine.
    """
    import warnings

    from PIL import ExifTags

    def malformed(why: str) -> InvalidInput:
        return InvalidInput(f"照片的 EXIF 元数据已损坏 / '{field}' has malformed EXIF metadata: {why}", field=field)

    if not img.info.get("exif"):
        return None, None, {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            exif = img.getexif()
            ifds = {ifd: exif.get_ifd(ifd) for ifd in (ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo)}
        except Exception as exc:
            raise malformed(type(exc).__name__)
    if caught:
        raise malformed(str(caught[0].message)[:80])
    orientation = exif.get(ExifTags.Base.Orientation)
    if orientation is not None and orientation not in range(1, 9):
        raise malformed(f"Orientation {orientation!r} is not 1–8")
    for pointer, ifd in ((ExifTags.Base.ExifOffset, ExifTags.IFD.Exif), (ExifTags.Base.GPSInfo, ExifTags.IFD.GPSInfo)):
        if pointer in exif and not ifds[ifd]:
            raise malformed(f"{ExifTags.TAGS.get(pointer, pointer)} points outside the block")
    summary: dict = {}
    for tag in (ExifTags.Base.Make, ExifTags.Base.Model, ExifTags.Base.Orientation, ExifTags.Base.DateTime):
        if tag in exif:
            summary[tag.name] = str(exif[tag])[:64]
    taken = None
    try:
        sub = ifds[ExifTags.IFD.Exif]
        raw = sub.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
        if raw:
            taken = timezone.make_aware(dt.datetime.strptime(str(raw).strip("\x00"), "%Y:%m:%d %H:%M:%S"))
            summary["DateTimeOriginal"] = str(raw)[:32]
    except (ValueError, TypeError):
        taken = None  # an unreadable time is only a missing time
    point = None
    gps = ifds[ExifTags.IFD.GPSInfo]
    if gps and 2 in gps and 4 in gps:
        try:

            def deg(v) -> float:
                d, m, s = (float(x) for x in v)
                return d + m / 60 + s / 3600

            lat, lon = deg(gps[2]), deg(gps[4])
        except (ValueError, TypeError, ZeroDivisionError) as exc:
            raise malformed(f"GPS position unreadable ({type(exc).__name__})")
        if str(gps.get(1, "N")).upper().startswith("S"):
            lat = -lat
        if str(gps.get(3, "E")).upper().startswith("W"):
            lon = -lon
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            point = Point(lon, lat, srid=settings.GRIDGOV_SRID)
            summary["GPS"] = {"lat": round(lat, 7), "lon": round(lon, 7)}
    return point, taken, summary


def photo_store(*, data: bytes, uploaded_by=None, field: str = "photo") -> tuple[Photo, bool]:
    """Store an uploaded photo under its SHA-256; return (photo, created). Retries are free."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise InvalidInput(f"照片为空 / '{field}' is empty", field=field)
    limit = setting("PATROL_PHOTO_MAX_BYTES")
    if len(data) > limit:
        raise PayloadTooLarge(
            f"照片超过 {limit // (1024 * 1024)} MB / '{field}' is larger than {limit} bytes", field=field
        )
    sha = hashlib.sha256(data).hexdigest()
    existing = Photo.objects.filter(sha256=sha).first()
    if existing is not None:
        return existing, False
    Image.MAX_IMAGE_PIXELS = setting("PATROL_PHOTO_MAX_PIXELS")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            probe.verify()
        img = Image.open(io.BytesIO(data))
        img.load()  # decodes every byte: a truncated file fails here
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise InvalidInput(f"不是可识别的图片 / '{field}' is not an image ({type(exc).__name__})", field=field)
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput(f"图片已损坏或不完整 / '{field}' is truncated or corrupt: {str(exc)[:80]}", field=field)
    if fmt not in ("JPEG", "PNG", "WEBP", "HEIF", "MPO", "GIF"):
        raise InvalidInput(f"不支持的图片格式 {fmt} / '{field}' must be JPEG, PNG or WebP", field=field)
    point, taken, summary = _exif_data(img, field=field)
    upright = ImageOps.exif_transpose(img)
    if upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    side = setting("PATROL_PHOTO_MAX_SIDE")
    upright.thumbnail((side, side))
    out = io.BytesIO()
    upright.save(out, format="JPEG", quality=82, optimize=True)  # no exif= argument: metadata stripped
    photo = Photo(
        sha256=sha,
        size_bytes=len(data),
        content_type=f"image/{fmt.lower()}",
        exif_point=point,
        exif_taken_at=taken,
        exif=summary,
        width=upright.width,
        height=upright.height,
        uploaded_by=uploaded_by if getattr(uploaded_by, "is_authenticated", False) else None,
    )
    photo.original.save(f"{sha}.{fmt.lower()}", ContentFile(data), save=False)
    photo.image.save(f"{sha}.jpg", ContentFile(out.getvalue()), save=False)
    try:
        with transaction.atomic():
            photo.full_clean(exclude=["original", "image"])
            photo.save(force_insert=True)
    except IntegrityError:  # the same bytes arrived concurrently: one row, as intended
        return Photo.objects.get(sha256=sha), False
    return photo, True


def _photos_for(hashes: Sequence[str], *, field: str = "photo_hashes") -> list[Photo]:
    hashes = list(dict.fromkeys(h.lower() for h in hashes if h))
    if len(hashes) > setting("PATROL_MAX_PHOTOS"):
        raise InvalidInput(f"照片最多 {setting('PATROL_MAX_PHOTOS')} 张 / too many '{field}'", field=field)
    bad = [h for h in hashes if not re.fullmatch(r"[0-9a-f]{64}", h)]
    if bad:
        raise InvalidInput(f"'{field}' must be SHA-256 hex strings, got {bad[0][:20]!r}", field=field)
    photos = list(Photo.objects.filter(sha256__in=hashes))
    missing = set(hashes) - {p.sha256 for p in photos}
    if missing:
        raise InvalidInput(
            f"照片未上传 / '{field}' names photos not uploaded yet: {sorted(missing)[0][:12]}…; "
            "POST them to /api/patrol/photos/ first",
            field=field,
        )
    return photos


# --- Reporting ------------------------------------------------------------------------------


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
        raise Conflict(
            f"client_uuid {issue.client_uuid} 已用于另一份内容不同的上报 / "
            "this client_uuid was already used for a different report",
            field="client_uuid",
        )
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
        raise InvalidInput(f"'source' must be one of {', '.join(Source.values)}", field="source")
    if point is None or getattr(point, "geom_type", None) != "Point":
        raise InvalidInput("缺少位置 / 'lat' and 'lon' are required", field="lat")
    if point.srid != settings.GRIDGOV_SRID:
        point = point.transform(settings.GRIDGOV_SRID, clone=True)
    description = (description or "").strip()
    if len(description) > setting("PATROL_DESCRIPTION_MAX_CHARS"):
        raise InvalidInput(
            f"问题描述过长 / 'description' is longer than {setting('PATROL_DESCRIPTION_MAX_CHARS')} characters",
            field="description",
        )
    if accuracy_m is not None and (accuracy_m < 0 or accuracy_m > 100_000):
        raise InvalidInput("'accuracy_m' must be between 0 and 100000 metres", field="accuracy_m")
    if client_uuid is None:
        client_uuid = uuid.uuid4()
    elif not isinstance(client_uuid, uuid.UUID):
        try:
            client_uuid = uuid.UUID(str(client_uuid))
        except ValueError:
            raise InvalidInput("'client_uuid' must be a UUID", field="client_uuid")
    reporter_id = reporter.pk if getattr(reporter, "is_authenticated", False) else None
    photo_hashes = [h.lower() for h in photo_hashes]
    lonlat = point.coords  # read once: every GEOS accessor is a round trip through ctypes
    digest = _digest(
        reporter_id=reporter_id,
        lonlat=lonlat,
        category=category,
        description=description,
        source=source,
        accuracy_m=accuracy_m,
        photo_hashes=photo_hashes,
    )
    # Exactly once: the insert does nothing when the client_uuid exists (a resend, or a
    # concurrent first send that won), and the case is then answered from the existing row.
    # No look-up before the insert: first sends are the common case and pay one query less.
    try:
        issue = _issue_create(
            reporter_id=reporter_id,
            point=point,
            lonlat=lonlat,
            category=category,
            description=description,
            source=source,
            client_uuid=client_uuid,
            accuracy_m=accuracy_m,
            photo_hashes=photo_hashes,
            crs_note=crs_note,
            digest=digest,
            contact=contact or {},
        )
    except InvalidInput:
        # A resend whose content changed into something invalid is still a conflicting resend.
        existing = Issue.objects.filter(client_uuid=client_uuid).first()
        if existing is not None:
            return _resend(existing, digest)
        raise
    except IntegrityError:  # a unique key other than client_uuid; should not happen
        existing = Issue.objects.filter(client_uuid=client_uuid).first()
        if existing is None:
            raise
        return _resend(existing, digest)
    if not getattr(issue, "_created", False):  # a concurrent identical send won: answer with its case
        existing = Issue.objects.filter(client_uuid=client_uuid).first()
        if existing is None:
            raise Conflict("client_uuid 冲突，请重试 / client_uuid collision, retry", field="client_uuid")
        return _resend(existing, digest)
    return issue, True


# What _issue_create sets itself, from the locate and zoning tables, the reference tables
# and the clock, rather than from the caller: full_clean skips these (a tenth of a report's
# time), the database's column types and constraints still hold them.
_CALLER_FIELDS = {"source", "description", "point", "accuracy_m", "crs_note", "contact"}
_SERVER_SET_FIELDS = [f.name for f in Issue._meta.fields if f.name not in _CALLER_FIELDS]


def _issue_create(
    *,
    reporter_id,
    point,
    lonlat,
    category,
    description,
    source,
    client_uuid,
    accuracy_m,
    photo_hashes,
    crs_note,
    digest,
    contact,
) -> Issue:
    """Route and insert a new case; raise IntegrityError-free: a lost client_uuid race returns
    the winner (via issue_report). Photos, if any, are linked in the same transaction."""
    cat = reference.category(category) if isinstance(category, str) else None
    if cat is None:
        raise InvalidInput(f"未知的问题类别 / unknown 'category' {str(category)[:40]!r}", field="category")
    from gridgov.selectors import locate_lonlat

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
        description=description,
        point=point,
        accuracy_m=accuracy_m,
        crs_note=crs_note[:64],
        reporter_id=reporter_id,
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
        photos = _photos_for(photo_hashes)
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
    from django.contrib.gis.db.models import GeometryField
    from django.db.models import JSONField

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
    from gridgov.selectors import prepared_cursor

    from .selectors import duplicate_window

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


class _Reference:
    """Small reference tables read on every report, cached per process for a short while.

    Saving or deleting a category, dispatch rule or holiday clears the cache of this process
    (signals below); other processes see the change within TTL seconds.
    """

    TTL = 60.0

    def __init__(self) -> None:
        self.clear()

    def clear(self, **_kw) -> None:
        self._loaded = 0.0
        self._categories: dict[str, Category] = {}
        self._rules: list[tuple[str | None, int | None, int]] = []
        self._townships: dict[str, tuple[int, int]] = {}
        self._holidays: dict[dt.date, bool] = {}

    def _fresh(self) -> None:
        import time

        if time.monotonic() - self._loaded < self.TTL:
            return
        self._categories = {c.code: c for c in Category.objects.filter(active=True)}
        self._rules = list(DispatchRule.objects.values_list("category_id", "area_id", "organization_id"))
        self._holidays = dict(Holiday.objects.values_list("date", "is_workday"))
        self._townships = {}
        self._loaded = time.monotonic()

    def category(self, code: str) -> Category | None:
        self._fresh()
        return self._categories.get(code)

    def holidays(self) -> dict[dt.date, bool]:
        self._fresh()
        return self._holidays

    def township(self, code: str) -> tuple[int, int]:
        self._fresh()
        hit = self._townships.get(code)
        if hit is None:
            area = AdminArea.objects.only("id", "parent_id").get(code=code)
            hit = self._townships[code] = (area.pk, area.parent_id)
        return hit

    def dispatch_unit_id(self, *, category_code: str, township_id: int | None, district_id: int | None) -> int | None:
        """The unit of the most specific matching rule: township over district over city-wide,
        then sub-category over top-level category over any category."""
        self._fresh()
        codes = {category_code, category_code.split(".")[0]}
        best, best_rank = None, None
        for cat, area, org in self._rules:
            if cat is not None and cat not in codes:
                continue
            if area is not None and area not in (township_id, district_id):
                continue
            rank = (
                0 if area is not None and area == township_id else 1 if area is not None else 2,
                0 if cat == category_code else 1 if cat is not None else 2,
            )
            if best_rank is None or rank < best_rank:
                best, best_rank = org, rank
        return best


reference = _Reference()


def _reference_changed(sender, **kwargs) -> None:
    reference.clear()


for _model in (Category, DispatchRule, Holiday):
    signals.post_save.connect(_reference_changed, sender=_model, dispatch_uid=f"patrol-ref-{_model.__name__}")
    signals.post_delete.connect(_reference_changed, sender=_model, dispatch_uid=f"patrol-ref-del-{_model.__name__}")


# --- Transitions ----------------------------------------------------------------------------


def _role(user) -> str:
    if getattr(user, "is_superuser", False):
        return Role.CITY_SUPERVISOR
    return getattr(user, "role", "") or ""


def jurisdiction_ok(*, rule: str, user, issue: Issue) -> bool:
    if rule == "scope":
        scope = user_scope(user)
        return scope.everything or issue.district_id in scope.district_ids or issue.township_id in scope.township_ids
    if rule == "unit":
        return bool(user.organization_id) and user.organization_id == issue.responsible_unit_id
    if rule == "grid":
        if issue.reporter_id == user.pk:
            return True
        return GridAssignment.objects.filter(cell_id=issue.grid_cell_id, user_id=user.pk).exists()
    return False


def transition_check(*, issue: Issue, action: str, user) -> Transition:
    """Return the transition if `user` may take `action` on `issue` now; else raise Conflict saying why."""
    t = TRANSITIONS.get(action)
    if t is None or not t.roles:
        raise InvalidInput(f"未知操作 / unknown 'action' {str(action)[:32]!r}", field="action")
    if issue.status not in t.sources:
        raise Conflict(
            f"案件状态为“{Status(issue.status).label}”，不能{t.label} / cannot '{action}' a case in status "
            f"'{issue.status}' (allowed from: {', '.join(t.sources)})",
            field="action",
        )
    if action == "publish" and issue.is_public:
        raise Conflict("案件已曝光 / the case is already published", field="action")
    role = _role(user)
    rule = t.roles.get(role)
    if rule is None:
        label = Role(role).label if role in Role.values else "无角色"
        raise Conflict(f"“{label}”不能{t.label} / role '{role or 'none'}' may not '{action}'", field="action")
    if not jurisdiction_ok(rule=rule, user=user, issue=issue):
        why = {
            "scope": "案件不在您的管辖范围内",
            "unit": "案件不由您的单位负责",
            "grid": "您不是该网格的网格员或上报人",
        }[rule]
        raise Conflict(f"{why}，不能{t.label} / '{action}' requires jurisdiction rule '{rule}'", field="action")
    return t


def allowed_actions(*, issue: Issue, user) -> list[str]:
    out = []
    for action, t in TRANSITIONS.items():
        if not t.roles:
            continue
        try:
            transition_check(issue=issue, action=action, user=user)
        except (Conflict, InvalidInput):
            continue
        out.append(action)
    return out


def _locked(issue_id: int) -> Issue:
    issue = Issue.objects.select_for_update().filter(pk=issue_id).first()
    if issue is None:
        raise NotFound("案件不存在 / case not found", field="id")
    return issue


def _note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > setting("PATROL_NOTE_MAX_CHARS"):
        raise InvalidInput(f"'note' is longer than {setting('PATROL_NOTE_MAX_CHARS')} characters", field="note")
    return note


def _apply(
    *,
    issue_id: int,
    action: str,
    actor,
    note: str = "",
    point: Point | None = None,
    photo_hashes: Sequence[str] = (),
    changes=None,
    data: dict | None = None,
    require_photos: bool = False,
) -> Issue:
    """Lock the case, check the table, apply `changes(issue, now)`, save, write the audit row."""
    note = _note(note)
    issue = _locked(issue_id)
    t = transition_check(issue=issue, action=action, user=actor)
    photos = _photos_for(photo_hashes)
    if require_photos and not photos:
        raise InvalidInput("请上传整改照片 / evidence 'photo_hashes' are required", field="photo_hashes")
    now = timezone.now()
    before = issue.status
    fields = ["updated_at"]
    if t.to is not None:
        issue.status = t.to
        fields.append("status")
    if changes is not None:
        fields += changes(issue, now)
    try:
        issue.full_clean(
            exclude=[
                "category",
                "reporter",
                "grid_cell",
                "township",
                "district",
                "responsible_unit",
                "duplicate_of",
                "photos",
            ]
        )
    except ValidationError as exc:
        raise InvalidInput("; ".join(exc.messages), field=next(iter(getattr(exc, "error_dict", {"action": 0}))))
    issue.save(update_fields=sorted(set(fields)))
    IssueEvent.objects.create(
        issue=issue,
        action=action,
        from_status=before,
        to_status=issue.status,
        actor=actor,
        at=now,
        note=note,
        point=point,
        photo_hashes=[p.sha256 for p in photos],
        data=data or {},
    )
    return issue


@transaction.atomic
def issue_verify(*, issue_id: int, actor, note: str = "", point: Point | None = None) -> Issue:
    """核实立案."""

    def changes(issue, now):
        issue.verified_at = now
        return ["verified_at"]

    return _apply(issue_id=issue_id, action="verify", actor=actor, note=note, point=point, changes=changes)


@transaction.atomic
def issue_reject(*, issue_id: int, actor, note: str = "", point: Point | None = None) -> Issue:
    """不予立案 (closes the case)."""
    if not (note or "").strip():
        raise InvalidInput("不予立案须说明理由 / 'note' is required to reject", field="note")

    def changes(issue, now):
        issue.closed_at = now
        return ["closed_at"]

    return _apply(issue_id=issue_id, action="reject", actor=actor, note=note, point=point, changes=changes)


@transaction.atomic
def issue_mark_duplicate(*, issue_id: int, duplicate_of_id: int | None, actor, note: str = "") -> Issue:
    """Link the case to the original it repeats (closes it)."""
    from .selectors import issues_visible

    if not duplicate_of_id:
        raise InvalidInput("'duplicate_of' is required", field="duplicate_of")
    original = issues_visible(user=actor).filter(pk=duplicate_of_id).first()
    if original is None:
        raise InvalidInput(f"'duplicate_of' case {duplicate_of_id} not found", field="duplicate_of")
    if original.pk == issue_id:
        raise InvalidInput("a case cannot duplicate itself", field="duplicate_of")

    def changes(issue, now):
        issue.duplicate_of_id = original.pk
        issue.closed_at = now
        return ["duplicate_of", "closed_at"]

    return _apply(
        issue_id=issue_id,
        action="mark_duplicate",
        actor=actor,
        note=note,
        changes=changes,
        data={"duplicate_of": original.pk},
    )


def _parse_deadline(value, *, field: str = "deadline") -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time(setting("PATROL_DEADLINE_HOUR")))
    else:
        from django.utils.dateparse import parse_date, parse_datetime

        text = str(value).strip()
        try:
            parsed = parse_datetime(text)
            if parsed is None:
                d = parse_date(text)
                parsed = dt.datetime.combine(d, dt.time(setting("PATROL_DEADLINE_HOUR"))) if d else None
        except ValueError:
            parsed = None
        if parsed is None:
            raise InvalidInput(f"'{field}' must be an ISO 8601 date or date-time", field=field)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    if parsed <= timezone.now():
        raise InvalidInput(f"'{field}' must be in the future", field=field)
    return parsed


@transaction.atomic
def issue_dispatch(*, issue_id: int, actor, unit_id: int | None = None, deadline=None, note: str = "") -> Issue:
    """交办: to the given unit (default: the dispatch rule's), the clock starts now."""
    override = _parse_deadline(deadline)
    unit = None
    if unit_id not in (None, ""):
        try:
            unit = Organization.objects.filter(pk=int(unit_id)).first()
        except (TypeError, ValueError):
            unit = None
        if unit is None:
            raise InvalidInput(f"责任单位不存在 / 'unit' {str(unit_id)[:20]!r} not found", field="unit")

    def changes(issue, now):
        if unit is not None:
            issue.responsible_unit = unit
        if issue.responsible_unit_id is None:
            raise InvalidInput("请指定责任单位 / 'unit' is required: no dispatch rule matches this case", field="unit")
        issue.dispatched_at = now
        issue.deadline = override or add_working_days(now, issue.category.days_for(issue.priority))
        issue.deadline_overridden = override is not None
        issue.escalation_level = 0
        issue.next_escalation_at = None
        return [
            "responsible_unit",
            "dispatched_at",
            "deadline",
            "deadline_overridden",
            "escalation_level",
            "next_escalation_at",
        ]

    return _apply(
        issue_id=issue_id,
        action="dispatch",
        actor=actor,
        note=note,
        changes=changes,
        data={"unit": unit_id, "deadline_override": bool(override)},
    )


@transaction.atomic
def issue_start_rectification(*, issue_id: int, actor, note: str = "", point: Point | None = None) -> Issue:
    return _apply(issue_id=issue_id, action="start_rectification", actor=actor, note=note, point=point)


@transaction.atomic
def issue_submit_rectification(
    *, issue_id: int, actor, photo_hashes: Sequence[str], note: str = "", point: Point | None = None
) -> Issue:
    """整改提交 with evidence photos."""

    def changes(issue, now):
        issue.rectified_at = now
        return ["rectified_at"]

    return _apply(
        issue_id=issue_id,
        action="submit_rectification",
        actor=actor,
        note=note,
        point=point,
        photo_hashes=photo_hashes,
        changes=changes,
        require_photos=True,
    )


@transaction.atomic
def issue_accept(
    *, issue_id: int, actor, note: str = "", point: Point | None = None, photo_hashes: Sequence[str] = ()
) -> Issue:
    """验收通过: closes the case."""

    def changes(issue, now):
        issue.accepted_at = now
        issue.closed_at = now
        return ["accepted_at", "closed_at"]

    return _apply(
        issue_id=issue_id,
        action="accept",
        actor=actor,
        note=note,
        point=point,
        photo_hashes=photo_hashes,
        changes=changes,
    )


@transaction.atomic
def issue_fail(
    *, issue_id: int, actor, note: str = "", point: Point | None = None, photo_hashes: Sequence[str] = ()
) -> Issue:
    """验收不通过: back to rectifying; the deadline stands."""
    if not (note or "").strip():
        raise InvalidInput("验收不通过须说明理由 / 'note' is required to fail an acceptance", field="note")
    return _apply(issue_id=issue_id, action="fail", actor=actor, note=note, point=point, photo_hashes=photo_hashes)


@transaction.atomic
def issue_set_deadline(*, issue_id: int, actor, deadline, note: str = "") -> Issue:
    """A supervisor's override of the deadline."""
    when = _parse_deadline(deadline)
    if when is None:
        raise InvalidInput("'deadline' is required", field="deadline")

    def changes(issue, now):
        issue.deadline = when
        issue.deadline_overridden = True
        issue.next_escalation_at = None
        return ["deadline", "deadline_overridden", "next_escalation_at"]

    return _apply(
        issue_id=issue_id,
        action="set_deadline",
        actor=actor,
        note=note,
        changes=changes,
        data={"deadline": when.isoformat()},
    )


_PERSONAL = [
    (re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"), "[手机号已隐去]"),
    (re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"), "[身份证号已隐去]"),
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "[邮箱已隐去]"),
    (re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)"), "[电话已隐去]"),
    (re.compile(r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z][A-Z0-9]{5,6}"), "[车牌已隐去]"),
]


def redact(text: str) -> str:
    """Remove phone numbers, ID numbers, e-mail addresses and plates from text to publish."""
    for pattern, replacement in _PERSONAL:
        text = pattern.sub(replacement, text)
    return text


@transaction.atomic
def issue_publish(*, issue_id: int, actor, public_text: str = "", note: str = "") -> Issue:
    """曝光: make the case public; personal data (reporter, contact, numbers in text) stays out."""

    def changes(issue, now):
        issue.is_public = True
        issue.published_at = now
        issue.public_description = redact((public_text or issue.description).strip())[:4000]
        return ["is_public", "published_at", "public_description"]

    return _apply(issue_id=issue_id, action="publish", actor=actor, note=note, changes=changes)


@transaction.atomic
def issue_reopen(*, issue_id: int, actor, note: str = "") -> Issue:
    """Reopen a closed case: back to 已核实立案, ready to be dispatched again."""
    if not (note or "").strip():
        raise InvalidInput("重新打开须说明理由 / 'note' is required to reopen", field="note")

    def changes(issue, now):
        issue.closed_at = None
        issue.accepted_at = None
        issue.duplicate_of = None
        issue.escalation_level = 0
        issue.next_escalation_at = None
        issue.verified_at = issue.verified_at or now
        return ["closed_at", "accepted_at", "duplicate_of", "escalation_level", "next_escalation_at", "verified_at"]

    return _apply(issue_id=issue_id, action="reopen", actor=actor, note=note, changes=changes)


def _point_from(params: dict) -> Point | None:
    if params.get("lat") in (None, "") and params.get("lon") in (None, ""):
        return None
    from gridgov.geo import parse_point

    return parse_point(params.get("lat"), params.get("lon"), params.get("crs"))


def issue_transition(*, issue_id: int, action: str, actor, note: str = "", params: dict | None = None) -> Issue:
    """Run the service for `action` with parameters from a request (API and pages)."""
    params = params or {}
    if action not in TRANSITIONS or not TRANSITIONS[action].roles:
        raise InvalidInput(f"未知操作 / unknown 'action' {str(action)[:32]!r}", field="action")
    hashes = params.get("photo_hashes") or []
    if isinstance(hashes, str):
        hashes = [h for h in hashes.split(",") if h]
    if not isinstance(hashes, list | tuple):
        raise InvalidInput("'photo_hashes' must be a list", field="photo_hashes")
    point = _point_from(params)
    if action == "verify":
        return issue_verify(issue_id=issue_id, actor=actor, note=note, point=point)
    if action == "reject":
        return issue_reject(issue_id=issue_id, actor=actor, note=note, point=point)
    if action == "mark_duplicate":
        try:
            dup = int(params.get("duplicate_of") or 0)
        except (TypeError, ValueError):
            raise InvalidInput("'duplicate_of' must be a case id", field="duplicate_of")
        return issue_mark_duplicate(issue_id=issue_id, duplicate_of_id=dup, actor=actor, note=note)
    if action == "dispatch":
        return issue_dispatch(
            issue_id=issue_id, actor=actor, unit_id=params.get("unit"), deadline=params.get("deadline"), note=note
        )
    if action == "start_rectification":
        return issue_start_rectification(issue_id=issue_id, actor=actor, note=note, point=point)
    if action == "submit_rectification":
        return issue_submit_rectification(issue_id=issue_id, actor=actor, note=note, point=point, photo_hashes=hashes)
    if action == "accept":
        return issue_accept(issue_id=issue_id, actor=actor, note=note, point=point, photo_hashes=hashes)
    if action == "fail":
        return issue_fail(issue_id=issue_id, actor=actor, note=note, point=point, photo_hashes=hashes)
    if action == "set_deadline":
        return issue_set_deadline(issue_id=issue_id, actor=actor, deadline=params.get("deadline"), note=note)
    if action == "publish":
        return issue_publish(issue_id=issue_id, actor=actor, public_text=params.get("public_text") or "", note=note)
    if action == "reopen":
        return issue_reopen(issue_id=issue_id, actor=actor, note=note)
    raise InvalidInput(f"未知操作 / unknown 'action' {action!r}", field="action")  # pragma: no cover


# --- Escalation (督办) ------------------------------------------------------------------------

# Set-based on purpose: one statement escalates every overdue case, writes their audit rows and
# the notices to the supervisors one level up (district for level 1, city for level 2), so the
# job costs about as much as the bare UPDATE however many cases are late.
_ESCALATE_SQL = """
WITH esc AS (
    UPDATE patrol_issue i
       SET escalation_level = i.escalation_level + 1,
           escalated_at = %(now)s,
           next_escalation_at = CASE WHEN i.escalation_level + 1 < %(max_level)s THEN %(next_at)s END,
           updated_at = %(now)s
     WHERE i.status = ANY(%(statuses)s)
       AND i.escalation_level < %(max_level)s
       AND i.deadline < %(now)s
       AND (i.next_escalation_at IS NULL OR i.next_escalation_at < %(now)s)
    RETURNING i.id, i.status, i.escalation_level, i.district_id
), ev AS (
    INSERT INTO patrol_issueevent (issue_id, action, from_status, to_status, actor_id, at, note, photo_hashes, data)
    SELECT id, 'escalate', status, status, NULL, %(now)s,
           CASE escalation_level WHEN 1 THEN '逾期未整改，提请区县督办' ELSE '督办后仍逾期，提请市级督办' END,
           '{}', jsonb_build_object('level', escalation_level)
      FROM esc
    RETURNING 1
), notes AS (
    INSERT INTO patrol_notification (recipient_id, issue_id, kind, message, created_at)
    SELECT DISTINCT u.id, esc.id, 'escalation',
           '案件 #' || esc.id || ' 逾期，' || CASE esc.escalation_level WHEN 1 THEN '请区县督办' ELSE '请市级督办' END,
           %(now)s::timestamptz
      FROM esc
      JOIN gridgov_user u ON u.is_active AND (
             (esc.escalation_level = 1 AND u.role = 'district_supervisor' AND EXISTS (
                 SELECT 1 FROM gridgov_user_scope s WHERE s.user_id = u.id AND s.adminarea_id = esc.district_id))
          OR (esc.escalation_level >= 2 AND u.role = 'city_supervisor'))
    RETURNING 1
)
SELECT (SELECT count(*) FROM esc), (SELECT count(*) FROM ev), (SELECT count(*) FROM notes)
"""

MAX_ESCALATION_LEVEL = 2


@transaction.atomic
def issues_escalate_overdue(now: dt.datetime | None = None) -> int:
    """Escalate every case whose deadline (or previous escalation's deadline) has passed; return how many."""
    now = now or timezone.now()
    next_at = add_working_days(now, setting("PATROL_ESCALATION_STEP_DAYS"))
    with connection.cursor() as cursor:
        cursor.execute(
            _ESCALATE_SQL,
            {
                "now": now,
                "next_at": next_at,
                "statuses": [str(s) for s in CLOCK_STATUSES],
                "max_level": MAX_ESCALATION_LEVEL,
            },
        )
        escalated, _events, notices = cursor.fetchone()
    if escalated:
        log.info("escalated %s overdue cases, %s notices", escalated, notices)
    return escalated


# --- Notes from systems that keep watching a case (added for online monitoring) ------------


@transaction.atomic
def issue_note(
    *, issue_id: int, note: str, actor=None, data: dict | None = None, responsible_unit_id: int | None = None
) -> Issue:
    """Add a note to a case without moving it (action "note", same status before and after),
    e.g. further exceeded hours of an online-monitoring episode. `responsible_unit_id` names the
    responsible unit while the case is not yet dispatched (the polluting enterprise)."""
    from django.utils.translation import gettext as _

    issue = _locked(issue_id)
    note = _note(note)
    if not note:
        raise InvalidInput(_("请填写说明。"), code="note_required", field="note")
    fields = ["updated_at"]
    if responsible_unit_id is not None and responsible_unit_id != issue.responsible_unit_id:
        if issue.status not in (Status.REPORTED, Status.VERIFIED):
            raise Conflict(_("案件已交办，不能再改变责任单位。"), code="already_dispatched", field="unit")
        if not Organization.objects.filter(pk=responsible_unit_id).exists():
            raise InvalidInput(_("责任单位不存在。"), code="unit_not_found", field="unit")
        issue.responsible_unit_id = responsible_unit_id
        fields.append("responsible_unit")
    issue.save(update_fields=fields)
    IssueEvent.objects.create(
        issue=issue,
        action="note",
        from_status=issue.status,
        to_status=issue.status,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        at=timezone.now(),
        note=note,
        data=data or {},
    )
    return issue
