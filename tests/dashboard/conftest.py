"""Dashboard fixtures: committed synthetic scale data (small N) and hand-made cases in March 2020.

The synthetic cases cover the last two years; the hand-made ones sit in 2020-02/2020-03, a
period nothing else touches, so exact figures can be checked there.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone

SYNTHETIC_CASES = 3000


@pytest.fixture(scope="module")
def synthetic_cases(django_db_setup, django_db_blocker):
    """Commit SYNTHETIC_CASES bulk cases for a module (browser tests need them committed), and
    remove them afterwards so other apps' tests in the same database never see them."""
    from dashboard import demo
    from gridgov.models import DemoLoad

    with django_db_blocker.unblock():
        demo.load_demo(stdout=io.StringIO(), force=False, cases=SYNTHETIC_CASES)
    yield SYNTHETIC_CASES
    with django_db_blocker.unblock():
        with transaction.atomic():
            demo.generate_cases(0)
            DemoLoad.objects.filter(name=demo.MARKER).delete()


def at(day: int, month: int = 3, hour: int = 9) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2020, month, day, hour))


def make_case(
    *, township: str, status: str, reported: dt.datetime, category: str = "air.dust", description="test case", **extra
):
    """One case in the township's first grid cell, written straight to the table (test data)."""
    from gridgov.models import GridCell
    from patrol.models import Issue

    cell = GridCell.objects.filter(township__code=township).select_related("township__parent").order_by("code").first()
    centre = cell.geom.point_on_surface
    return Issue.objects.create(
        category_id=category,
        description=description,
        point=Point(centre.x, centre.y, srid=4326),
        grid_cell=cell,
        grid_cell_code=cell.code,
        township=cell.township,
        district=cell.township.parent,
        status=status,
        reported_at=reported,
        **extra,
    )


@pytest.fixture
def march_cases(db):
    """Known cases: 330106001 ×3 (one accepted in 2 days, one overdue, one rejected), 330106002 ×1
    accepted late, 330102001 ×1 accepted (outside 西湖区); February: 330106002 accepted in time."""
    c = {}
    c["a"] = make_case(
        township="330106001", status="accepted", reported=at(2), deadline=at(10), closed_at=at(4), accepted_at=at(4)
    )
    c["b"] = make_case(township="330106001", status="rectifying", reported=at(3), deadline=at(8))
    c["c"] = make_case(township="330106001", status="rejected", reported=at(5), closed_at=at(6))
    c["d"] = make_case(
        township="330106002", status="accepted", reported=at(6), deadline=at(9), closed_at=at(12), accepted_at=at(12)
    )
    c["e"] = make_case(
        township="330102001", status="accepted", reported=at(7), deadline=at(20), closed_at=at(8), accepted_at=at(8)
    )
    c["f"] = make_case(
        township="330106002",
        status="accepted",
        reported=at(3, month=2),
        deadline=at(20, month=2),
        closed_at=at(5, month=2),
        accepted_at=at(5, month=2),
    )
    return c


MARCH = "since=2020-03-01&until=2020-03-31"
