"""Fixtures for the public side: a published case with before/after photos and personal data in
its description (the things redaction must take out), and a citizen's report."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.gis.geos import Point

from tests.patrol.conftest import _fresh_reference_cache, here, jpeg_bytes, officer_cell, report, unit, users  # noqa: F401

# Personal data written into the synthetic case's description (none of it may be published).
NAME, PHONE, LANDLINE, ID_NUMBER = "王小明", "139 1234 5678", "0571-8765 4321", "33010619900307123X"
DESCRIPTION = f"业主{NAME}在河边倾倒建筑垃圾，联系电话{PHONE}，座机{LANDLINE}，身份证{ID_NUMBER}（合成）"


def make_published_case(*, tag: str = "") -> dict:
    """Report → verify → dispatch → rectify (photo) → accept (photo) → publish, through the
    services, in the demo officer's first cell. Returns the case and its photo hashes."""
    from gridgov.models import GridCell, Organization, User
    from patrol.actions.photos import photo_store
    from patrol.actions.reporting import issue_report
    from patrol.actions.transitions import issue_transition

    people = {
        u.username: u for u in User.objects.filter(username__in=["officer", "district_supervisor", "responsible_unit"])
    }
    cell = GridCell.objects.filter(assignments__user__username="officer").order_by("code").first()
    p = cell.geom.point_on_surface
    # Photos are stored by content: each case gets pictures no other case has.
    before = photo_store(data=jpeg_bytes(color=(180, 60, 30), unique=True), uploaded_by=people["officer"])[0]
    issue, _ = issue_report(
        reporter=people["officer"],
        point=Point(p.x, p.y, srid=4326),
        category="solid_waste.illegal_dumping",
        description=DESCRIPTION + tag,
        client_uuid=uuid.uuid4(),
        photo_hashes=[before.sha256],
    )
    sup, ru = people["district_supervisor"], people["responsible_unit"]
    after = photo_store(data=jpeg_bytes(color=(30, 160, 60), unique=True), uploaded_by=ru)[0]
    check = photo_store(data=jpeg_bytes(color=(60, 90, 200), unique=True), uploaded_by=sup)[0]
    city_unit = Organization.objects.get(name="西湖区城市管理局（演示）")
    steps = [
        ("verify", sup, {}),
        ("dispatch", sup, {"unit_id": city_unit.pk}),
        ("start_rectification", ru, {}),
        ("submit_rectification", ru, {"photo_hashes": [after.sha256], "note": "已清运（合成）"}),
        ("accept", sup, {"photo_hashes": [check.sha256], "note": "复查合格（合成）"}),
        ("publish", sup, {}),
    ]
    for action, actor, params in steps:
        issue_transition(issue_id=issue.pk, action=action, actor=actor, **params)
    issue.refresh_from_db()
    return {"issue": issue, "before": before.sha256, "after": after.sha256, "check": check.sha256}


@pytest.fixture
def published(db):
    return make_published_case()


@pytest.fixture
def citizen_quota_clear(db):
    """Give the citizen form's per-address quota back before and after a test."""
    from django.core.cache import cache

    from patrol.actions.citizen import _quota_key

    keys = [_quota_key("127.0.0.1")]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)
