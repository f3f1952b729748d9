"""The cockpit's figures (驾驶舱): KPI cards with their change on last month, and the charts.

Two kinds of KPI. Snapshots are counted now and at the same moment one month earlier from the
stage times on the case rows (a case was awaiting verification at T if it was reported by T and
neither verified nor closed by T): today's reports, awaiting verification, overdue. Monthly
rates are those of the cases reported in the chosen month, against the month before, each read
at the same age (last month's cases as they stood a month ago), so a fresh month is not
compared with one that had four more weeks to close. Charts are for the chosen month, except
the weekly trend, which covers the 26 weeks up to now. Everything starts from the cases the
user may see (`dashboard.selectors.cases_for`) inside the area drilled into.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.translation import gettext_lazy

from patrol.models import Category, Issue, Source, Status, overdue_q

from .filters import CaseFilter, area_q, parse_month, previous_month
from .labels import category_name
from .selectors import NOT_WORK, cases_for

KPI_LABELS = {
    "today": gettext_lazy("今日上报"),
    "awaiting_verification": gettext_lazy("待核实"),
    "overdue": gettext_lazy("超期未整改"),
    "closure_rate": gettext_lazy("结案率"),
    "on_time_rate": gettext_lazy("按期办结率"),
}
TREND_WEEKS = 26
# Time to close (report to acceptance), in days: the bins' lower edges; the last is open.
CLOSE_BINS = (0, 1, 3, 5, 7, 10, 15, 30)


def _scoped(user, area: str | None, filters: CaseFilter) -> QuerySet[Issue]:
    qs = filters.apply(cases_for(user))
    return qs.filter(area_q(area)) if area else qs


def one_month_earlier(t: dt.datetime) -> dt.datetime:
    """The same local time one calendar month before (the last day when the month is shorter)."""
    local = timezone.localtime(t)
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    for day in range(local.day, 0, -1):
        try:
            return local.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable: day 1 exists in every month")


def _snapshots(qs: QuerySet[Issue], at: dt.datetime, *, current: bool) -> dict:
    """today / awaiting verification / overdue at `at`: from the status now, or rebuilt from
    the stage times for a past moment."""
    day_start = timezone.localtime(at).replace(hour=0, minute=0, second=0, microsecond=0)
    if current:
        waiting = Q(status=Status.REPORTED)
        overdue = overdue_q(at)
    else:
        waiting = (
            Q(reported_at__lte=at)
            & (Q(verified_at__isnull=True) | Q(verified_at__gt=at))
            & (Q(closed_at__isnull=True) | Q(closed_at__gt=at))
        )
        overdue = (
            Q(dispatched_at__lte=at, deadline__lt=at)
            & (Q(rectified_at__isnull=True) | Q(rectified_at__gt=at))
            & (Q(closed_at__isnull=True) | Q(closed_at__gt=at))
        )
    return qs.aggregate(
        today=Count("id", filter=Q(reported_at__gte=day_start, reported_at__lte=at)),
        awaiting_verification=Count("id", filter=waiting),
        overdue=Count("id", filter=overdue),
    )


def rates_at(qs: QuerySet[Issue], start: dt.datetime, end: dt.datetime, as_of: dt.datetime) -> dict:
    """Closure and on-time rates of the cases reported in [start, end), as they stood at `as_of`."""
    closed = Q(status=Status.ACCEPTED, closed_at__lte=as_of)
    agg = qs.filter(reported_at__gte=start, reported_at__lt=min(end, as_of)).aggregate(
        n=Count("id"),
        work=Count("id", filter=~Q(status__in=NOT_WORK)),
        closed=Count("id", filter=closed),
        due=Count("id", filter=closed & Q(deadline__isnull=False)),
        on_time=Count("id", filter=closed & Q(closed_at__lte=F("deadline"))),
    )
    return {
        "count": agg["n"],
        "closure_rate": round(agg["closed"] / agg["work"], 4) if agg["work"] else None,
        "on_time_rate": round(agg["on_time"] / agg["due"], 4) if agg["due"] else None,
    }


def _change(cur, old):
    if cur is None or old is None:
        return None
    return round(cur - old, 4)


def kpis(qs: QuerySet[Issue], *, period: str, now: dt.datetime) -> dict:
    """The five cards: value, last month's value and the change."""
    then = one_month_earlier(now)
    snap, snap_old = _snapshots(qs, now, current=True), _snapshots(qs, then, current=False)
    start, end = parse_month(period)
    prev_start, prev_end = parse_month(previous_month(start))
    age = min(now, end) - start
    rates, rates_old = rates_at(qs, start, end, now), rates_at(qs, prev_start, prev_end, prev_start + age)
    cards = {}
    for key in KPI_LABELS:
        cur, old = (snap[key], snap_old[key]) if key in snap else (rates[key], rates_old[key])
        cards[key] = {"label": KPI_LABELS[key], "value": cur, "previous": old, "change": _change(cur, old)}
    cards["closure_rate"]["period"] = cards["on_time_rate"]["period"] = period
    return cards


def weekly(qs: QuerySet[Issue], *, now: dt.datetime) -> list[dict]:
    """Reports and closures per week (Monday to Sunday, local time), the last TREND_WEEKS weeks."""
    local = timezone.localtime(now)
    monday = (local - dt.timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    first = monday - dt.timedelta(weeks=TREND_WEEKS - 1)
    reported = dict(
        qs.filter(reported_at__gte=first)
        .order_by()
        .annotate(w=TruncWeek("reported_at"))
        .values_list("w")
        .annotate(n=Count("id"))
    )
    closed = dict(
        qs.filter(status=Status.ACCEPTED, closed_at__gte=first)
        .order_by()
        .annotate(w=TruncWeek("closed_at"))
        .values_list("w")
        .annotate(n=Count("id"))
    )
    reported = {timezone.localtime(k).date(): v for k, v in reported.items()}
    closed = {timezone.localtime(k).date(): v for k, v in closed.items()}
    weeks = [(first + dt.timedelta(weeks=i)).date() for i in range(TREND_WEEKS)]
    return [{"week": w.isoformat(), "reported": reported.get(w, 0), "closed": closed.get(w, 0)} for w in weeks]


def by_category(qs: QuerySet[Issue]) -> list[dict]:
    """Cases per top-level category (a sub-category counts for its parent), most first."""
    names = dict(Category.objects.filter(parent__isnull=True).values_list("code", "name"))
    counts: dict[str, int] = {}
    for code, n in qs.order_by().values_list("category_id").annotate(n=Count("id")):
        top = code.split(".")[0]
        counts[top] = counts.get(top, 0) + n
    rows = [{"code": c, "name": category_name(names.get(c, c)), "count": n} for c, n in counts.items()]
    return sorted(rows, key=lambda r: (-r["count"], r["code"]))


def by_source(qs: QuerySet[Issue]) -> list[dict]:
    counts = dict(qs.order_by().values_list("source").annotate(n=Count("id")))
    return [{"code": s.value, "name": s.label, "count": counts.get(s.value, 0)} for s in Source]


def close_times(qs: QuerySet[Issue]) -> list[dict]:
    """How long closed cases took from report to acceptance: counts per bin of days."""
    took = ExpressionWrapper(F("closed_at") - F("reported_at"), output_field=DurationField())
    edges = [dt.timedelta(days=d) for d in CLOSE_BINS]
    agg = {}
    closed = qs.filter(status=Status.ACCEPTED, closed_at__isnull=False).annotate(took=took)
    for i, lo in enumerate(edges):
        cond = Q(took__gte=lo) & (Q(took__lt=edges[i + 1]) if i + 1 < len(edges) else Q())
        agg[f"b{i}"] = Count("id", filter=cond)
    counts = closed.aggregate(**agg)
    out = []
    for i, lo in enumerate(CLOSE_BINS):
        hi = CLOSE_BINS[i + 1] if i + 1 < len(CLOSE_BINS) else None
        out.append({"from_days": lo, "to_days": hi, "count": counts[f"b{i}"]})
    return out


def overview(*, user, period: str, area: str | None = None, filters: CaseFilter | None = None) -> dict:
    """The cockpit for the cases the user may see in `area` (a checked code, or everything)."""
    filters = filters or CaseFilter()
    now = timezone.now()
    qs = _scoped(user, area, filters)
    start, end = parse_month(period)
    month = qs.filter(reported_at__gte=start, reported_at__lt=end)
    return {
        "period": period,
        "previous_period": previous_month(start),
        "area": area,
        "generated_at": timezone.localtime(now).isoformat(),
        "kpis": kpis(qs, period=period, now=now),
        "weekly": weekly(qs, now=now),
        "by_category": by_category(month),
        "by_source": by_source(month),
        "close_time": close_times(month),
    }
