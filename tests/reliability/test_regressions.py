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
    from patrol import services

    cell = GridCell.objects.filter(assignments__user=officer).order_by("code").first()
    pt = cell.geom.point_on_surface
    issue, _ = services.issue_report(
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
    from patrol import services

    settings.MEDIA_ROOT = str(tmp_path)
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (20, 20), (1, 2, 3)).save(buf, format="JPEG")
    photo, _ = services.photo_store(data=buf.getvalue(), uploaded_by=None)
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
