"""OGC fixtures: units of known shapes inside 西湖区 on a clean slate (zoning's conftest squares)."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import GEOSGeometry

from tests.zoning.conftest import clean_zoning, planner  # noqa: F401  (fixtures reused here)

# Vector tile (z=14, x=13657, y=6746) covers lon 120.080566–120.102539, lat 30.240086–30.259067
# (ST_TileEnvelope); its MVT buffer (64/4096 of a side) reaches 0.000343° beyond each edge.
TILE = (14, 13657, 6746)
# An L whose box covers that tile while the shape stays outside it: the foot runs south of the
# tile, the upright 7 m west of its west edge, inside the MVT buffer.
L_SHAPE = (
    "MULTIPOLYGON(((120.0800 30.2300, 120.1200 30.2300, 120.1200 30.2350, 120.0805 30.2350,"
    " 120.0805 30.2550, 120.0800 30.2550, 120.0800 30.2300)))"
)
# A box in the L's crook: inside its envelope, touching none of it.
CROOK_BBOX = "120.09,30.24,120.11,30.25"


@pytest.fixture
def session(db):
    """session("officer"): a client signed in as that demo account (a browser session, as GIS
    clients behind a login and the OGC pages use; DRF's force_authenticate only reaches DRF views)."""
    from rest_framework.test import APIClient

    from gridgov.models import User

    def make(username: str) -> APIClient:
        client = APIClient()
        client.force_login(User.objects.get(username=username))
        return client

    return make


@pytest.fixture
def l_unit(clean_zoning, planner):  # noqa: F811
    from zoning import services

    return services.unit_create(
        code="ZH33010629001",
        name="L 形单元（测试）",
        category="key",
        geom=GEOSGeometry(L_SHAPE, srid=4326),
        access_list=[],
        reason="测试新增",
        actor=planner,
    )


@pytest.fixture
def square_unit(clean_zoning, planner):  # noqa: F811
    """A general unit inside the crook box: 120.095–120.105, 30.242–30.248."""
    from zoning import services

    return services.unit_create(
        code="ZH33010639002",
        name="方形单元（测试）",
        category="general",
        geom=GEOSGeometry(
            "MULTIPOLYGON(((120.095 30.242, 120.105 30.242, 120.105 30.248, 120.095 30.248, 120.095 30.242)))",
            srid=4326,
        ),
        access_list=[{"dimension": "spatial", "text": "测试"}],
        reason="测试新增",
        actor=planner,
    )
