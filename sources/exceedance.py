"""Online monitoring → cases (自动监测数据直接应用于执法): what the judging job found, as cases.

- The first exceeded hour of an outlet's factor opens an episode and one patrol case
  (source `online_monitoring`, category air or water exceedance), routed like any case by
  the outlet's location, with the enterprise as the responsible unit. Further exceeded hours
  of the episode add a note to that case. An episode ends with 24 clear hours: an exceedance
  25 hours or more after the episode's last one (24 hours without one in between) opens a
  new episode and a new case.
- A logger silent past MONITORING_OFFLINE_MINUTES opens one 数采仪离线 case per outage; when
  it speaks again the case gets a note.

Cases are opened through `patrol.actions.reporting.issue_report` with a client_uuid derived from the
episode or outage, so a judgement run twice opens the case once. Each item is its own
savepoint: one that fails is logged and does not stop the others.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.db import transaction
from django.utils import timezone

from monitoring.conf import setting as monitoring_setting
from monitoring.factors import factor_label, factor_unit
from monitoring.judging import ExceededHour
from patrol.actions.reporting import issue_report
from patrol.actions.transitions import issue_note

from .models import Episode, EpisodeHour, Outage, Outlet, OutletKind

log = logging.getLogger(__name__)

CLEAR_HOURS = 24
NAMESPACE = uuid.UUID("6f1d3c1e-2b4a-4b8e-9d0a-5a1c0e212017")
CATEGORY = {OutletKind.AIR: "air.online_exceedance", OutletKind.WATER: "water.online_exceedance"}
OFFLINE_CATEGORY = "other.logger_offline"


def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment)


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def _limit_text(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{_num(low)}–{_num(high)}"
    return _num(high if high is not None else low)


def _hour_text(hour: dt.datetime) -> str:
    start = _local(hour)
    return f"{start:%Y-%m-%d %H:00}–{start + dt.timedelta(hours=1):%H:00}"


def exceedance_description(outlet: Outlet, h: ExceededHour) -> str:
    unit = factor_unit(h.factor)
    kind = "废气" if outlet.kind == OutletKind.AIR else "废水"
    basis = f"有效分钟 {h.valid_minutes}" if h.valid_minutes is not None else "数采仪小时数据"
    return (
        f"在线监测超标（自动生成）：{outlet.enterprise.name}{kind}排放口 {outlet.code}（数采仪 MN {outlet.logger.mn}）"
        f"{factor_label(h.factor)}（{h.factor}）{_hour_text(h.hour)} 小时均值 {_num(h.value)} {unit}，"
        f"许可限值 {_limit_text(h.limit_low, h.limit_high)} {unit}（{basis}）。数据来源：HJ 212 在线监测。"
    )


def _note_for_hour(outlet: Outlet, h: ExceededHour, episode: Episode) -> str:
    unit = factor_unit(h.factor)
    return (
        f"新增超标小时 {_hour_text(h.hour)}：{factor_label(h.factor)}（{h.factor}）{_num(h.value)} {unit}，"
        f"限值 {_limit_text(h.limit_low, h.limit_high)} {unit}；本次超标累计 {episode.hours} 小时"
        f"（MN {outlet.logger.mn}）。"
    )


def _hour_data(h: ExceededHour) -> dict:
    return {
        "monitoring": "exceedance",
        "factor": h.factor,
        "hour": h.hour.isoformat(),
        "value": h.value,
        "limit_low": h.limit_low,
        "limit_high": h.limit_high,
        "valid_minutes": h.valid_minutes,
    }


def exceedance_record(*, outlet: Outlet, hour: ExceededHour) -> Episode:
    """Add an exceeded hour to its episode, or open a new episode and its case."""
    window = dt.timedelta(hours=CLEAR_HOURS + 1)
    episode = (
        Episode.objects.select_for_update()
        .filter(outlet=outlet, factor=hour.factor, last_hour__gt=hour.hour - window, first_hour__lt=hour.hour + window)
        .order_by("-last_hour")
        .first()
    )
    if episode is not None:
        if episode.exceeded.filter(hour=hour.hour).exists():
            return episode  # the same hour judged again
        episode.first_hour = min(episode.first_hour, hour.hour)
        episode.last_hour = max(episode.last_hour, hour.hour)
        episode.hours += 1
        episode.peak = max(episode.peak, hour.value)
        episode.save(update_fields=["first_hour", "last_hour", "hours", "peak"])
        _hour_row(episode, hour)
        if episode.issue_id:
            issue_note(issue_id=episode.issue_id, note=_note_for_hour(outlet, hour, episode), data=_hour_data(hour))
        return episode
    episode = Episode(outlet=outlet, factor=hour.factor, first_hour=hour.hour, last_hour=hour.hour, peak=hour.value)
    episode.full_clean(exclude=["outlet", "issue"])
    episode.save()
    _hour_row(episode, hour)
    issue, _created = issue_report(
        reporter=None,
        point=outlet.point,
        category=CATEGORY[outlet.kind],
        description=exceedance_description(outlet, hour),
        source="online_monitoring",
        client_uuid=uuid.uuid5(NAMESPACE, f"exceedance:{outlet.pk}:{hour.factor}:{hour.hour.isoformat()}"),
        crs_note="wgs84",
    )
    issue_note(
        issue_id=issue.pk,
        note=f"在线监测：{outlet.enterprise.name} {outlet.code} 超标，责任单位为该企业。",
        data=_hour_data(hour),
        responsible_unit_id=outlet.enterprise.organization_id,
    )
    episode.issue = issue
    episode.save(update_fields=["issue"])
    return episode


def _hour_row(episode: Episode, h: ExceededHour) -> None:
    EpisodeHour.objects.create(
        episode=episode,
        hour=h.hour,
        value=h.value,
        limit_low=h.limit_low,
        limit_high=h.limit_high,
        valid_minutes=h.valid_minutes,
    )


def outage_open(*, outlet: Outlet, silent_since: dt.datetime) -> Outage:
    """One 数采仪离线 case for a logger's silence (a second call for the same silence is a no-op)."""
    outage = Outage.objects.filter(outlet=outlet, silent_since=silent_since).first()
    if outage is not None:
        return outage
    minutes = int(monitoring_setting("MONITORING_OFFLINE_MINUTES"))
    issue, _created = issue_report(
        reporter=None,
        point=outlet.point,
        category=OFFLINE_CATEGORY,
        description=(
            f"数采仪离线（自动生成）：{outlet.enterprise.name} 排放口 {outlet.code}（数采仪 MN {outlet.logger.mn}）"
            f"自 {_local(silent_since):%Y-%m-%d %H:%M} 起超过 {minutes} 分钟未上传数据。"
        ),
        source="online_monitoring",
        client_uuid=uuid.uuid5(NAMESPACE, f"outage:{outlet.pk}:{silent_since.isoformat()}"),
        crs_note="wgs84",
    )
    issue_note(
        issue_id=issue.pk,
        note=f"在线监测：{outlet.enterprise.name} {outlet.code} 数采仪离线，责任单位为该企业。",
        data={"monitoring": "offline", "mn": outlet.logger.mn, "silent_since": silent_since.isoformat()},
        responsible_unit_id=outlet.enterprise.organization_id,
    )
    return Outage.objects.create(outlet=outlet, silent_since=silent_since, issue=issue)


def outage_close(*, outlet: Outlet, silent_since: dt.datetime, back_at: dt.datetime) -> Outage | None:
    outage = Outage.objects.filter(outlet=outlet, silent_since=silent_since, ended_at__isnull=True).first()
    if outage is None:
        return None
    outage.ended_at = back_at
    outage.save(update_fields=["ended_at"])
    if outage.issue_id:
        issue_note(
            issue_id=outage.issue_id,
            note=f"数采仪恢复通讯：{_local(back_at):%Y-%m-%d %H:%M}（MN {outlet.logger.mn}）。",
            data={"monitoring": "online", "back_at": back_at.isoformat()},
        )
    return outage


def _outlets(logger_ids) -> dict[int, Outlet]:
    rows = Outlet.objects.filter(logger_id__in=set(logger_ids)).select_related("enterprise", "logger")
    return {o.logger_id: o for o in rows}


def _each(items, action, what: str) -> None:
    for item in items:
        try:
            with transaction.atomic():
                action(item)
        except Exception:  # one bad item must not hold back the others; it is in the log
            log.exception("online monitoring: could not record %s %r", what, item)


def on_hours_exceeded(sender, hours: list[ExceededHour], **kwargs) -> None:
    outlets = _outlets(h.logger_id for h in hours)
    mine = sorted((h for h in hours if h.logger_id in outlets), key=lambda h: (h.hour, h.logger_id, h.factor))
    _each(mine, lambda h: exceedance_record(outlet=outlets[h.logger_id], hour=h), "exceeded hour")


def on_loggers_offline(sender, loggers: list[tuple[int, dt.datetime]], **kwargs) -> None:
    outlets = _outlets(i for i, _ in loggers)
    mine = [(i, since) for i, since in loggers if i in outlets]
    _each(mine, lambda x: outage_open(outlet=outlets[x[0]], silent_since=x[1]), "outage")


def on_loggers_online(sender, loggers: list[tuple[int, dt.datetime, dt.datetime]], **kwargs) -> None:
    outlets = _outlets(i for i, *_ in loggers)
    mine = [x for x in loggers if x[0] in outlets]
    _each(mine, lambda x: outage_close(outlet=outlets[x[0]], silent_since=x[1], back_at=x[2]), "recovery")
