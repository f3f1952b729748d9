"""Working time for the demo history: `patrol.calendar`'s rules on arrays of epoch seconds.

The history places tens of thousands of steps, each after some office hours on working days;
`patrol.calendar.add_working_days` answers one date at a time, so this table answers the same
questions by bisection over the working days of the history's range. The same holiday table
(`reference.holidays()`: holidays off, 调休 weekends on) and the same deadline hour are used, and
a test checks `deadline()` against `patrol.calendar.add_working_days`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math

from patrol.calendar import is_working_day
from patrol.conf import setting

# Asia/Shanghai has kept UTC+8 without daylight saving since 1991: local time is a fixed shift.
LOCAL_OFFSET = 8 * 3600
DAY = 86400
OFFICE_START = 8.5 * 3600  # 08:30: staff actions (verify, dispatch, rectify, accept) fall in office hours
OFFICE_HOURS = 9.5  # to 18:00
JOB_MINUTES = 10  # the escalation job runs every ten minutes (patrol.tasks)


def local_date(t: float) -> dt.date:
    return dt.date.fromordinal(int((t + LOCAL_OFFSET) // DAY) + dt.date(1970, 1, 1).toordinal())


def local_midnight(day: dt.date) -> float:
    return (day.toordinal() - dt.date(1970, 1, 1).toordinal()) * DAY - LOCAL_OFFSET


class WorkCalendar:
    """Working days between `first` and `last` (local dates) with their office hours."""

    def __init__(self, first: dt.date, last: dt.date, exceptions: dict[dt.date, bool]) -> None:
        days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        self.first, self.last = first, last
        self.working = [d for d in days if is_working_day(d, exceptions)]
        self._ordinals = [d.toordinal() for d in self.working]
        self._starts = [local_midnight(d) + OFFICE_START for d in self.working]
        self.deadline_hour = setting("PATROL_DEADLINE_HOUR")
        self.exceptions = exceptions

    def is_working(self, day: dt.date) -> bool:
        return is_working_day(day, self.exceptions)

    def deadline(self, t: float, days: int) -> float:
        """The end (PATROL_DEADLINE_HOUR local) of the `days`-th working day after the day of `t`,
        as `patrol.calendar.add_working_days`: the day of `t` itself does not count."""
        ordinal = local_date(t).toordinal()
        index = bisect.bisect_right(self._ordinals, ordinal) + max(1, int(days)) - 1
        day = self.working[min(index, len(self.working) - 1)]
        return local_midnight(day) + self.deadline_hour * 3600

    def _office_clock(self, t: float) -> float:
        """Office seconds from the range's first working day to `t` (hours outside count nothing)."""
        k = bisect.bisect_right(self._starts, t) - 1
        if k < 0:
            return 0.0
        return k * OFFICE_HOURS * 3600 + min(t - self._starts[k], OFFICE_HOURS * 3600)

    def office_after(self, t: float, hours: float) -> float:
        """The moment `hours` office hours after `t` (a step done by staff at work)."""
        w = self._office_clock(t) + max(0.0, hours) * 3600
        k = min(int(w // (OFFICE_HOURS * 3600)), len(self._starts) - 1)
        return self._starts[k] + (w - k * OFFICE_HOURS * 3600)

    @staticmethod
    def next_job_run(t: float) -> float:
        """The first run of the ten-minute escalation job after `t`."""
        step = JOB_MINUTES * 60
        return math.floor(t / step) * step + step
