"""Fixtures for the patrol tests: points inside the demo officer's cells, photos, reports."""

from __future__ import annotations

import io
import os
import uuid

import pytest
from django.contrib.gis.geos import Point

from gridgov.models import GridCell, Organization, User


@pytest.fixture
def users(db):
    return {
        u.username: u
        for u in User.objects.filter(
            username__in=[
                "city_supervisor",
                "district_supervisor",
                "township_supervisor",
                "officer",
                "planner",
                "responsible_unit",
            ]
        )
    }


@pytest.fixture
def officer_cell(db) -> GridCell:
    return GridCell.objects.filter(assignments__user__username="officer").order_by("code").first()


@pytest.fixture
def here(officer_cell) -> Point:
    """A point inside the demo officer's first cell (西湖区 第1街道, synthetic)."""
    p = officer_cell.geom.point_on_surface
    return Point(round(p.x, 7), round(p.y, 7), srid=4326)


@pytest.fixture
def plain_here(officer_cell) -> Point:
    """A point in the officer's district outside the red line and priority-protection units
    (the officer's own cells lie in the West Lake priority unit, which raises priority)."""
    from zoning.selectors import zones_covering

    cells = GridCell.objects.filter(township__parent_id=officer_cell.township.parent_id).order_by("code")
    for cell in cells:
        p = cell.geom.point_on_surface
        p = Point(round(p.x, 7), round(p.y, 7), srid=4326)
        hits = zones_covering(p)
        if not any(h.layer == "red_line" or (h.layer == "control_unit" and h.category == "priority") for h in hits):
            return p
    pytest.fail("every cell of the demo officer's district lies in a sensitive zone")


@pytest.fixture
def unit(db) -> Organization:
    return Organization.objects.get(name="西湖区城市管理局（演示）")


def jpeg_bytes(
    *,
    size=(64, 48),
    color=(30, 120, 60),
    gps: tuple[float, float] | None = None,
    orientation: int | None = None,
    unique: bool = False,
) -> bytes:
    """A small JPEG of one colour. `unique` paints an 8×8 block of random pixels in a corner so
    that no other call gives the same bytes (photos are stored by content: two cases given the
    same picture would share one photo, and its visibility)."""
    from PIL import Image

    img = Image.new("RGB", size, color)
    if unique:
        img.paste(Image.frombytes("RGB", (8, 8), os.urandom(8 * 8 * 3)), (0, 0))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if gps:
        lat, lon = gps

        def dms(v):
            d = int(v)
            m = int((v - d) * 60)
            s = round(((v - d) * 60 - m) * 60, 4)
            return (d, m, s)

        exif[0x8825] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lon)}
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture
def report(users, here):
    """Return a function that files a case through the service as the demo officer."""
    from patrol.actions.reporting import issue_report

    def make(**kw):
        args = dict(
            reporter=users["officer"],
            point=here,
            category="air.dust",
            description="工地扬尘（测试）",
            client_uuid=uuid.uuid4(),
        )
        args.update(kw)
        return issue_report(**args)[0]

    return make


@pytest.fixture(autouse=True)
def _fresh_reference_cache():
    """Each test sees the reference tables as its own transaction has them."""
    from patrol.reference import reference

    reference.clear()
    yield
    reference.clear()


# The full loop with one failed acceptance, as the audit trail lists it (DOMAIN.md: 上报 → 核实 →
# 交办 → 整改 → 核查验收, sent back once).
LOOP_WITH_ONE_FAIL = [
    "report",
    "verify",
    "dispatch",
    "start_rectification",
    "submit_rectification",
    "fail",
    "submit_rectification",
    "accept",
]
