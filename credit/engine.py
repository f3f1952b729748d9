"""The credit rule engine: pure functions from evidence to score and level (no Django).

An enterprise's score on a day is the base score plus the points of every entry that counts
that day (deductions are negative, rewards positive); an entry counts from `starts` (inclusive)
to `expires` (exclusive) unless it was repaired on or before the day. A reward counts only while
the deduction it offsets counts. The level is the score's band, made at most red while a veto
counts (一票否决: red at once, whatever the score).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

LEVELS = ("green", "blue", "yellow", "red", "black")  # best to worst


@dataclass(frozen=True)
class Scheme:
    base_score: int = 12
    green_min: int = 11
    blue_min: int = 6
    yellow_min: int = 3
    red_min: int = 1
    reward_points: int = 1
    reward_clean_months: int = 3
    repair_min_months: int = 3


@dataclass(frozen=True)
class Entry:
    id: int
    kind: str
    points: int
    starts: dt.date
    expires: dt.date
    veto: bool = False
    repaired_on: dt.date | None = None
    offsets: int | None = None  # a reward: the id of the deduction it offsets


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the month's last day when it is shorter: 31 Aug + 6 → 28/29 Feb)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def counts(entry: Entry, on: dt.date, by_id: dict[int, Entry] | None = None) -> bool:
    own = entry.starts <= on < entry.expires and (entry.repaired_on is None or on < entry.repaired_on)
    if own and entry.offsets is not None and by_id is not None:
        target = by_id.get(entry.offsets)
        return target is not None and counts(target, on)
    return own


def band(score: int, scheme: Scheme) -> str:
    if score >= scheme.green_min:
        return "green"
    if score >= scheme.blue_min:
        return "blue"
    if score >= scheme.yellow_min:
        return "yellow"
    if score >= scheme.red_min:
        return "red"
    return "black"


def worse(a: str, b: str) -> str:
    return a if LEVELS.index(a) >= LEVELS.index(b) else b


def standing(entries: Iterable[Entry], on: dt.date, scheme: Scheme) -> tuple[int, str]:
    """(score, level) on a day."""
    entries = list(entries)
    by_id = {e.id: e for e in entries}
    live = [e for e in entries if counts(e, on, by_id)]
    score = scheme.base_score + sum(e.points for e in live)
    level = band(score, scheme)
    if any(e.veto for e in live):
        level = worse(level, "red")
    return score, level


def reward_due(entries: Iterable[Entry], *, commitment_on: dt.date | None, on: dt.date, scheme: Scheme) -> int | None:
    """The deduction a clean-record reward should offset today, or None.

    Due when the enterprise has made a credit commitment and neither a deduction nor a reward
    started in the last `reward_clean_months` (counted from the latest of those and the
    commitment), and some counting deduction is not yet fully offset (the oldest one is chosen).
    """
    if commitment_on is None or commitment_on > on:
        return None
    entries = list(entries)
    by_id = {e.id: e for e in entries}
    moves = [e.starts for e in entries if e.points != 0 and e.starts <= on]
    since = max([commitment_on, *moves])
    if add_months(since, scheme.reward_clean_months) > on:
        return None
    offset = {e.id: 0 for e in entries}
    for e in entries:
        if e.offsets is not None and counts(e, on, by_id):
            offset[e.offsets] += e.points
    for e in sorted(entries, key=lambda e: (e.starts, e.id)):
        if e.points < 0 and e.offsets is None and counts(e, on) and offset[e.id] < -e.points:
            return e.id
    return None
