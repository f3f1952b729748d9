"""Jurisdiction: a grid cell outside the user's scope answers exactly like a missing one."""

import pytest

from gridgov.jurisdiction import user_scope
from gridgov.models import AdminArea, GridCell, User

pytestmark = pytest.mark.django_db


def cell_in(township_prefix):
    return GridCell.objects.filter(code__startswith=township_prefix).order_by("code").first().code


@pytest.mark.parametrize(
    "username,visible,hidden",
    [
        ("city_supervisor", ["330106", "330102", "330127"], []),
        ("district_supervisor", ["330106001", "330106002"], ["330102", "330127"]),
        ("township_supervisor", ["330106001"], ["330106002", "330102"]),
        ("officer", ["330106001"], ["330106002", "330102"]),
        ("responsible_unit", ["330106"], ["330102"]),
    ],
)
def test_grid_cell_detail_by_scope(user_api, username, visible, hidden):
    client = user_api(username)
    for prefix in visible:
        code = cell_in(prefix)
        r = client.get(f"/api/grid-cells/{code}/")
        assert r.status_code == 200, (username, code)
        assert r.json()["properties"]["code"] == code
    for prefix in hidden:
        code = cell_in(prefix)
        r = client.get(f"/api/grid-cells/{code}/")
        missing = client.get("/api/grid-cells/99999999999999/")
        assert r.status_code == missing.status_code == 404
        assert r.content.decode().replace(code, "X") == missing.content.decode().replace("99999999999999", "X")


def test_anonymous_sees_no_grid_cell_detail(api):
    assert api.get(f"/api/grid-cells/{cell_in('330106')}/").status_code == 404


def test_scope_expands_districts_to_their_townships():
    scope = user_scope(User.objects.get(username="district_supervisor"))
    xihu_townships = set(AdminArea.objects.filter(parent__code="330106").values_list("pk", flat=True))
    assert not scope.everything and scope.township_ids == xihu_townships
    assert user_scope(User.objects.get(username="city_supervisor")).everything


def test_superuser_sees_everything():
    admin = User.objects.create_superuser("root-test", password="x-very-long-pass")
    assert user_scope(admin).everything
