"""The writes of the sources block of reliability/access.py, role by role, inside and outside
the caller's district (the matrix covers the reads)."""

from __future__ import annotations

import pytest

from reliability import access

from .conftest import inside, outlet_payload

URL = "/api/sources/enterprises/"
pytestmark = pytest.mark.django_db
# the demo accounts' districts (gridgov/management/commands/load_demo.py DEMO_ACCOUNTS)
DISTRICT_OF = {"district_supervisor": "330106"}


def expected(role: str, district: str, *, created: int) -> int:
    if role == access.ANONYMOUS:
        return 403
    if role not in access.ROLE_SETS["sources_manager"]:
        return 403
    mine = DISTRICT_OF.get(role)
    return created if mine is None or mine == district else 403


@pytest.mark.parametrize("role", access.ROLES)
def test_register_and_add_outlet_by_role(role, api, user_api, payload, xihu_cell, yuhang_cell):
    client = api if role == access.ANONYMOUS else user_api(role)
    for cell, district in ((xihu_cell, "330106"), (yuhang_cell, "330110")):
        body = payload(cell=cell)
        r = client.post(URL, body, format="json")
        assert r.status_code == expected(role, district, created=201), (role, district, r.json())
        # an outlet on an enterprise the city supervisor registered there
        theirs = payload(cell=cell)
        assert user_api("city_supervisor").post(URL, theirs, format="json").status_code == 201
        out = outlet_payload(*inside(cell))
        r = client.post(f"{URL}{theirs['credit_code']}/outlets/", out, format="json")
        assert r.status_code == expected(role, district, created=201), (role, district, r.json())
