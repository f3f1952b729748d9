"""Background jobs of the credit app (procrastinate, autodiscovered by its Django contrib)."""

from __future__ import annotations

from procrastinate.contrib.django import app

from .services import credit_expire_due, credit_rewards_due


@app.periodic(cron="5 0 * * *", periodic_id="credit-daily")
@app.task(name="credit.expire_and_reward", queueing_lock="credit-daily", pass_context=False)
def expire_and_reward(timestamp: int | None = None) -> int:
    """Every night: deductions whose date has come stop counting (a history row each, a level
    change included), then clean records with a commitment earn points back. Idempotent."""
    return credit_expire_due() + credit_rewards_due()
