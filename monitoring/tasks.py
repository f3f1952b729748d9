"""Background jobs of online monitoring (procrastinate, autodiscovered by its Django contrib)."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone
from procrastinate.contrib.django import app

from . import store
from .services import monitoring_tick


@app.periodic(cron="* * * * *", periodic_id="monitoring-judge")
@app.task(name="monitoring.judge", queueing_lock="monitoring-judge", pass_context=False)
def judge(timestamp: int | None = None) -> dict:
    """Every minute: judge the hours that are due (exceedances open cases within two minutes
    of the packet that completes the hour) and notice silent loggers."""
    return monitoring_tick()


@app.periodic(cron="7 3 * * *", periodic_id="monitoring-partitions")
@app.task(name="monitoring.partitions", queueing_lock="monitoring-partitions", pass_context=False)
def partitions(timestamp: int | None = None) -> dict:
    """Daily: make next months' partitions, drop those past retention, prune the ledger."""
    with connection.cursor() as cursor:
        return store.maintain(cursor, now=timezone.now())
