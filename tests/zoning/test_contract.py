"""The contract other apps call: zones_covering / zones_intersecting, now and as of a date."""

from __future__ import annotations

import datetime as dt

from django.contrib.gis.geos import Point
from django.utils import timezone

from zoning import services
from zoning.selectors import ZoneHit, zones_covering, zones_intersecting

from .conftest import X0, Y0, square


def test_zones_covering_returns_zone_hits(make_unit, planner):
    make_unit("ZH33010619001", name="西湖群山优先保护单元")
    services.zone_create(
        code="HX330106001",
        name="西湖群山红线",
        layer="red_line",
        geom=square(X0, Y0, 0.005),
        reason="测试",
        actor=planner,
    )
    hits = zones_covering(Point(X0 + 0.002, Y0 + 0.002, srid=4326))
    assert ZoneHit("ZH33010619001", "西湖群山优先保护单元", "control_unit", "priority") in hits
    assert ZoneHit("HX330106001", "西湖群山红线", "red_line", None) in hits
    # A point on the boundary counts as covered.
    assert {h.code for h in zones_covering(Point(X0, Y0 + 0.003, srid=4326))} == {"ZH33010619001", "HX330106001"}
    assert zones_covering(Point(X0 - 0.01, Y0 - 0.01, srid=4326)) == []


def test_zones_intersecting_polygon(make_unit):
    make_unit("ZH33010639001")
    make_unit("ZH33010639002", x=X0 + 0.01)
    hits = zones_intersecting(square(X0 + 0.005, Y0, 0.01))
    assert sorted(h.code for h in hits) == ["ZH33010639001", "ZH33010639002"]


def test_as_of_sees_the_unit_as_it_was(make_unit, planner):
    unit = make_unit("ZH33010639001")
    before = timezone.now()
    services.unit_update(code=unit.code, base_version=1, reason="东移", actor=planner, geom=square(X0 + 0.02, Y0))
    old_point = Point(X0 + 0.005, Y0 + 0.005, srid=4326)
    assert "ZH33010639001" not in [h.code for h in zones_covering(old_point)]
    assert "ZH33010639001" in [h.code for h in zones_covering(old_point, as_of=before)]
    assert "ZH33010639001" not in [h.code for h in zones_covering(old_point, as_of=before - dt.timedelta(days=1))]


def test_demo_history_answers_as_of_2026_03_01(db):
    """The demo's units are dated 2026-01-01: the West Lake hills point is covered on 2026-03-01."""
    hits = zones_covering(Point(120.12, 30.22, srid=4326), as_of=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    assert {h.layer for h in hits} >= {"red_line", "control_unit"}
    assert zones_covering(Point(120.12, 30.22, srid=4326), as_of=dt.datetime(2025, 3, 1, tzinfo=dt.UTC)) == []
