"""Sections off target → cases (断面水质不达标), as an exceedance does for an outlet.

Each day (the daily job, for the days just complete) every water section with a target gets
its class for the day (`quality.series`: daily means of valid values, GB 3838-2002 single
factor). A class worse than the target is an off-target day:

- the first off-target day of an episode opens one patrol case (source `online_monitoring`,
  category `water.section_off_target`), routed like any case by the section's location, so
  it lands in the section's township, with the section, the class, the target and the
  factors beyond it in its description;
- further off-target days add a note to that case; days without a valid class do not end the
  episode; a day that meets the target does, and the next off-target day opens a new case.

Cases are opened through `patrol.actions.reporting.issue_report` with a client_uuid derived
from the episode, so a day judged twice opens the case once. Each section is its own
savepoint: one that fails is logged and does not stop the others.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.db import transaction

from monitoring.factors import factor_label
from patrol.actions.reporting import issue_report
from patrol.actions.transitions import issue_note

from . import series, water
from .models import OffTargetEpisode, Station, StationKind

log = logging.getLogger(__name__)

CATEGORY = "water.section_off_target"
NAMESPACE = uuid.UUID("3b0f6c7e-5a2d-4c1b-8e9f-6d3a2b1c3838")


def _beyond(result: water.WaterResult, target: str, values: dict) -> str:
    """The factors worse than the target, as text: 氨氮（w21003）1.62 mg/L（Ⅳ类）."""
    parts = []
    for code, cls in result.factor_classes.items():
        if not water.meets_target(cls, target):
            parts.append(f"{factor_label(code)}（{code}）{values[code]:.4g} mg/L（{cls}类）")
    return "、".join(parts)


def _description(station: Station, day: dt.date, result: water.WaterResult, values: dict) -> str:
    return (
        f"断面水质不达标（自动生成）：{station.name}（{station.code}）{day:%Y-%m-%d} 水质类别 {result.water_class}类，"
        f"水质目标 {station.target_class}类；超过目标的因子：{_beyond(result, station.target_class, values)}。"
        f"依据 GB 3838-2002 单因子评价，数据来源：HJ 212 水质自动监测（数采仪 MN {station.logger.mn}）。"
    )


def _data(day: dt.date, result: water.WaterResult, values: dict, station: Station) -> dict:
    return {
        "quality": "off_target",
        "station": station.code,
        "day": day.isoformat(),
        "class": result.water_class,
        "target": station.target_class,
        "worst": list(result.worst),
        "values": {k: values[k] for k in result.factor_classes},
    }


def day_record(*, station: Station, day: dt.date, result: water.WaterResult | None, values: dict) -> str:
    """Record one section's day; return what it did: opened, added, ended, same or nothing."""
    if result is None or not station.target_class:
        return "nothing"
    latest = (
        OffTargetEpisode.objects.select_for_update().filter(station=station, first_day__lte=day).order_by("-first_day")
    ).first()
    off = not water.meets_target(result.water_class, station.target_class)
    if not off:
        if latest is not None and latest.ended_on is None and latest.last_day < day:
            latest.ended_on = day
            latest.save(update_fields=["ended_on"])
            return "ended"
        return "nothing"
    if latest is not None and latest.first_day <= day <= latest.last_day:
        return "same"  # the day judged again
    if latest is not None and latest.ended_on is None:
        latest.last_day = day
        latest.days += 1
        if water.class_rank(result.water_class) > water.class_rank(latest.worst_class):
            latest.worst_class = result.water_class
        latest.save(update_fields=["last_day", "days", "worst_class"])
        if latest.issue_id:
            issue_note(
                issue_id=latest.issue_id,
                note=(
                    f"新增不达标日 {day:%Y-%m-%d}：{station.name} 水质类别 {result.water_class}类（目标 "
                    f"{station.target_class}类），{_beyond(result, station.target_class, values)}；"
                    f"本次累计 {latest.days} 天。"
                ),
                data=_data(day, result, values, station),
            )
        return "added"
    episode = OffTargetEpisode(station=station, first_day=day, last_day=day, worst_class=result.water_class)
    episode.full_clean(exclude=["station", "issue"])
    episode.save()
    issue, _created = issue_report(
        reporter=None,
        point=station.logger.point,
        category=CATEGORY,
        description=_description(station, day, result, values),
        source="online_monitoring",
        client_uuid=uuid.uuid5(NAMESPACE, f"offtarget:{station.pk}:{day.isoformat()}"),
        crs_note="wgs84",
    )
    issue_note(
        issue_id=issue.pk,
        note=f"地表水断面 {station.name}（{station.code}）{day:%Y-%m-%d} 水质不达标。",
        data=_data(day, result, values, station),
    )
    episode.issue = issue
    episode.save(update_fields=["issue"])
    return "opened"


def offtarget_judge(*, days: list[dt.date], stations: list[Station] | None = None) -> dict[str, int]:
    """Judge the sections with a target (all, or those of `stations`) on each of `days`, in
    order; return how many section-days were opened, added, ended, same or nothing."""
    qs = Station.objects.select_related("logger").filter(kind=StationKind.WATER).exclude(target_class="")
    if stations is not None:
        qs = qs.filter(pk__in=[s.pk for s in stations])
    sections = {s.logger_id: s for s in qs}
    summary: dict[str, int] = {}
    if not sections or not days:
        return summary
    found = series.water_days(sections, min(days), max(days))
    for day in sorted(days):
        for logger_id, station in sorted(sections.items()):
            d = found.get((logger_id, day))
            try:
                result = water.water_class(d.values, station.water_body) if d else None
                with transaction.atomic():
                    what = day_record(station=station, day=day, result=result, values=d.values if d else {})
            except Exception:  # one section must not hold back the others; it is in the log
                log.exception("quality: could not judge section %s on %s", station.code, day)
                what = "failed"
            summary[what] = summary.get(what, 0) + 1
    return summary
