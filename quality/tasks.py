"""Background jobs of environmental quality (procrastinate, autodiscovered by its Django contrib)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from procrastinate.contrib.django import app

from .conf import setting
from .offtarget import offtarget_judge


@app.periodic(cron="30 0 * * *", periodic_id="quality-offtarget")
@app.task(name="quality.offtarget", queueing_lock="quality-offtarget", pass_context=False)
def offtarget(timestamp: int | None = None) -> dict:
    """Daily, just after midnight: judge yesterday's class of every section with a target (and
    the days before it again, for data that arrived late); off-target days open or add to cases."""
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    back = int(setting("QUALITY_REJUDGE_DAYS"))
    return offtarget_judge(days=[yesterday - dt.timedelta(days=k) for k in range(back, -1, -1)])
