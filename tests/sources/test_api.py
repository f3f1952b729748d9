"""The pollution-source API through HTTP, checking the database behind each answer.

Contracts from issue 15: POST /api/sources/enterprises/ → 201 with district, township,
grid_cell and zones; the GeoJSON list and its filters; the outlet POST → 201 with an id; the
400s naming the field under "Bad input"; the public never sees MN or PW.
"""

from __future__ import annotations

import pytest

from gridgov import coords
from gridgov.models import Organization
from monitoring.models import Limit, Logger
from sources.codes import check_character
from sources.models import Enterprise, Permit, SourceEvent
from zoning.models import ControlUnit, Zone

from .conftest import credit_code, inside, outlet_payload, point

URL = "/api/sources/enterprises/"
pytestmark = pytest.mark.django_db


def test_example_codes_of_the_issue_check():
    # issue 15: 91330100799655058B is valid; the permit example's first 18 characters too
    assert check_character("91330100799655058") == "B"
    assert check_character("91130200699229617") == "X"


def test_register_answers_201_with_the_place(user_api, payload, xihu_cell):
    body = payload()
    here = point(body["lat"], body["lon"])
    # the 三线一单 units and zones covering the point, found by GEOS here (the service asks PostGIS)
    zones = {(u.code, "control_unit") for u in ControlUnit.objects.all() if u.geom.covers(here)}
    zones |= {(z.code, z.layer) for z in Zone.objects.all() if z.geom.covers(here)}
    assert any(layer == "control_unit" for _, layer in zones), "the point should lie in a demo unit"
    r = user_api("district_supervisor").post(URL, body, format="json")
    assert r.status_code == 201, r.json()
    got = r.json()
    assert got["district"] == {"code": "330106", "name": xihu_cell.township.parent.name}
    assert got["township"]["code"] == xihu_cell.township.code
    assert got["grid_cell"] == {"code": xihu_cell.code}
    assert {(z["code"], z["layer"]) for z in got["zones"]} == zones and len(got["zones"]) == len(zones)
    assert all({"code", "name", "layer", "category"} <= set(z) for z in got["zones"])
    assert got["permit"] == {"number": body["permit"]["number"], "valid_from": "2024-01-01", "valid_to": "2028-12-31"}
    e = Enterprise.objects.get(credit_code=body["credit_code"])
    assert e.organization.kind == Organization.Kind.ENTERPRISE and e.organization.name == body["name"]
    assert e.organization.area_id == xihu_cell.township_id and e.grid_cell_id == xihu_cell.pk
    assert Permit.objects.get(enterprise=e).number == body["permit"]["number"]
    event = SourceEvent.objects.get(enterprise_id=e.pk)
    assert (event.action, event.actor.username) == ("register", "district_supervisor")


def test_gcj02_input_is_stored_in_wgs84(user_api, payload, xihu_cell):
    lat, lon = inside(xihu_cell)
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    body = payload(lat=glat, lon=glon, crs="gcj02")
    assert user_api("city_supervisor").post(URL, body, format="json").status_code == 201
    stored = Enterprise.objects.get(credit_code=body["credit_code"]).point
    assert abs(stored.x - lon) < 1e-6 and abs(stored.y - lat) < 1e-6  # the GCJ-02 offset is ~500 m


@pytest.mark.parametrize(
    "change,field,code",
    [
        ({"credit_code": "91330100799655058C"}, "credit_code", "check_character"),
        ({"credit_code": "9133010079965505"}, "credit_code", "length"),
        ({"credit_code": "91330100799655O58B"}, "credit_code", "charset"),
        (
            {"permit": {"number": "91130200699229617X001P", "valid_from": "2024-01-01", "valid_to": "2028-01-01"}},
            "permit.number",
            "permit_not_of_enterprise",
        ),
        (
            {"permit": {"number": "BAD", "valid_from": "2024-01-01", "valid_to": "2028-01-01"}},
            "permit.number",
            "invalid",
        ),
        ({"management_class": "registration"}, "permit", "registration_has_no_permit"),
        ({"management_class": "big"}, "management_class", "invalid_choice"),
        ({"industry_code": "26"}, "industry_code", "invalid"),
        ({"lat": 39.9, "lon": 116.4}, "lat", "outside_city"),  # Beijing
        ({"lat": "north"}, "lat", "invalid"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(user_api, payload, change, field, code):
    body = payload()
    if "permit" in change and change["permit"]["number"] == "91130200699229617X001P":
        pass  # a real-looking permit of another enterprise
    body.update(change)
    before = (Enterprise.objects.count(), Organization.objects.count(), SourceEvent.objects.count())
    r = user_api("district_supervisor").post(URL, body, format="json")
    assert r.status_code == 400, r.json()
    assert (r.json()["field"], r.json()["code"]) == (field, code)
    assert r.json()["message"]  # Chinese by default, naming the field by its label
    assert (Enterprise.objects.count(), Organization.objects.count(), SourceEvent.objects.count()) == before


def test_messages_name_the_field_by_its_label_in_both_languages(user_api, payload):
    body = payload(credit_code="91330100799655058C")
    client = user_api("district_supervisor")
    zh = client.post(URL, body, format="json").json()["message"]
    client.cookies["django_language"] = "en"  # the language switch's choice (Accept-Language is ignored)
    en = client.post(URL, body, format="json").json()["message"]
    assert zh == "统一社会信用代码：校验码不正确。"
    assert en == "Unified social credit code: the check character is wrong."


def test_who_may_register(user_api, api, payload, yuhang_cell):
    for who in ("officer", "township_supervisor", "planner", "responsible_unit"):
        assert user_api(who).post(URL, payload(), format="json").status_code == 403
    assert api.post(URL, payload(), format="json").status_code == 403
    # a district supervisor only in their district; the city supervisor anywhere
    r = user_api("district_supervisor").post(URL, payload(cell=yuhang_cell), format="json")
    assert (r.status_code, r.json()["code"]) == (403, "outside_jurisdiction")
    assert user_api("city_supervisor").post(URL, payload(cell=yuhang_cell), format="json").status_code == 201


def test_duplicate_code_or_name_is_a_409(user_api, payload):
    body = payload()
    sup = user_api("district_supervisor")
    assert sup.post(URL, body, format="json").status_code == 201
    r = sup.post(URL, body, format="json")
    assert (r.status_code, r.json()["field"]) == (409, "credit_code")
    again = payload(name=body["name"])
    r = sup.post(URL, again, format="json")
    assert (r.status_code, r.json()["field"]) == (409, "name")


def _register(user_api, payload, **extra) -> dict:
    body = payload(**extra)
    assert user_api("city_supervisor").post(URL, body, format="json").status_code == 201
    return body


def test_outlet_201_with_id_and_limits(user_api, payload, xihu_cell):
    body = _register(user_api, payload)
    lat, lon = inside(xihu_cell)
    out = outlet_payload(lat, lon)
    r = user_api("district_supervisor").post(f"{URL}{body['credit_code']}/outlets/", out, format="json")
    assert r.status_code == 201, r.json()
    got = r.json()
    assert isinstance(got["id"], int) and got["code"] == "DW001" and got["kind"] == "water"
    assert "password" not in got and got["mn"] == out["mn"]
    logger = Logger.objects.get(mn=out["mn"])
    assert logger.password == "123456" and logger.kind == "outlet" and logger.district.code == "330106"
    limits = {lim.factor: (lim.low, lim.high) for lim in Limit.objects.filter(logger=logger)}
    assert limits == {"w01018": (None, 50.0), "w21003": (None, 5.0), "w01001": (6.0, 9.0)}
    assert got["limits"] == {"w01001": [6.0, 9.0], "w01018": 50.0, "w21003": 5.0}
    # the same MN again, or the same code in this enterprise
    r = user_api("district_supervisor").post(f"{URL}{body['credit_code']}/outlets/", out, format="json")
    assert (r.status_code, r.json()["field"]) == (409, "code")
    r = user_api("district_supervisor").post(
        f"{URL}{body['credit_code']}/outlets/", {**out, "code": "DA001"}, format="json"
    )
    assert (r.status_code, r.json()["field"]) == (409, "mn")


@pytest.mark.parametrize(
    "change,field",
    [
        ({"code": "DX001"}, "code"),
        ({"code": "DW01"}, "code"),
        ({"limits": {"w01018": 0}}, "limits.w01018"),
        ({"limits": {"w01018": -5}}, "limits.w01018"),
        ({"limits": {"w01018": "fifty"}}, "limits.w01018"),
        ({"limits": {"w01018": True}}, "limits.w01018"),
        ({"limits": {"w01001": 9}}, "limits.w01001"),
        ({"limits": {"w01001": [9, 6]}}, "limits.w01001"),
        ({"limits": {"cod": 50}}, "limits.cod"),
        ({"mn": "A;B"}, "mn"),
        ({"lat": 39.9, "lon": 116.4}, "lat"),
    ],
)
def test_bad_outlets_are_400s_naming_the_field(user_api, payload, xihu_cell, change, field):
    body = _register(user_api, payload)
    lat, lon = inside(xihu_cell)
    before = Logger.objects.count()
    r = user_api("district_supervisor").post(
        f"{URL}{body['credit_code']}/outlets/", {**outlet_payload(lat, lon), **change}, format="json"
    )
    assert r.status_code == 400, r.json()
    assert r.json()["field"] == field
    assert Logger.objects.count() == before


def test_outlet_permissions(user_api, api, payload, xihu_cell, yuhang_cell):
    body = _register(user_api, payload)
    theirs = _register(user_api, payload, cell=yuhang_cell)
    lat, lon = inside(xihu_cell)
    url = f"{URL}{body['credit_code']}/outlets/"
    assert api.post(url, outlet_payload(lat, lon), format="json").status_code == 403
    assert user_api("officer").post(url, outlet_payload(lat, lon), format="json").status_code == 403
    r = user_api("district_supervisor").post(
        f"{URL}{theirs['credit_code']}/outlets/", outlet_payload(*inside(yuhang_cell)), format="json"
    )
    assert r.status_code == 403
    assert (
        user_api("district_supervisor")
        .post(f"{URL}91330100799655058B/outlets/", outlet_payload(lat, lon), format="json")
        .status_code
        == 404
    )


def test_list_is_geojson_public_fields_for_the_public(user_api, api, payload, xihu_cell):
    body = _register(user_api, payload)
    lat, lon = inside(xihu_cell)
    user_api("city_supervisor").post(f"{URL}{body['credit_code']}/outlets/", outlet_payload(lat, lon), format="json")
    fc = api.get(URL, {"grid_cell": xihu_cell.code, "limit": 1000}).json()
    assert fc["type"] == "FeatureCollection"
    mine = [f for f in fc["features"] if f["properties"]["credit_code"] == body["credit_code"]]
    assert len(mine) == 1
    assert set(mine[0]["properties"]) == {
        "credit_code",
        "name",
        "management_class",
        "management_class_label",
        "permit_number",
        "full",
    }
    assert mine[0]["properties"]["full"] is False and mine[0]["geometry"]["type"] == "Point"
    staff = user_api("district_supervisor").get(URL, {"grid_cell": xihu_cell.code}).json()["features"]
    props = next(f["properties"] for f in staff if f["properties"]["credit_code"] == body["credit_code"])
    assert props["full"] is True and props["district"] == "330106" and props["outlet_count"] == 1
    assert props["exceedance_open"] is False


def test_list_filters(user_api, api, payload, xihu_cell, yuhang_cell):
    a = _register(user_api, payload, management_class="simplified")
    b = _register(user_api, payload, cell=yuhang_cell)

    def codes(**q):
        return {f["properties"]["credit_code"] for f in api.get(URL, {**q, "limit": 1000}).json()["features"]}

    assert a["credit_code"] in codes(district="330106") and b["credit_code"] not in codes(district="330106")
    assert b["credit_code"] in codes(district="330110")
    assert a["credit_code"] in codes(management_class="simplified")
    assert a["credit_code"] not in codes(management_class="key")
    lat, lon = a["lat"], a["lon"]
    assert codes(bbox=f"{lon - 0.0001},{lat - 0.0001},{lon + 0.0001},{lat + 0.0001}") == {a["credit_code"]}
    for bad, field in [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"district": "3301"}, "district"),
        ({"management_class": "huge"}, "management_class"),
        ({"limit": "x"}, "limit"),
    ]:
        r = api.get(URL, bad)
        assert (r.status_code, r.json()["field"]) == (400, field)


def test_detail_public_and_full(user_api, api, payload, xihu_cell, officer_cell):
    body = _register(user_api, payload)
    lat, lon = inside(xihu_cell)
    out = outlet_payload(lat, lon)
    user_api("city_supervisor").post(f"{URL}{body['credit_code']}/outlets/", out, format="json")
    public = api.get(f"{URL}{body['credit_code']}/").json()
    assert public["full"] is False and public["permit_number"] == body["permit"]["number"]
    assert "outlets" not in public and out["mn"] not in str(public) and "123456" not in str(public)
    full = user_api("township_supervisor").get(f"{URL}{body['credit_code']}/").json()
    assert full["full"] is True and full["outlets"][0]["mn"] == out["mn"] and "123456" not in str(full)
    # the demo officer sees the whole file only of sources in his cells
    assert user_api("officer").get(f"{URL}{body['credit_code']}/").json()["full"] is False
    mine = _register(user_api, payload, cell=officer_cell)
    assert user_api("officer").get(f"{URL}{mine['credit_code']}/").json()["full"] is True
    assert api.get(f"{URL}{credit_code()}/").status_code == 404
