"""HTTP contracts of /api/patrol/: status codes, bodies, and the database state behind them."""

from __future__ import annotations

import uuid

import pytest
from django.test import override_settings

from patrol.models import Issue, IssueEvent, Photo, Status
from tests.patrol.conftest import jpeg_bytes

URL = "/api/patrol/issues/"


def body(here, **kw):
    b = {
        "client_uuid": str(uuid.uuid4()),
        "lat": here.y,
        "lon": here.x,
        "accuracy_m": 6.0,
        "category": "air.dust",
        "description": "工地扬尘（测试）",
    }
    b.update(kw)
    return b


def test_report_201_then_identical_resend_200_same_body_then_conflict_409(user_api, here):
    api = user_api("officer")
    payload = body(here)
    r1 = api.post(URL, payload, format="json")
    assert r1.status_code == 201, r1.content
    assert set(r1.json()) == {"id", "status", "grid_cell", "district", "priority", "deadline", "duplicates"}
    assert r1.json()["status"] == "reported" and r1.json()["district"] == "330106"
    r2 = api.post(URL, payload, format="json")
    assert r2.status_code == 200 and r2.json() == r1.json()
    r3 = api.post(URL, {**payload, "description": "不同内容"}, format="json")
    assert r3.status_code == 409 and r3.json()["field"] == "client_uuid"
    assert Issue.objects.filter(client_uuid=payload["client_uuid"]).count() == 1


def test_duplicates_come_back_as_suggestions(user_api, here):
    api = user_api("officer")
    first = api.post(URL, body(here), format="json").json()
    second = api.post(URL, body(here, lat=here.y + 0.0002), format="json").json()
    dup = next(d for d in second["duplicates"] if d["id"] == first["id"])
    assert dup["distance_m"] < 100 and all(d["distance_m"] <= 100.5 for d in second["duplicates"])


def test_anonymous_may_not_report(api, here):
    # 403 everywhere for an anonymous API call: session authentication comes first and has no
    # WWW-Authenticate challenge, so DRF answers 403, never 401 (reliability/access.py says so).
    r = api.post(URL, body(here), format="json")
    assert r.status_code == 403 and r.json()["code"] == "not_authenticated"
    assert not Issue.objects.filter(description="工地扬尘（测试）").exists()


@pytest.mark.parametrize(
    "change,field",
    [
        ({"lat": None}, "lat"),
        ({"lat": "abc"}, "lat"),
        ({"lon": 500}, "lon"),
        ({"lat": 39.9, "lon": 116.4}, "lat"),
        ({"category": "air.unknown"}, "category"),
        ({"category": None}, "category"),
        ({"description": "长" * 4001}, "description"),
        ({"client_uuid": "not-a-uuid"}, "client_uuid"),
        ({"client_uuid": None}, "client_uuid"),
        ({"accuracy_m": "x"}, "accuracy_m"),
        ({"photo_hashes": ["0" * 64]}, "photo_hashes"),
        ({"photo_hashes": "abc"}, "photo_hashes"),
        ({"crs": "epsg:3857"}, "crs"),
    ],
)
def test_bad_input_is_4xx_naming_the_field_and_stores_nothing(user_api, here, change, field):
    before = Issue.objects.count()
    r = user_api("officer").post(URL, body(here, **change), format="json")
    assert 400 <= r.status_code < 500, r.content
    assert r.json()["field"] == field, r.json()
    assert Issue.objects.count() == before


def test_photo_upload_hash_keyed_exif_kept_public_copy_stripped(user_api):
    import io

    from PIL import Image

    api = user_api("officer")
    data = jpeg_bytes(size=(400, 200), gps=(30.25, 120.12), orientation=6)
    r = api.post("/api/patrol/photos/", {"photo": io.BytesIO(data)}, format="multipart")
    assert r.status_code == 201, r.content
    sha = r.json()["sha256"]
    r2 = api.post("/api/patrol/photos/", {"photo": io.BytesIO(data)}, format="multipart")
    assert r2.status_code == 200 and r2.json()["sha256"] == sha
    assert Photo.objects.filter(sha256=sha).count() == 1
    photo = Photo.objects.get(sha256=sha)
    assert (
        photo.exif_point is not None
        and abs(photo.exif_point.y - 30.25) < 1e-3
        and abs(photo.exif_point.x - 120.12) < 1e-3
    )
    public = Image.open(photo.image.path)
    assert public.size == (200, 400)  # orientation 6 turned upright
    assert not public.getexif()
    got = api.get(f"/api/patrol/photos/{sha}/")
    assert got.status_code == 200 and got["Content-Type"] == "image/jpeg"


@pytest.mark.parametrize(
    "payload,status",
    [(b"this is not an image", 400), (jpeg_bytes(size=(300, 300))[:400], 400)],
    ids=["not-an-image", "truncated"],
)
def test_photo_content_checks(user_api, payload, status):
    import io

    r = user_api("officer").post("/api/patrol/photos/", {"photo": io.BytesIO(payload)}, format="multipart")
    assert r.status_code == status and r.json()["field"] == "photo", r.content


@override_settings(PATROL_PHOTO_MAX_BYTES=1000)
def test_photo_over_size_limit(user_api):
    import io

    r = user_api("officer").post(
        "/api/patrol/photos/",
        {"photo": io.BytesIO(jpeg_bytes(size=(800, 800), color=(5, 6, 7)) + b"x" * 2000)},
        format="multipart",
    )
    assert r.status_code == 413 and r.json()["field"] == "photo"


def test_photo_missing_field(user_api):
    r = user_api("officer").post("/api/patrol/photos/", {}, format="multipart")
    assert r.status_code == 400 and r.json()["field"] == "photo"


def test_list_is_geojson_scoped_and_filtered(user_api, here, report):
    from gridgov.models import AdminArea, Role, User

    mine = report()
    report(category="water.river_litter")
    api = user_api("township_supervisor")
    fc = api.get(URL).json()
    assert fc["type"] == "FeatureCollection" and fc["numberMatched"] >= 2
    assert mine.pk in [f["id"] for f in fc["features"]]
    f = next(f for f in fc["features"] if f["id"] == mine.pk)
    assert f["geometry"]["type"] == "Point" and f["properties"]["district"] == "330106"
    only_water = api.get(URL, {"category": "water"}).json()
    assert only_water["features"] and all(
        f["properties"]["category"].startswith("water") for f in only_water["features"]
    )
    accepted = api.get(URL, {"status": "accepted"}).json()["features"]
    assert all(f["properties"]["status"] == "accepted" for f in accepted)
    assert mine.pk not in [f["id"] for f in accepted]  # just reported
    b = f"{here.x - 0.001},{here.y - 0.001},{here.x + 0.001},{here.y + 0.001}"
    assert mine.pk in [
        f["id"] for f in api.get(URL, {"bbox": b, "district": "330106", "since": "2020-01-01"}).json()["features"]
    ]
    page = api.get(URL, {"limit": 1}).json()
    assert page["numberReturned"] == 1 and page["next"]
    assert api.get(URL, {"status": "bogus"}).status_code == 400
    assert api.get(URL, {"bbox": "1,2,3"}).json()["field"] == "bbox"
    assert api.get(URL, {"since": "yesterday"}).json()["field"] == "since"
    # Someone in another district sees neither the list entry nor the detail.
    stranger = User.objects.create(username="t_stranger", role=Role.DISTRICT_SUPERVISOR)
    stranger.scope.set([AdminArea.objects.filter(level="district").exclude(code="330106").first()])
    from rest_framework.test import APIClient

    c = APIClient()
    c.force_authenticate(stranger)
    assert mine.pk not in [f["id"] for f in c.get(URL).json()["features"]]
    assert c.get(f"{URL}{mine.pk}/").status_code == 404
    assert c.get(f"{URL}999999999/").status_code == 404


def test_detail_has_audit_trail_and_transitions_through_http(user_api, report, unit):
    issue = report()
    sup = user_api("township_supervisor")
    d = sup.get(f"{URL}{issue.pk}/").json()
    assert d["properties"]["events"][0]["action"] == "report"
    assert set(d["properties"]["allowed_actions"]) == {"verify", "reject", "mark_duplicate"}
    r = sup.post(f"{URL}{issue.pk}/transition/", {"action": "dispatch", "note": "x"}, format="json")
    assert r.status_code == 409 and "待核实" in r.json()["message"]
    r = sup.post(
        f"{URL}{issue.pk}/transition/",
        {"action": "verify", "note": "属实", "lat": issue.point.y, "lon": issue.point.x},
        format="json",
    )
    assert r.status_code == 200 and r.json()["properties"]["status"] == "verified"
    r = sup.post(f"{URL}{issue.pk}/transition/", {"action": "dispatch", "unit": unit.pk}, format="json")
    assert r.status_code == 200 and r.json()["properties"]["deadline"]
    r = user_api("officer").post(f"{URL}{issue.pk}/transition/", {"action": "accept"}, format="json")
    assert r.status_code == 409
    r = sup.post(f"{URL}{issue.pk}/transition/", {"action": "fly"}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "action"
    r = sup.post(f"{URL}{issue.pk}/transition/", {"action": "set_deadline", "deadline": "soon"}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "deadline"
    events = list(IssueEvent.objects.filter(issue=issue).values_list("action", "from_status", "to_status"))
    assert events == [
        ("report", "", "reported"),
        ("verify", "reported", "verified"),
        ("dispatch", "verified", "dispatched"),
    ]
    assert IssueEvent.objects.get(issue=issue, action="verify").point is not None
    issue.refresh_from_db()
    assert issue.status == Status.DISPATCHED


def test_categories(api):
    cats = api.get("/api/patrol/categories/").json()
    codes = {c["code"] for c in cats}
    assert {
        "air",
        "water",
        "solid_waste",
        "noise",
        "soil",
        "ecology",
        "small_polluters",
        "other",
        "air.open_burning",
    } <= codes
    assert next(c for c in cats if c["code"] == "air")["name"] == "大气"


def test_schema_documents_patrol(api):
    r = api.get("/api/schema/")
    assert r.status_code == 200 and b"/api/patrol/issues/" in r.content


def test_messages_follow_the_language_switch(user_api, report):
    """Chinese by default; English from the .po file after the language switch (a cookie)."""
    issue = report()
    api = user_api("officer")
    r = api.post(f"{URL}{issue.pk}/transition/", {"action": "verify"}, format="json")
    assert r.status_code == 409 and r.json()["message"] == "“网格员”不能核实立案。"
    api.cookies["django_language"] = "en"
    r = api.post(f"{URL}{issue.pk}/transition/", {"action": "verify"}, format="json")
    assert r.status_code == 409 and r.json()["message"] == '"Grid officer" may not verify.'
    assert r.json()["code"] == "role_not_allowed" and r.json()["field"] == "action"


@pytest.mark.parametrize(
    "data",
    [{"lat": "x"}, {"client_uuid": "nope", "lat": 91}, [], "text", {"photo_hashes": ["z"]}, {"description": "\x00"}],
)
def test_the_reused_report_serializer_answers_as_validated(here, data):
    """validated_report (one serializer per thread) says exactly what validated() says."""
    from gridgov.errors import InvalidInput
    from gridgov.validation import validated
    from patrol.inputs import ReportRequest, validated_report

    payload = {**body(here), **data} if isinstance(data, dict) else data
    with pytest.raises(InvalidInput) as slow:
        validated(ReportRequest, payload)
    for _ in range(2):  # the second call reuses the serializer
        with pytest.raises(InvalidInput) as fast:
            validated_report(payload)
        assert fast.value.as_body() == slow.value.as_body()
    good = body(here)
    assert validated_report(good) == validated(ReportRequest, good)
