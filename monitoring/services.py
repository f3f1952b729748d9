"""Writes of online monitoring: registering loggers and their limits, and the judging tick.

The receiver writes data and counters itself, in bulk (`monitoring.store`); everything else
goes through here.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping

from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.errors import Conflict

from . import judging, signals
from .models import ExceedanceRule, Limit, Logger
from .selectors import place_of

log = logging.getLogger(__name__)

Bounds = tuple[float | None, float | None]


@transaction.atomic
def logger_register(
    *,
    mn: str,
    password: str,
    kind: str,
    name: str,
    point: Point,
    limits: Mapping[str, Bounds] | None = None,
    exceedance_rule: str = ExceedanceRule.MEAN,
    synthetic: bool = False,
) -> Logger:
    """Register a data logger at a point in the city, with its limits per factor."""
    if Logger.objects.filter(mn=mn).exists():
        raise Conflict(_("这个设备唯一标识 MN 已经登记过。"), code="mn_taken", field="mn")
    lon, lat = point.coords
    place = place_of(lon, lat)
    logger = Logger(
        mn=mn,
        password=password,
        kind=kind,
        name=name[:160],
        point=point,
        district_id=place.district_id,
        township_id=place.township_id,
        grid_cell_id=place.cell_id,
        exceedance_rule=exceedance_rule,
        synthetic=synthetic,
    )
    logger.full_clean()
    logger.save()
    limits_set(logger=logger, limits=limits or {})
    return logger


@transaction.atomic
def limits_set(*, logger: Logger, limits: Mapping[str, Bounds]) -> list[Limit]:
    """Replace the logger's limits: factor code → (low, high), either bound may be None."""
    logger.limits.all().delete()
    rows = []
    for factor, (low, high) in sorted(limits.items()):
        limit = Limit(logger=logger, factor=factor, low=low, high=high)
        limit.full_clean(exclude=["logger"])
        rows.append(limit)
    return Limit.objects.bulk_create(rows)


def monitoring_tick(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Judge the hours that are due and notice loggers that went silent or came back; the
    apps listening (sources) open or annotate cases in the same transaction."""
    now = now or timezone.now()
    with transaction.atomic():
        judgement = judging.judge_due(now=now)
        if judgement.exceeded:
            signals.hours_exceeded.send(sender=Logger, hours=judgement.exceeded)
        offline = judging.loggers_offline(now=now)
        if offline:
            signals.loggers_offline.send(sender=Logger, loggers=offline)
        back = judging.loggers_back_online()
        if back:
            signals.loggers_online.send(sender=Logger, loggers=back)
    summary = {
        "judged": judgement.judged,
        "exceeded": len(judgement.exceeded),
        "offline": len(offline),
        "back": len(back),
    }
    if any(summary.values()):
        log.info("monitoring tick: %s", summary)
    return summary
