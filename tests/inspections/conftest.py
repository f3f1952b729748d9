"""Fixtures for the 双随机 tests: a township of 西湖区 away from the demo officer's cells, with
synthetic enterprises in it, and an inspector roster for 西湖区."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from gridgov.models import AdminArea, GridCell, Role, User
from inspections.models import InspectorDuty
from tests.credit.factories import make_enterprise
from tests.patrol.conftest import here, officer_cell, users  # noqa: F401  (shared fixtures)

_numbers = itertools.count(5000)


def xihu_townships():
    """The townships of 西湖区 other than the demo officer's (330106001), by code."""
    return AdminArea.objects.filter(parent__code="330106", level="township").exclude(code="330106001").order_by("code")


@pytest.fixture
def township(db) -> AdminArea:
    """A township of 西湖区 away from the demo officer's cells, holding only the enterprises a test
    makes: the demo's are moved to 330106001 for the test (its transaction rolls it back)."""
    from sources.models import Enterprise

    found = xihu_townships().first()
    Enterprise.objects.filter(township=found).update(township=AdminArea.objects.get(code="330106001"))
    return found


@pytest.fixture
def cells(township) -> list[GridCell]:
    return list(GridCell.objects.filter(township=township).order_by("code")[:6])


@pytest.fixture
def firms(cells):
    """Return a factory: firms(n, management_class) makes n enterprises spread over the cells."""

    def make(n: int, management_class: str = "key"):
        return [
            make_enterprise(next(_numbers), cell=cells[i % len(cells)], management_class=management_class)
            for i in range(n)
        ]

    return make


@pytest.fixture
def roster(users):  # noqa: F811  (the fixture imported above)
    """Return a factory: roster(n) puts the demo officer and n−1 new officers on the 西湖区 roster."""
    district = AdminArea.objects.get(code="330106")

    def make(n: int = 4) -> list[User]:
        people = [users["officer"]]
        for i in range(1, n):
            people.append(
                User.objects.create(username=f"inspector{i}", first_name=f"执法员{i}（合成）", role=Role.GRID_OFFICER)
            )
        for u in people:
            InspectorDuty.objects.get_or_create(user=u, area=district)
        return people

    return make


def plan_body(township_code: str, **kw) -> dict:
    body = {
        "name": "本季度双随机抽查（测试）",
        "period_start": (timezone.localdate() - dt.timedelta(days=10)).isoformat(),
        "period_end": (timezone.localdate() + dt.timedelta(days=80)).isoformat(),
        "scope": [township_code],
        "pools": [
            {"credit_levels": ["yellow", "red", "black"], "ratio": 1},
            {"management_class": "key", "ratio": 0.25},
            {"ratio": 0.05},
        ],
    }
    body.update(kw)
    return body
