"""Fixtures for the credit tests: synthetic enterprises in 西湖区, accounts, a controllable today."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from gridgov.models import GridCell, Role, User
from tests.patrol.conftest import here, officer_cell, users  # noqa: F401  (shared fixtures)

from .factories import make_enterprise

_numbers = itertools.count(9000)


@pytest.fixture
def free_cell(db) -> GridCell:
    """A cell of 西湖第1街道 that is not one of the demo officer's."""
    return (
        GridCell.objects.filter(township__code="330106001")
        .exclude(assignments__user__username="officer")
        .order_by("code")
        .first()
    )


@pytest.fixture
def enterprise(free_cell):
    """Return a factory of enterprises (key class unless told) in a free cell of 330106001."""

    def make(**kw):
        return make_enterprise(next(_numbers), cell=kw.pop("cell", free_cell), **kw)

    return make


@pytest.fixture
def contact_of(db):
    """Return a factory: the enterprise contact (企业环保联络员) account of an enterprise."""

    def make(e) -> User:
        return User.objects.create(
            username=f"contact_{e.credit_code}", role=Role.ENTERPRISE_CONTACT, organization=e.organization
        )

    return make


@pytest.fixture
def on_day(monkeypatch):
    """Return a setter: on_day(date) makes the credit services believe today is that date."""
    from credit import services

    def set_day(day: dt.date) -> None:
        monkeypatch.setattr(services, "today", lambda: day)

    return set_day


def days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)
