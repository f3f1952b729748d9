"""Fixtures for the sources tests: points in the demo grid, valid credit codes, payloads."""

from __future__ import annotations

import itertools
import random

import pytest
from django.contrib.gis.geos import Point

from gridgov.models import GridCell
from sources.codes import CHARSET, check_character

_serial = itertools.count(1)
_random = random.SystemRandom()


def credit_code(prefix: str = "91330106MA2") -> str:
    """A fresh valid credit code (random body, GB 32100 check character computed)."""
    body = prefix + "".join(_random.choice(CHARSET) for _ in range(17 - len(prefix)))
    return body + check_character(body)


def inside(cell: GridCell) -> tuple[float, float]:
    """(lat, lon) of a point inside a grid cell."""
    p = cell.geom.point_on_surface
    return round(p.y, 7), round(p.x, 7)


@pytest.fixture
def officer_cell(db) -> GridCell:
    return GridCell.objects.filter(assignments__user__username="officer").order_by("code").first()


@pytest.fixture
def xihu_cell(db) -> GridCell:
    """A 西湖区 cell none of the demo officer's (township 330106001 is the demo supervisor's)."""
    return (
        GridCell.objects.filter(township__code="330106001")
        .exclude(assignments__user__username="officer")
        .order_by("code")
        .first()
    )


@pytest.fixture
def yuhang_cell(db) -> GridCell:
    return GridCell.objects.filter(township__parent__code="330110").order_by("code").first()


@pytest.fixture
def payload(xihu_cell):
    def make(**extra) -> dict:
        code = extra.pop("credit_code", None) or credit_code()
        lat, lon = inside(extra.pop("cell", xihu_cell))
        body = {
            "credit_code": code,
            "name": f"测试化工有限公司{code[-6:]}（合成）",
            "industry_code": "2614",
            "management_class": "key",
            "lat": lat,
            "lon": lon,
            "permit": {"number": code + "001P", "valid_from": "2024-01-01", "valid_to": "2028-12-31"},
        }
        body.update(extra)
        return body

    return make


def outlet_payload(lat: float, lon: float, **extra) -> dict:
    body = {
        "code": "DW001",
        "lat": lat,
        "lon": lon,
        "mn": f"TEST{_random.randrange(10**12):012d}{next(_serial)}",
        "password": "123456",
        "limits": {"w01018": 50, "w21003": 5, "w01001": [6, 9]},
    }
    body.update(extra)
    return body


def point(lat: float, lon: float) -> Point:
    return Point(lon, lat, srid=4326)
