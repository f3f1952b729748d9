"""Open311 GeoReport v2: the paths, formats, filters, errors and what is (not) exposed."""

from __future__ import annotations

import datetime as dt
from xml.etree import ElementTree as ET

import pytest
from django.utils import timezone

from patrol.models import ApiKey, Issue

BASE = "/open311/v2"


@pytest.fixture
def key(db):
    return ApiKey.objects.create(key="test-key-311", name="测试应用").key


def post(api, here, key, **kw):
    data = {
        "api_key": key,
        "service_code": "water.river_litter",
        "lat": here.y,
        "long": here.x,
        "description": "河道有垃圾，我的电话 13900001111",
        "email": "citizen@example.cn",
        "first_name": "李",
    }
    data.update(kw)
    return api.post(f"{BASE}/requests.json", data)


def test_discovery_and_services_in_both_formats(api):
    d = api.get(f"{BASE}/discovery.json").json()
    assert d["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert ET.fromstring(api.get(f"{BASE}/discovery.xml").content).tag == "discovery"
    services = api.get(f"{BASE}/services.json").json()
    assert {"service_code", "service_name", "metadata", "type", "keywords", "group", "description"} <= set(services[0])
    assert "air.open_burning" in [s["service_code"] for s in services]
    root = ET.fromstring(api.get(f"{BASE}/services.xml").content)
    assert root.tag == "services" and root.find("service/service_code") is not None
    assert api.get(f"{BASE}/services/air.dust.json").json()["service_code"] == "air.dust"
    assert ET.fromstring(api.get(f"{BASE}/services/air.dust.xml").content).tag == "service_definition"
    r = api.get(f"{BASE}/services/nope.json")
    assert r.status_code == 404 and r.json()[0]["code"] == 404 and r.json()[0]["description"]


def test_post_needs_a_valid_key(api, here):
    for k in ("", "wrong"):
        r = post(api, here, k)
        assert r.status_code == 403 and r.json()[0]["code"] == 403 and "api_key" in r.json()[0]["description"]
    r = api.post(f"{BASE}/requests.xml", {"service_code": "air"})
    assert r.status_code == 403 and ET.fromstring(r.content).find("error/code").text == "403"
    assert not Issue.objects.filter(source="citizen", description__contains="13900001111").exists()


def test_post_creates_citizen_case_and_hides_personal_data(api, here, key, users):
    r = post(api, here, key)
    assert r.status_code == 201, r.content
    created = r.json()[0]
    issue = Issue.objects.get(pk=int(created["service_request_id"]))
    assert issue.source == "citizen" and issue.reporter is None and issue.contact["email"] == "citizen@example.cn"
    assert str(issue.token) == created["token"]
    got = api.get(f"{BASE}/requests/{issue.pk}.json").json()[0]
    assert got["status"] == "open" and got["service_code"] == "water.river_litter"
    assert got["requested_datetime"].endswith("+08:00")
    text = str(api.get(f"{BASE}/requests.json").content, "utf-8")
    assert "citizen@example.cn" not in text and "13900001111" not in text and "李" not in text
    assert str(issue.pk) in [x["service_request_id"] for x in api.get(f"{BASE}/requests.json").json()]
    tok = api.get(f"{BASE}/tokens/{issue.token}.json").json()[0]
    assert tok == {"service_request_id": str(issue.pk), "token": str(issue.token)}
    xml = ET.fromstring(api.get(f"{BASE}/requests/{issue.pk}.xml").content)
    assert xml.tag == "service_requests" and xml.find("request/service_request_id").text == str(issue.pk)


@pytest.mark.parametrize(
    "change,needle",
    [
        ({"service_code": ""}, "service_code"),
        ({"service_code": "nope"}, "service_code"),
        ({"lat": "", "long": ""}, "lat"),
        ({"lat": "x"}, "lat"),
        ({"long": 999}, "long"),
        ({"description": "x" * 4001}, "description"),
        ({"lat": 39.9, "long": 116.4}, "lat"),
    ],
)
def test_post_bad_input_is_400_list(api, here, key, change, needle):
    before = Issue.objects.count()
    r = post(api, here, key, **change)
    assert r.status_code == 400 and r.json()[0]["code"] == 400 and needle in r.json()[0]["description"]
    assert Issue.objects.count() == before


def test_get_filters_and_window(api, here, key):
    ids = [post(api, here, key).json()[0]["service_request_id"] for _ in range(2)]
    Issue.objects.filter(pk=int(ids[0])).update(reported_at=timezone.now() - dt.timedelta(days=100))
    default = [x["service_request_id"] for x in api.get(f"{BASE}/requests.json").json()]
    assert ids[1] in default and ids[0] not in default  # 90-day default window
    # a window around it (the demo's year of history fills the newest pages of a wide one)
    wide = api.get(
        f"{BASE}/requests.json",
        {
            "start_date": (timezone.now() - dt.timedelta(days=101)).isoformat(),
            "end_date": (timezone.now() - dt.timedelta(days=99)).isoformat(),
        },
    ).json()
    assert ids[0] in [x["service_request_id"] for x in wide]
    by_id = api.get(f"{BASE}/requests.json", {"service_request_id": ids[0], "status": "closed"}).json()
    assert [x["service_request_id"] for x in by_id] == [ids[0]]  # ids override other filters
    closed = api.get(f"{BASE}/requests.json", {"status": "closed"}).json()
    assert all(x["status"] == "closed" for x in closed) and ids[1] not in [x["service_request_id"] for x in closed]
    assert all(x["service_code"] == "air" for x in api.get(f"{BASE}/requests.json", {"service_code": "air"}).json())
    r = api.get(f"{BASE}/requests.json", {"start_date": "yesterday"})
    assert r.status_code == 400 and "start_date" in r.json()[0]["description"]
    assert api.get(f"{BASE}/requests/999999999.json").status_code == 404
    assert api.get(f"{BASE}/tokens/not-a-token.xml").status_code == 404


def test_unpublished_patrol_cases_are_not_listed(api, report):
    issue = report(description="内部案件")
    assert str(issue.pk) not in [x["service_request_id"] for x in api.get(f"{BASE}/requests.json").json()]
    assert api.get(f"{BASE}/requests/{issue.pk}.json").status_code == 404


def test_requests_xml_lists_public_fields_only(api, here, key):
    post(api, here, key)
    root = ET.fromstring(api.get(f"{BASE}/requests.xml").content)
    assert root.tag == "service_requests"
    req = root.find("request")
    fields = {child.tag for child in req}
    assert {"service_request_id", "status", "service_code", "requested_datetime", "lat", "long"} <= fields
    assert not fields & {"email", "phone", "first_name", "last_name", "contact", "reporter"}


def test_demo_key_default(monkeypatch):
    from patrol.open311 import demo_key

    monkeypatch.delenv("OPEN311_DEMO_KEY", raising=False)
    assert demo_key() == "gridgov-open311-demo"
    monkeypatch.setenv("OPEN311_DEMO_KEY", "k-123")
    assert demo_key() == "k-123"
