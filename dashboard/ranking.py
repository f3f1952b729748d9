"""排名通报: areas ranked on a month's figures, with the change from the month before.

The ranking follows the drill-down: the districts of the city, the townships of one district,
the grid cells of one township, always inside the user's jurisdiction. The rules a bureau's
通报 follows, and the tests spell out:

- areas with equal values share a rank (competition ranking: 1, 2, 2, 4), compared at the
  precision shown (a rate to 0.1 %, cases per cell to 0.01), so two areas that show the same
  figure have the same rank;
- an area without a value (no case that month: no rate, nothing overdue to count) has no rank
  and is listed after the ranked ones; it never shares a rank;
- the change of rank (previous rank − rank: positive means the area moved up) exists only when
  the area was ranked in both months: no arrow otherwise; "持平" when it is 0.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from gridgov.ranking import rank, rank_change
from patrol.models import Status, overdue_q

from .filters import RANKING_METRICS, parse_month, previous_month
from .selectors import LEVEL_FK, NOT_WORK, areas_for, cases_for

RANKING_LABELS = {
    "closure_rate": gettext_lazy("结案率"),
    "on_time_rate": gettext_lazy("按期办结率"),
    "overdue": gettext_lazy("超期数"),
    "per_cell": gettext_lazy("网格平均案件数"),
}
# Higher is better for rates; lower is better for overdue and cases per cell.
RANKING_DESC = {"closure_rate": True, "on_time_rate": True, "overdue": False, "per_cell": False}
# The precision a value is shown (and so compared) at: rates in 0.1 %, cases per cell in 0.01.
RANK_PRECISION = {"closure_rate": 3, "on_time_rate": 3, "overdue": 0, "per_cell": 2}
TREND_SAME = "same"


def _ranking_rows(*, user, level: str, start: dt.datetime, end: dt.datetime, now: dt.datetime, areas) -> dict:
    fk = LEVEL_FK[level]
    qs = cases_for(user).filter(reported_at__gte=start, reported_at__lt=end, **{f"{fk}__in": list(areas)})
    rows = (
        qs.order_by()
        .values(fk)
        .annotate(
            n=Count("id"),
            n_work=Count("id", filter=~Q(status__in=NOT_WORK)),
            n_closed=Count("id", filter=Q(status=Status.ACCEPTED)),
            n_overdue=Count("id", filter=overdue_q(now)),
            n_due=Count("id", filter=Q(status=Status.ACCEPTED, deadline__isnull=False)),
            n_on_time=Count("id", filter=Q(status=Status.ACCEPTED, closed_at__lte=F("deadline"))),
        )
    )
    return {r[fk]: r for r in rows if r[fk] is not None}


def _metrics(rows: dict, areas: dict) -> dict:
    """Each area's figures; an area with no case has none (only its count, 0)."""
    out = {}
    for pk, area in areas.items():
        r = rows.get(pk)
        if r is None:
            out[pk] = {"count": 0, "closure_rate": None, "on_time_rate": None, "overdue": None, "per_cell": None}
            continue
        cells = area["cells"]
        out[pk] = {
            "count": r["n"],
            "closure_rate": round(r["n_closed"] / r["n_work"], 4) if r["n_work"] else None,
            "on_time_rate": round(r["n_on_time"] / r["n_due"], 4) if r["n_due"] else None,
            "overdue": r["n_overdue"],
            "per_cell": round(r["n"] / cells, 3) if cells else None,
        }
    return out


def trend(change: int | None) -> str | None:
    """ "up", "down", "same" (持平), or None (no arrow: not ranked in one of the months)."""
    if change is None:
        return None
    return "up" if change > 0 else "down" if change < 0 else TREND_SAME


def _areas(user, level: str, parent: str | None) -> dict[int, dict]:
    """The areas ranked: the level's areas in scope, inside `parent` when given."""
    qs = areas_for(user, level)
    if level == "grid":
        qs = qs.filter(township__code=parent) if parent else qs.none()
        return {a["pk"]: {**a, "name": a["name"] or a["code"], "cells": 1} for a in qs.values("pk", "code", "name")}
    if level == "township" and parent:
        qs = qs.filter(parent__code=parent)
    cells = "children__grid_cells" if level == "district" else "grid_cells"
    return {a["pk"]: a for a in qs.annotate(cells=Count(cells)).values("pk", "code", "name", "cells")}


def ranking(*, user, level: str, period: str, order: str = "closure_rate", parent: str | None = None) -> dict:
    """Areas ranked on each metric for a month, with the change from the previous month.

    `parent` narrows the areas to one district's townships (level township) or one township's
    grid cells (level grid); it has been checked to be in the user's scope.
    """
    start, end = parse_month(period)
    prev = previous_month(start)
    prev_start, prev_end = parse_month(prev)
    now = timezone.now()
    areas = _areas(user, level, parent)
    cur = _metrics(_ranking_rows(user=user, level=level, start=start, end=end, now=now, areas=areas), areas)
    # "overdue" of a past month is counted at its end, so it does not move when read later.
    old = _metrics(
        _ranking_rows(user=user, level=level, start=prev_start, end=prev_end, now=min(now, prev_end), areas=areas),
        areas,
    )
    ranks, old_ranks = (
        {m: rank({k: v[m] for k, v in figures.items()}, RANKING_DESC[m], RANK_PRECISION[m]) for m in RANKING_METRICS}
        for figures in (cur, old)
    )
    results = []
    for pk, area in areas.items():
        changes = {m: rank_change(old_ranks[m][pk], ranks[m][pk]) for m in RANKING_METRICS}
        results.append(
            {
                "rank": ranks[order][pk],
                "previous_rank": old_ranks[order][pk],
                "rank_change": changes[order],
                "trend": trend(changes[order]),
                "code": area["code"],
                "name": area["name"],
                "metrics": cur[pk],
                "previous_metrics": old[pk],
                "ranks": {m: ranks[m][pk] for m in RANKING_METRICS},
                "rank_changes": changes,
            }
        )
    results.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["code"]))
    return {
        "level": level,
        "parent": parent,
        "period": period,
        "previous_period": prev,
        "order": order,
        "results": results,
    }
