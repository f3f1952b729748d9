"""Regression tests for bugs the reliability harness found: a city-wide scope that vanished
when OR-ed, photos readable by any signed-in user, NUL bytes and extreme dates reaching
PostgreSQL (500s), a schema that said "string" for a null, and malformed EXIF accepted.
"""

import io
import struct
import uuid

from django.contrib.gis.geos import Point


def _case_in_xihu(officer):
    from gridgov.models import GridCell
    from patrol.actions.reporting import issue_report

    cell = GridCell.objects.filter(assignments__user=officer).order_by("code").first()
    pt = cell.geom.point_on_surface
    issue, _ = issue_report(
        reporter=officer,
        point=Point(pt.x, pt.y, srid=4326),
        category="other",
        description="已知缺陷（合成）",
        client_uuid=uuid.uuid4(),
    )
    return issue


def test_city_supervisor_sees_a_case_in_the_city(user_api):
    from gridgov.models import User

    issue = _case_in_xihu(User.objects.get(username="officer"))
    r = user_api("city_supervisor").get(f"/api/patrol/issues/{issue.pk}/")
    assert r.status_code == 200


def test_photo_of_an_unpublished_case_is_not_shown_outside_jurisdiction(user_api, tmp_path, settings):
    from gridgov.models import User
    from patrol.actions.photos import photo_store

    settings.MEDIA_ROOT = str(tmp_path)
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (20, 20), (1, 2, 3)).save(buf, format="JPEG")
    photo, _ = photo_store(data=buf.getvalue(), uploaded_by=None)
    officer = User.objects.get(username="officer")
    issue = _case_in_xihu(officer)
    issue.photos.add(photo)
    User.objects.create(username="rel_outsider", role="grid_officer")  # no scope at all
    r = user_api("rel_outsider").get(f"/api/patrol/photos/{photo.sha256}/")
    assert r.status_code == 404


def test_nul_byte_in_a_filter_is_a_400(user_api):
    r = user_api("city_supervisor").get("/api/patrol/issues/", {"category": "air\x00"})
    assert r.status_code == 400


def test_areas_schema_allows_a_null_parent(api):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    parent = schema["components"]["schemas"]["AdminArea"]["properties"]["properties"]["properties"]["parent"]
    assert parent.get("nullable") is True


def test_malformed_exif_is_a_400(user_api, tmp_path, settings):
    from reliability.corpus import malformed_exif_jpeg

    settings.MEDIA_ROOT = str(tmp_path)
    data = malformed_exif_jpeg()
    r = user_api("officer").post("/api/patrol/photos/", {"photo": io.BytesIO(data)}, format="multipart")
    assert 400 <= r.status_code < 500


def test_malformed_exif_fixture_is_what_it_claims():
    from PIL import Image

    from reliability.corpus import malformed_exif_jpeg

    img = Image.open(io.BytesIO(malformed_exif_jpeg()))
    assert img.getexif().get(0x0112) == 9  # invalid orientation
    assert struct.calcsize(">I") == 4


def test_extreme_since_is_a_400(user_api):
    r = user_api("city_supervisor").get("/api/patrol/issues/", {"since": "0047-12-13T07:07:07-23:10"})
    assert r.status_code == 400


# --- R3 (schemathesis) findings: error bodies and responses the schema contradicted, and 500s ---


def _openapi():
    """The served OpenAPI document as plain JSON, loaded into schemathesis."""
    import json

    import schemathesis
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    raw = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    return raw, schemathesis.openapi.from_dict(raw)


def _conforms(schema, path: str, method: str, response) -> None:
    """Raise unless a test-client response matches what the schema documents for its status."""
    import requests
    from schemathesis.core.transport import Response

    headers = {k.lower(): [v] for k, v in response.items()}
    content = b"".join(response.streaming_content) if response.streaming else response.content
    req = requests.Request(method, "http://testserver" + path).prepare()
    schema[path][method].validate_response(
        Response(
            status_code=response.status_code, headers=headers, content=content, request=req, elapsed=0, verify=False
        )
    )


def test_every_operation_documents_the_error_body_with_a_nullable_field(db):
    raw, _ = _openapi()
    error = raw["components"]["schemas"]["Error"]
    assert error["properties"]["field"].get("nullable") is True
    assert set(error["required"]) == {"error", "code", "field", "message"}
    missing = [
        f"{method.upper()} {path} {code}"
        for path, ops in raw["paths"].items()
        for method, op in ops.items()
        for code in ("400", "403", "404")
        if op["responses"].get(code, {}).get("content", {}).get("application/json", {}).get("schema")
        != {"$ref": "#/components/schemas/Error"}
    ]
    assert not missing, missing


def test_error_bodies_with_a_null_field_conform(user_api, api):
    _, schema = _openapi()
    # 403 with field null (was: the zoning schema said "string").
    r = user_api("city_supervisor").patch("/api/zoning/units/X/", {"reason": "x"}, format="json")
    assert r.status_code == 403 and r.json()["field"] is None
    _conforms(schema, "/api/zoning/units/{code}/", "PATCH", r)
    # 400 from DRF's JSON parser, field null.
    r = user_api("planner").generic("POST", "/api/zoning/units/", "\x00", content_type="application/json")
    assert r.status_code == 400 and r.json()["field"] is None
    _conforms(schema, "/api/zoning/units/", "POST", r)


def test_candidates_without_a_case_conform(user_api):
    """issue_id (and grid cell/district/township) are null until a candidate is confirmed."""
    from geodata.models import ChangeCandidate

    _, schema = _openapi()
    open_one = ChangeCandidate.objects.filter(issue__isnull=True).order_by("pk").first()
    assert open_one is not None, "the demo has unreviewed candidates"
    client = user_api("city_supervisor")
    r = client.get(f"/api/geodata/candidates/{open_one.pk}/")
    assert r.status_code == 200 and r.json()["properties"]["issue_id"] is None
    _conforms(schema, "/api/geodata/candidates/{id}/", "GET", r)
    r = client.get("/api/geodata/candidates/", {"page_size": 500})
    assert r.status_code == 200
    _conforms(schema, "/api/geodata/candidates/", "GET", r)


def test_issue_detail_without_reporter_or_unit_conforms(user_api):
    """A remote-sensing case has no reporter, and no unit before dispatch: both answer null."""
    from gridgov.models import User
    from patrol.models import Issue

    _, schema = _openapi()
    officer_case = _case_in_xihu(User.objects.get(username="officer"))
    Issue.objects.filter(pk=officer_case.pk).update(reporter=None, responsible_unit=None, district=None, township=None)
    client = user_api("city_supervisor")
    r = client.get(f"/api/patrol/issues/{officer_case.pk}/")
    assert r.status_code == 200
    body = r.json()["properties"]
    assert body["reporter"] is None and body["responsible_unit"] is None and body["district"] is None
    _conforms(schema, "/api/patrol/issues/{id}/", "GET", r)


def test_transition_with_a_json_list_body_is_a_400(user_api):
    from gridgov.models import User

    issue = _case_in_xihu(User.objects.get(username="officer"))
    r = user_api("city_supervisor").post(f"/api/patrol/issues/{issue.pk}/transition/", [None, None], format="json")
    assert r.status_code == 400, r.content
    assert r.json()["error"] == "invalid"


def test_xlsx_export_drops_control_characters_instead_of_failing(user_api):
    """A note with control characters (typed, pasted or fuzzed) made the XLSX export a 500."""
    from openpyxl import load_workbook

    from gridgov.models import User
    from patrol.models import Issue

    issue = _case_in_xihu(User.objects.get(username="officer"))
    Issue.objects.filter(pk=issue.pk).update(description="审核意见：D\x02\x1bX\x7f end")
    # its township's cases only: the whole city's year is 36,000 rows, slow to read back here
    r = user_api("city_supervisor").get("/api/dashboard/export/", {"format": "xlsx", "area": issue.township.code})
    assert r.status_code == 200, r.content[:300]
    assert r["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ws = load_workbook(io.BytesIO(r.content), read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    ids = rows[0].index("编号")
    text = rows[0].index("问题描述")
    mine = next(row for row in rows[1:] if row[ids] == issue.pk)
    assert mine[text] == "审核意见：DX\x7f end"  # DEL is legal XML; \x02 and ESC are not


def test_zoning_write_with_non_text_fields_is_a_400_naming_the_field(user_api):
    """reason/name/code as a JSON list or object reached .strip() (500) in unit update/revert."""
    client = user_api("planner")
    r = client.patch("/api/zoning/units/ZH0/", {"reason": [None, None], "base_version": 0}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "reason", r.content
    r = client.post("/api/zoning/units/ZH0/revert/", {"to_version": 1, "reason": {"a": 1}}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "reason", r.content
    square = {"type": "Polygon", "coordinates": [[[120.1, 30.2], [120.11, 30.2], [120.11, 30.21], [120.1, 30.2]]]}
    r = client.post("/api/zoning/units/", {"code": 7, "name": "x", "reason": "r", "geometry": square}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "code", r.content
    r = client.post("/api/zoning/analyze/", {"geometry": square, "crs": ["wgs84"]}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "crs", r.content
    fc = {"type": "FeatureCollection", "features": [7]}
    r = client.post("/api/zoning/units/", {"code": "ZH1", "name": "x", "reason": "r", "geometry": fc}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "geometry", r.content


def test_objects_schemathesis_cannot_find_conform(user_api):
    """Schemathesis only meets 404s on these (it cannot guess a real code); check real ones here.

    The unit history is a list, where the schema said object.
    """
    from gridgov.models import GridCell
    from zoning.models import ControlUnit

    _, schema = _openapi()
    client = user_api("city_supervisor")
    cell = GridCell.objects.filter(assignments__isnull=False).order_by("code").first()
    unit = ControlUnit.objects.order_by("code").first()
    for template, url in [
        ("/api/grid-cells/{code}/", f"/api/grid-cells/{cell.code}/"),
        ("/api/zoning/units/{code}/", f"/api/zoning/units/{unit.code}/"),
        ("/api/zoning/units/{code}/history/", f"/api/zoning/units/{unit.code}/history/"),
        ("/api/zoning/units/{code}/versions/{version}/", f"/api/zoning/units/{unit.code}/versions/1/"),
    ]:
        r = client.get(url)
        assert r.status_code == 200, url
        _conforms(schema, template, "GET", r)


def test_far_and_offset_dates_are_400s_naming_the_parameter(user_api):
    """until=9999-12-31 overflowed Python (500); a +23:59 offset or a huge OFFSET reached
    PostgreSQL (a DataError, 400 without a field); each now names its parameter."""
    client = user_api("city_supervisor")
    for path, params, field in [
        ("/api/dashboard/cases/", {"until": "9999-12-31"}, "until"),
        ("/api/dashboard/export/", {"format": "csv", "since": "1800-01-01"}, "since"),
        ("/api/dashboard/aggregate/", {"level": "district", "since": "2024-01-01T00:00:00+23:59"}, "since"),
        ("/api/zoning/units/", {"as_of": "2024-01-01T00:00:00+23:59"}, "as_of"),
        ("/api/patrol/issues/", {"offset": "99999999999999999999"}, "offset"),
    ]:
        r = client.get(path, params)
        assert r.status_code == 400, (path, params, r.content[:200])
        assert r.json()["field"] == field, (path, r.json())
    r = client.get("/api/dashboard/cases/", {"since": "2024-03-01", "until": "2024-03-31"})
    assert r.status_code == 200


def test_publish_with_non_text_public_text_is_a_400(user_api):
    from gridgov.models import User

    issue = _case_in_xihu(User.objects.get(username="officer"))
    r = user_api("city_supervisor").post(
        f"/api/patrol/issues/{issue.pk}/transition/", {"action": "publish", "public_text": 7}, format="json"
    )
    assert r.status_code == 400 and r.json()["field"] == "public_text", r.content
