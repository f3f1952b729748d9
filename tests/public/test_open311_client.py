"""Open311 read by an outside client: the `georeport` package (PyPI; GET only, so reports are
posted and tokens read with plain HTTP, as a citizen app would), against a live server on the
test database. A published case carries its address and a media_url that downloads its photo;
a citizen's report made over Open311 is found by its token and shows no personal data."""

from __future__ import annotations

import pytest
import requests
from georeport import GeoReport

from patrol.open311 import demo_key

from .conftest import NAME, PHONE, make_published_case

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def committed_case(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return make_published_case(tag=" Open311")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_reads_services_and_the_published_case(live_url, committed_case, fmt):
    client = GeoReport(f"{live_url}/open311/v2/", output_format=fmt)
    codes = {s["service_code"] for s in client.get_service_list()}
    assert "solid_waste.illegal_dumping" in codes
    issue = committed_case["issue"]
    listed = client.get_service_requests(service_request_id=str(issue.pk))
    one = listed[0] if isinstance(listed, list) else listed  # xmltodict: one element is a dict
    assert one["service_request_id"] == str(issue.pk)
    assert one["address"] == "杭州市 西湖区 西湖第1街道（合成）"
    assert one["media_url"] == f"{live_url}/api/patrol/photos/{committed_case['before']}/"
    assert NAME not in one["description"] and PHONE not in one["description"]
    single = client.get_service_request(str(issue.pk))
    assert single["media_url"] == one["media_url"]
    photo = requests.get(one["media_url"], timeout=30)
    assert photo.status_code == 200 and photo.headers["Content-Type"] == "image/jpeg"


def test_citizen_app_posts_by_place_name_and_follows_its_token(live_url, django_db_blocker):
    r = requests.post(
        f"{live_url}/open311/v2/requests.json",
        data={
            "api_key": demo_key(),
            "service_code": "water.river_litter",
            "address_string": "杭州市西湖区",
            "description": "河面漂浮垃圾（合成，Open311 客户端）",
            "first_name": "小红",
            "last_name": "陈",
            "phone": "13700001234",
        },
        timeout=30,
    )
    assert r.status_code == 201, r.text
    answer = r.json()[0]
    token = requests.get(f"{live_url}/open311/v2/tokens/{answer['token']}.json", timeout=30).json()[0]
    assert token["service_request_id"] == answer["service_request_id"]
    seen = GeoReport(f"{live_url}/open311/v2/").get_service_request(answer["service_request_id"])
    assert seen["address"].startswith("杭州市 西湖区 西湖第")
    assert seen["description"] == "" and seen["media_url"] == ""  # not published: nothing of the citizen's
    text = requests.get(f"{live_url}/open311/v2/requests/{answer['service_request_id']}.xml", timeout=30).text
    assert "13700001234" not in text and "小红" not in text


def test_unknown_place_name_is_a_400_naming_the_parameter(live_url):
    r = requests.post(
        f"{live_url}/open311/v2/requests.json",
        data={"api_key": demo_key(), "service_code": "other", "address_string": "火星基地"},
        timeout=30,
    )
    assert r.status_code == 400
    assert r.json()[0]["description"].startswith("address_string: 地址不是已知的区县、街道或网格名称")
