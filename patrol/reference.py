"""Small reference tables read on every report, cached per process for a short while.

Categories, dispatch rules, holidays and the township → district map change rarely and are
read by every report; one query each per minute instead of one per report. Saving or deleting
a category, dispatch rule or holiday clears the cache of this process (signals below); other
processes see the change within TTL seconds.
"""

from __future__ import annotations

import datetime as dt
import time

from django.db.models import signals

from gridgov.models import AdminArea

from .models import Category, DispatchRule, Holiday


class _Reference:
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
        """Calendar exceptions: date → whether it is a working day (see patrol.calendar)."""
        self._fresh()
        return self._holidays

    def township(self, code: str) -> tuple[int, int]:
        """(township id, district id) of a township code."""
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
