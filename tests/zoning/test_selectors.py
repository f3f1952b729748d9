"""Reads of the zoning app: the lists' box filters."""

from __future__ import annotations

from django.contrib.gis.geos import MultiPolygon, Polygon
from django.utils import timezone

from zoning import selectors, services
from zoning.models import ControlUnit

from .conftest import X0, Y0


def test_bbox_filters_select_by_shape_not_by_bounding_box(clean_zoning, planner, api):
    """An L-shaped unit (and zone) whose notch holds the box: the boxes overlap, the shapes do not."""
    d = 0.005
    ring = ((X0, Y0), (X0 + 2 * d, Y0), (X0 + 2 * d, Y0 + d), (X0 + d, Y0 + d), (X0 + d, Y0 + 2 * d), (X0, Y0 + 2 * d))
    shape = MultiPolygon(Polygon((*ring, ring[0])), srid=4326)
    services.unit_create(
        code="ZH33010639001", name="L 形单元", category="general", geom=shape, reason="测试", actor=planner
    )
    services.zone_create(code="HX-L", name="L 形红线", layer="red_line", geom=shape, reason="测试", actor=planner)
    notch = (X0 + 1.2 * d, Y0 + 1.2 * d, X0 + 1.8 * d, Y0 + 1.8 * d)
    arm = (X0 + 1.2 * d, Y0 + 0.2 * d, X0 + 1.8 * d, Y0 + 0.8 * d)
    assert ControlUnit.objects.filter(geom__bboverlaps=Polygon.from_bbox(notch)).exists()  # what the box test saw
    assert list(selectors.units(bbox=notch)) == []
    # As of now the demo's versions are still open (clean_zoning removes the units, not their history).
    as_of = [v.code for v in selectors.units(bbox=notch, as_of=timezone.now())]
    assert "ZH33010639001" not in as_of
    assert list(selectors.zones(bbox=notch)) == []
    assert [u.code for u in selectors.units(bbox=arm)] == ["ZH33010639001"]
    assert "ZH33010639001" in [v.code for v in selectors.units(bbox=arm, as_of=timezone.now())]
    assert [z.code for z in selectors.zones(bbox=arm)] == ["HX-L"]
    # and through the API
    bbox = ",".join(str(v) for v in notch)
    assert api.get("/api/zoning/units/", {"bbox": bbox}).json()["features"] == []
    assert api.get("/api/zoning/zones/", {"bbox": bbox}).json()["features"] == []
