"""The public pages through HTTP (Django's client on the real PostGIS): 曝光台 list, map and case
page show the published text and before/after photos and never personal data; the citizen form
files a case with its photos and answers with a tracking page; bad input is a page with a
message that names the field as the form shows it; the quota per client address holds."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from patrol.models import Issue, Photo
from tests.patrol.conftest import jpeg_bytes

from .conftest import ID_NUMBER, LANDLINE, NAME, PHONE

pytestmark = pytest.mark.django_db

PERSONAL = [NAME, PHONE, PHONE.replace(" ", ""), LANDLINE, ID_NUMBER, "13912345678"]


def _text(response) -> str:
    return response.content.decode()


def test_disclosure_list_shows_published_text_and_before_after_photos(client, published):
    r = client.get("/public/cases/")
    assert r.status_code == 200
    html = _text(r)
    issue = published["issue"]
    assert f'data-id="{issue.pk}"' in html
    for sha in (published["before"], published["after"], published["check"]):
        assert f"/api/patrol/photos/{sha}/" in html
    assert "业主王某在河边倾倒建筑垃圾" in html  # the redacted published text (王小明 → 王某)
    assert not [p for p in PERSONAL if p in html]
    assert "已整改，验收通过" in html


def test_disclosure_case_page_and_photos_are_public(client, published):
    issue = published["issue"]
    r = client.get(f"/public/cases/{issue.pk}/")
    assert r.status_code == 200
    html = _text(r)
    assert "[电话已隐去]" in html and "[身份证号已隐去]" in html
    assert not [p for p in PERSONAL if p in html]
    assert "西湖区城市管理局（演示）" in html  # the responsible unit is public
    assert "西湖区网格员（演示）" not in html  # the reporter is not
    for sha in (published["before"], published["after"], published["check"]):
        assert client.get(f"/api/patrol/photos/{sha}/").status_code == 200  # anonymous


def test_disclosure_map_lists_published_points_only(client, published, report):
    hidden = report()
    body = client.get("/public/cases/map.json").json()
    ids = {f["id"] for f in body["features"]}
    assert published["issue"].pk in ids and hidden.pk not in ids
    feature = next(f for f in body["features"] if f["id"] == published["issue"].pk)
    assert set(feature["properties"]) == {"category", "progress", "rectified", "url"}
    assert feature["properties"]["rectified"] is True


def test_unpublished_case_is_not_public(client, report):
    issue = report()
    assert client.get(f"/public/cases/{issue.pk}/").status_code == 404


def test_unpublish_takes_it_off_every_public_page(client, published, users):
    from patrol.actions.transitions import issue_transition
    from patrol.models import IssueEvent

    issue = published["issue"]
    issue_transition(issue_id=issue.pk, action="unpublish", actor=users["district_supervisor"], note="信息有误（合成）")
    issue.refresh_from_db()
    assert not issue.is_public
    event = IssueEvent.objects.filter(issue=issue).last()
    assert (event.action, event.note, event.actor.username) == ("unpublish", "信息有误（合成）", "district_supervisor")
    assert client.get(f"/public/cases/{issue.pk}/").status_code == 404
    assert f'data-id="{issue.pk}"' not in _text(client.get("/public/cases/"))
    assert client.get(f"/open311/v2/requests/{issue.pk}.json").status_code == 404
    assert client.get(f"/api/patrol/photos/{published['after']}/").status_code == 404


def test_disclosure_list_pages_and_refuses_bad_paging(client, published):
    r = client.get("/public/cases/?limit=abc")
    assert r.status_code == 200
    assert "每页条数应为整数" in _text(r)
    assert "limit" not in re.sub(r"<[^>]+>", "", _text(r))


def _post(client, **fields):
    data = {
        "category": "air.open_burning",
        "description": "河边有人焚烧垃圾，烟很大（合成）",
        "contact_name": "李四",
        "contact_phone": "13800001111",
    }
    data.update(fields)
    return client.post("/public/report/", data)


def test_citizen_report_by_map_point_with_photo(client, here, citizen_quota_clear):
    photo = SimpleUploadedFile("a.jpg", jpeg_bytes(color=(1, 2, 3)), content_type="image/jpeg")
    r = _post(client, lat=str(here.y), lon=str(here.x), photos=photo)
    assert r.status_code == 302
    token = re.search(r"/public/track/([0-9a-f-]{36})/\?new=1$", r["Location"]).group(1)
    issue = Issue.objects.get(token=token)
    assert (issue.source, issue.status, issue.reporter_id) == ("citizen", "reported", None)
    assert issue.contact == {"name": "李四", "phone": "13800001111"}
    assert issue.photos.count() == 1 and Photo.objects.get(pk=issue.photos.get().pk).uploaded_by_id is None
    page = client.get(r["Location"])
    html = _text(page)
    assert token in html and "举报已受理" in html and "已受理，待核实" in html
    assert "李四" not in html and "13800001111" not in html and "焚烧垃圾" not in html
    # Open311 follows the same case by its token.
    assert client.get(f"/open311/v2/tokens/{token}.json").json() == [
        {"service_request_id": str(issue.pk), "token": token}
    ]


def test_citizen_report_by_known_place_name(client, citizen_quota_clear):
    r = _post(client, address="西湖第1街道")
    assert r.status_code == 302
    issue = Issue.objects.get(token=r["Location"].split("/")[3])
    assert issue.township.code == "330106001"
    assert issue.contact["address"] == "西湖第1街道"


@pytest.mark.parametrize(
    ("fields", "message", "field"),
    [
        ({"category": "", "address": "西湖区"}, "问题类别：", "category"),
        ({"category": "nonsense", "address": "西湖区"}, "问题类别：问题类别不存在。", "category"),
        ({"address": ""}, "请在地图上点选位置", "address"),
        ({"address": "火星基地"}, "没有找到“火星基地”", "address"),
        ({"address": "西湖区", "description": "烟"}, "问题描述：", "description"),
        ({"address": "西湖区", "contact_phone": "call me"}, "联系电话：应为电话号码", "contact_phone"),
        ({"lat": "91", "lon": "120.1"}, "纬度：", "lat"),
        ({"lat": "30.2", "lon": "abc"}, "经度：", "lon"),
        ({"lat": "10.0", "lon": "10.0"}, "不在本市的网格范围内", "lat"),
    ],
)
def test_citizen_form_bad_input_names_the_field_as_shown(client, citizen_quota_clear, fields, message, field):
    before = Issue.objects.count()
    r = _post(client, **fields)
    assert r.status_code == 400
    html = _text(r)
    error = re.search(r'data-testid="report-error" data-field="([^"]*)">([^<]*)<', html)
    assert error, html[:2000]
    assert error.group(1) == field and message in error.group(2)
    assert not re.search(r"[a-z]+_[a-z_]+", error.group(2))  # no internal field names
    assert Issue.objects.count() == before


def test_citizen_photo_that_is_not_an_image(client, citizen_quota_clear):
    before = Issue.objects.count()
    bad = SimpleUploadedFile("x.jpg", b"not really a jpeg", content_type="image/jpeg")
    r = _post(client, address="西湖区", photos=bad)
    assert r.status_code == 400
    assert "照片不是可识别的图片。" in _text(r) and "UnidentifiedImageError" not in _text(r)
    assert Issue.objects.count() == before


def test_citizen_quota_per_client_address(client, citizen_quota_clear, settings):
    settings.PATROL_CITIZEN_REPORTS_PER_HOUR = 2
    assert _post(client, address="西湖区").status_code == 302
    assert _post(client, address="西湖区").status_code == 302
    r = _post(client, address="西湖区")
    assert r.status_code == 429 and "每小时最多举报 2 次" in _text(r)


def test_citizen_form_needs_csrf(citizen_quota_clear):
    from django.test import Client

    r = Client(enforce_csrf_checks=True).post("/public/report/", {"category": "other", "address": "西湖区"})
    assert r.status_code == 403


def test_places_lookup_is_known_names_only(client):
    assert client.get("/public/places/?q=西湖区").json()["results"][0]["name"] == "西湖区"
    hit = client.get("/public/places/?q=杭州东站").json()["results"][0]
    assert hit["kind"] == "示例地名（坐标为近似值）"
    assert client.get("/public/places/?q=文三路 100号").json()["results"] == []
    bad = client.get("/public/places/?q=x")
    assert bad.status_code == 400 and bad.json()["field"] == "q" and bad.json()["message"].startswith("地点：")


def test_tracking_lookup(client, citizen_quota_clear):
    r = _post(client, address="西湖区")
    token = r["Location"].split("/")[3]
    assert client.get(f"/public/track/?code={token}")["Location"] == f"/public/track/{token}/"
    bad = client.get("/public/track/?code=12345")
    assert "查询码应为 32 位十六进制字符" in _text(bad)
    missing = client.get("/public/track/00000000-0000-4000-8000-000000000000/")
    assert missing.status_code == 404
