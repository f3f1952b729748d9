"""Background jobs of the patrol app (procrastinate, autodiscovered by its Django contrib)."""

from __future__ import annotations

from procrastinate.contrib.django import app

from .actions.escalation import issues_escalate_overdue


@app.periodic(cron="*/10 * * * *", periodic_id="patrol-escalation")
@app.task(name="patrol.escalate_overdue_issues", queueing_lock="patrol-escalation", pass_context=False)
def escalate_overdue_issues(timestamp: int | None = None) -> int:
    """督办: escalate every overdue case (every 10 minutes); idempotent within a run."""
    return issues_escalate_overdue()
