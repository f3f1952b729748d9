"""Dates and times from request parameters: one parser with one set of bounds for every app."""

from __future__ import annotations

import calendar
import datetime as dt

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from .errors import InvalidInput

# Far years overflow the shift to UTC (in Python or in PostgreSQL), and PostgreSQL refuses
# UTC offsets beyond ±14:00: both are refused here, naming the parameter.
YEAR_MIN, YEAR_MAX = 1900, 9998
MAX_OFFSET = dt.timedelta(hours=14)


def parse_moment(value, *, field: str) -> tuple[dt.datetime, bool]:
    """An ISO 8601 date or date-time → (aware datetime, whether it was a bare date).

    A bare date is the start of that day in the site's time zone; callers that mean the end
    of the day (an `until`, an "as of") move it themselves.
    """
    text = str(value).strip()
    day = None
    try:
        # A bare date first: parse_datetime would read it as midnight too, but not say so.
        day = parse_date(text) if len(text) == 10 else None
        when = dt.datetime.combine(day, dt.time()) if day is not None else parse_datetime(text)
    except ValueError:
        when = None
    if when is None:
        raise InvalidInput(
            f"参数 {field} 日期格式错误 / '{field}' must be an ISO 8601 date or date-time, got {text[:30]!r}",
            field=field,
        )
    if not YEAR_MIN <= when.year <= YEAR_MAX:
        raise InvalidInput(
            f"参数 {field} 年份应在 {YEAR_MIN}–{YEAR_MAX} 之间 / '{field}' must lie between the years "
            f"{YEAR_MIN} and {YEAR_MAX}, got {when.year}",
            field=field,
        )
    if timezone.is_naive(when):
        return timezone.make_aware(when), day is not None
    if abs(when.utcoffset()) > MAX_OFFSET:
        raise InvalidInput(f"参数 {field} 时区偏移超出 ±14:00 / '{field}' UTC offset beyond ±14:00", field=field)
    return when, False


def parse_month(value, *, field: str = "period") -> tuple[dt.datetime, dt.datetime]:
    """'YYYY-MM' → [first instant, first instant of the next month) in the current time zone."""
    text = str(value or "").strip()
    try:
        year, month = (int(p) for p in text.split("-"))
        if len(text) != 7 or not (1 <= month <= 12 and 2000 <= year <= 2100):
            raise ValueError
    except ValueError:
        raise InvalidInput(_("统计月份应为 YYYY-MM（2000–2100 年）。"), code="invalid", field=field)
    start = timezone.make_aware(dt.datetime(year, month, 1))
    days = calendar.monthrange(year, month)[1]
    return start, start + dt.timedelta(days=days)
