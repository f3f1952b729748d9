"""Working days (工作日): weekends and public holidays off, 调休 weekends on.

Deadlines are counted in working days and end at the close of the working day
(`PATROL_DEADLINE_HOUR`, 18:00 local time). The exceptions to "Monday to Friday" live in the
`Holiday` table, seeded from the `chinese-calendar` package (the State Council's yearly
notices, pinned in requirements.txt) by migration 0004 and refreshed by
`manage.py holidays_sync` after the package is upgraded; admins may add local exceptions.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
from django.db import transaction
from django.utils import timezone

from .conf import setting
from .reference import reference

# chinese-calendar names holidays in English; the table shows them as the notices do.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争胜利70周年纪念日",
}


def is_working_day(day: dt.date, exceptions: dict[dt.date, bool]) -> bool:
    if day in exceptions:
        return exceptions[day]
    return day.weekday() < 5


def end_of_day(day: dt.date) -> dt.datetime:
    """The close of a working day in local time: when a deadline on that date runs out."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(setting("PATROL_DEADLINE_HOUR"), 0)))


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """Return the end of the `days`-th working day after `start` (local time), skipping
    weekends and holidays and counting 调休 working weekends. The day of `start` does not count."""
    exceptions = reference.holidays()
    day = timezone.localtime(start).date()
    left = max(0, int(days))
    while left:
        day += dt.timedelta(days=1)
        if is_working_day(day, exceptions):
            left -= 1
    return end_of_day(day)


def official_exceptions() -> list[tuple[dt.date, str, bool]]:
    """(date, name, is a working day) for every holiday and 调休 day chinese-calendar knows."""
    rows = [(d, name, False) for d, name in chinese_calendar.holidays.items()]
    rows += [(d, name, True) for d, name in chinese_calendar.workdays.items()]
    return sorted((d, HOLIDAY_NAMES.get(name, name), workday) for d, name, workday in rows)


@transaction.atomic
def holidays_sync(Holiday) -> int:
    """Write the official exceptions into the Holiday table (the model class is passed so that
    a migration can hand in its historical model); return how many rows were new or changed."""
    changed = 0
    for day, name, workday in official_exceptions():
        _, created = Holiday.objects.update_or_create(
            date=day, defaults={"name": ("调休上班：" if workday else "") + name, "is_workday": workday}
        )
        changed += created
    return changed
