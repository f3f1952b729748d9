"""Registering a station, the write of the quality block of reliability/access.py, role by role,
inside and outside the caller's district (the matrix covers the reads, all public)."""

from __future__ import annotations

import pytest

from reliability import access

from .conftest import unique

URL = "/api/quality/stations/"
pytestmark = pytest.mark.django_db
# the demo accounts' districts (gridgov/management/commands/load_demo.py DEMO_ACCOUNTS)
DISTRICT_OF = {"district_supervisor": "330106"}


def expected(role: str, district: str) -> int:
    if role == access.ANONYMOUS or role not in access.ROLE_SETS["quality_manager"]:
        return 403
    mine = DISTRICT_OF.get(role)
    return 201 if mine is None or mine == district else 403


@pytest.mark.parametrize("role", access.ROLES)
def test_register_a_station_by_role(role, api, user_api, inside):
    client = api if role == access.ANONYMOUS else user_api(role)
    for district in ("330106", "330110"):
        body = {"code": unique("R"), "name": "权限测试站（合成）", "kind": "water", "target_class": "III"}
        body |= {**inside(district), "mn": unique("RMN"), "password": "pw"}
        r = client.post(URL, body, format="json")
        assert r.status_code == expected(role, district), (role, district, r.content)
        if r.status_code == 403:
            code = "outside_jurisdiction" if role in DISTRICT_OF else "not_a_station_manager"
            if role == access.ANONYMOUS:
                code = "not_authenticated"
            assert r.json()["code"] == code, (role, r.content)
