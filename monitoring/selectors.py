"""Reads of online monitoring. Each takes the acting user; what they may not see answers as
absent.

Who sees what is placed in the grid (a logger here, a pollution source in `sources`): staff
see it when its district or township is in their scope (gridgov.jurisdiction); a grid officer
sees what lies in the cells they are assigned to. The public sees no logger.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.errors import InvalidInput, NotFound
from gridgov.jurisdiction import user_scope
from gridgov.models import AdminArea, GridAssignment, Role
from gridgov.selectors import locate_lonlat

from .conf import setting
from .models import Logger, Rejection
from .store import PERIODS

NOTHING = Q(pk__in=[])


def placed_q(user, *, district: str = "district", township: str = "township", cell: str = "grid_cell") -> Q:
    """A filter for the objects placed in the grid that `user` may see in full."""
    if user is None or not user.is_authenticated:
        return NOTHING
    if user.role == Role.GRID_OFFICER and not user.is_superuser:
        # a semi-join, so that a cell with several officers does not repeat the object
        return Q(Exists(GridAssignment.objects.filter(cell=OuterRef(cell), user_id=user.pk)))
    return user_scope(user).q(district=district, township=township)


@dataclass(frozen=True)
class Place:
    """Where a point lies in the grid, with the ids to store."""

    lon: float
    lat: float
    district_id: int
    township_id: int
    cell_id: int
    district_code: str
    district_name: str
    township_code: str
    township_name: str
    cell_code: str


def place_of(lon: float, lat: float, *, field: str = "lat") -> Place:
    """The district, township and grid cell of a WGS84 point; a 400 naming `field` outside."""
    try:
        loc = locate_lonlat(lon, lat)
    except InvalidInput:
        raise InvalidInput(_("位置不在本市网格范围内，请检查经纬度和坐标系。"), code="outside_city", field=field)
    ids = dict(AdminArea.objects.filter(code__in=[loc.district_code, loc.township_code]).values_list("code", "id"))
    return Place(
        lon=lon,
        lat=lat,
        district_id=ids[loc.district_code],
        township_id=ids[loc.township_code],
        cell_id=loc.cell_id,
        district_code=loc.district_code,
        district_name=loc.district_name,
        township_code=loc.township_code,
        township_name=loc.township_name,
        cell_code=loc.cell_code,
    )


def loggers_visible(*, user) -> QuerySet[Logger]:
    return Logger.objects.filter(placed_q(user))


def logger_get(*, user, mn: str) -> Logger:
    logger = loggers_visible(user=user).filter(mn=mn).first()
    if logger is None:
        raise NotFound(_("没有这台数采仪。"), code="logger_not_found", field="mn")
    return logger


def online_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    """Loggers heard since this moment are online (MONITORING_OFFLINE_MINUTES)."""
    return (now or timezone.now()) - dt.timedelta(minutes=int(setting("MONITORING_OFFLINE_MINUTES")))


def is_online(logger: Logger, cutoff: dt.datetime) -> bool:
    return bool(logger.last_seen and logger.last_seen >= cutoff)


def loggers_list(*, user, district: str | None = None, online: bool | None = None, kind: str | None = None):
    qs = loggers_visible(user=user).select_related("district").defer("district__geom").order_by("mn")
    if district:
        qs = qs.filter(district__code=district)
    if kind:
        qs = qs.filter(kind=kind)
    if online is not None:
        recent = Q(last_seen__gte=online_cutoff())
        qs = qs.filter(recent) if online else qs.exclude(recent)
    return qs


# Default and longest spans of a series request, per period.
DEFAULT_SPAN = {
    "R": dt.timedelta(hours=2),
    "M": dt.timedelta(days=1),
    "H": dt.timedelta(days=30),
    "D": dt.timedelta(days=365),
}
MAX_ROWS = 50_000
API_PERIOD = {name: letter for letter, name in PERIODS.items()}

SERIES_SQL = """
SELECT time, value, min, max, flag, valid_minutes, exceeded, limit_low, limit_high
  FROM monitoring_reading
 WHERE logger_id = %s AND period = %s AND factor = %s AND time >= %s AND time < %s
 ORDER BY time
 LIMIT %s
"""


def series(
    *, logger: Logger, factor: str, interval: str, since: dt.datetime | None, until: dt.datetime | None
) -> list[dict]:
    """One factor's values over a time range (raw SQL: the store is not a Django model)."""
    period = API_PERIOD[interval]
    until = until or timezone.now()
    since = since or until - DEFAULT_SPAN[period]
    if since >= until:
        raise InvalidInput(_("起始时间应早于结束时间。"), code="since_after_until", field="since")
    with connection.cursor() as cursor:
        cursor.execute(SERIES_SQL, [logger.pk, period, factor, since, until, MAX_ROWS + 1])
        rows = cursor.fetchall()
    if len(rows) > MAX_ROWS:
        raise InvalidInput(
            _("时间跨度过长：最多返回 %(n)s 条数据，请缩短起止时间。") % {"n": MAX_ROWS},
            code="too_many_rows",
            field="since",
        )
    tz = timezone.get_current_timezone()
    hourly = period == "H"
    return [
        {
            "time": t.astimezone(tz).isoformat(),
            "value": value,
            "min": low,
            "max": high,
            "flag": flag,
            "valid_minutes": valid if hourly else None,
            "exceeded": exceeded if hourly else None,
            "limit_low": limit_low,
            "limit_high": limit_high,
        }
        for t, value, low, high, flag, valid, exceeded, limit_low, limit_high in rows
    ]


def rejections_summary(*, user) -> list[dict]:
    """Refused packets by reason: those of the user's loggers, plus garbage and unknown MNs for
    city-wide staff (they claim no logger of anyone's)."""
    mns = loggers_visible(user=user).values_list("mn", flat=True)
    q = Q(mn__in=mns)
    if user_scope(user).everything:
        q |= ~Q(mn__in=Logger.objects.values_list("mn", flat=True))
    rows: dict[str, int] = {}
    for reason, count in Rejection.objects.filter(q).values_list("reason", "count"):
        rows[reason] = rows.get(reason, 0) + count
    return [{"reason": r, "count": c} for r, c in sorted(rows.items(), key=lambda rc: -rc[1])]


GAPS_SQL = """
SELECT logger_id, count(*) FROM monitoring_reading
 WHERE period = 'H' AND time >= %s AND flag IN ('D', 'F', 'M', 'C') AND logger_id = ANY(%s)
 GROUP BY logger_id
"""


def quality_gaps(*, logger_ids: list[int], since: dt.datetime) -> dict[int, int]:
    """Hours flagged D/F/M/C (data-quality gaps, not exceedances) per logger since `since`."""
    if not logger_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(GAPS_SQL, [since, list(logger_ids)])
        return dict(cursor.fetchall())
