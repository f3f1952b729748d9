"""Issue 12 regressions in the patrol loop, each through HTTP with the database state checked:
dispatch only inside the case's district (12.5), visibility by role (12.6), photos kept only
re-encoded and attachable only by their uploader or a viewer (12.9), and no login names of grid
staff on the public locate answer (12.4)."""

from __future__ import annotations

import io
import uuid

import pytest
from rest_framework.test import APIClient

from gridgov.models import GridAssignment, GridCell, Organization, Role, User
from patrol.actions.transitions import issue_dispatch, issue_verify
from patrol.models import Issue, IssueEvent, Photo, Status
from tests.patrol.conftest import jpeg_bytes

URL = "/api/patrol/issues/"


def client_for(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


# --- 12.5 dispatch to any organisation ---------------------------------------------------------


def test_dispatch_to_a_unit_of_another_district_is_refused(user_api, report, users):
    issue = report()  # 西湖区 (330106)
    issue_verify(issue_id=issue.pk, actor=users["district_supervisor"])
    elsewhere = Organization.objects.exclude(area__code__startswith="330106").exclude(area__level="city").first()
    assert elsewhere is not None and not elsewhere.area.code.startswith("330106")
    r = user_api("district_supervisor").post(
        f"{URL}{issue.pk}/transition/", {"action": "dispatch", "unit": elsewhere.pk}, format="json"
    )
    assert r.status_code == 400 and r.json()["field"] == "unit" and r.json()["code"] == "unknown_unit"
    issue.refresh_from_db()
    assert issue.status == Status.VERIFIED and issue.responsible_unit_id != elsewhere.pk
    assert not IssueEvent.objects.filter(issue=issue, action="dispatch").exists()
    # The unit never gained access to the case.
    member = User.objects.create(username="t_far_unit", role=Role.RESPONSIBLE_UNIT, organization=elsewhere)
    assert client_for(member).get(f"{URL}{issue.pk}/").status_code == 404


def test_dispatch_inside_the_district_works_and_the_page_lists_only_those_units(client, report, users, unit):
    issue = report()
    issue_verify(issue_id=issue.pk, actor=users["district_supervisor"])
    client.force_login(users["district_supervisor"])
    page = client.get(f"/patrol/{issue.pk}/").content.decode()
    listed = set(Organization.objects.filter(name__in=[o.name for o in Organization.objects.all() if o.name in page]))
    assert unit in listed and all(o.area.code.startswith("330106") for o in listed)
    issue = issue_dispatch(issue_id=issue.pk, actor=users["district_supervisor"], unit_id=unit.pk)
    assert issue.status == Status.DISPATCHED and issue.responsible_unit_id == unit.pk


# --- 12.6 visibility by role ---------------------------------------------------------------------


@pytest.fixture
def neighbours_case(report, users, unit):
    """A case in the demo unit's district, dispatched to another unit of 西湖区."""
    other = Organization.objects.filter(area__code="330106").exclude(pk=unit.pk).order_by("pk").first()
    issue = report(description="邻居单位的案件，举报人电话 13800000000（测试）")
    issue_verify(issue_id=issue.pk, actor=users["district_supervisor"])
    return issue_dispatch(issue_id=issue.pk, actor=users["district_supervisor"], unit_id=other.pk)


def test_a_unit_sees_its_own_cases_only(user_api, neighbours_case, report, users, unit):
    ru = user_api("responsible_unit")
    assert ru.get(f"{URL}{neighbours_case.pk}/").status_code == 404
    assert neighbours_case.pk not in [f["id"] for f in ru.get(URL).json()["features"]]
    own = report()
    issue_verify(issue_id=own.pk, actor=users["district_supervisor"])
    issue_dispatch(issue_id=own.pk, actor=users["district_supervisor"], unit_id=unit.pk)
    assert ru.get(f"{URL}{own.pk}/").status_code == 200
    # The supervisor of the district sees both.
    sup = user_api("district_supervisor")
    assert sup.get(f"{URL}{neighbours_case.pk}/").status_code == 200


@pytest.mark.parametrize("role", [Role.ZONING_PLANNER, Role.IMAGERY_ANALYST])
def test_roles_without_a_patrol_duty_see_no_case_but_their_own(report, role, here):
    from gridgov.models import AdminArea

    someone = report()
    user = User.objects.create(username=f"t_{role}", role=role)
    user.scope.set([AdminArea.objects.get(level="city")])  # city scope for their own work
    c = client_for(user)
    assert c.get(f"{URL}{someone.pk}/").status_code == 404
    assert c.get(URL).json()["numberMatched"] == 0
    assert c.get("/api/dashboard/cases/?since=2000-01-01").json()["results"] == []
    assert c.get("/api/dashboard/aggregate/?level=district").json()["areas"]["330106"]["count"] == 0
    # What they reported themselves (the analyst's confirmed candidate) they do see.
    mine = report(reporter=user)
    assert c.get(f"{URL}{mine.pk}/").status_code == 200


def test_imagery_analyst_still_confirms_a_candidate_into_a_case(here, db):
    from django.contrib.gis.geos import MultiPolygon, Polygon

    from geodata.models import ChangeCandidate, DetectionJob, JobStatus

    analyst = User.objects.get(username="imagery_analyst")
    job = DetectionJob.objects.filter(status=JobStatus.DONE).order_by("pk").first()
    cell = GridCell.objects.select_related("township__parent").filter(geom__covers=here).first()
    square = MultiPolygon(Polygon.from_bbox((here.x - 3e-4, here.y - 3e-4, here.x + 3e-4, here.y + 3e-4)), srid=4326)
    areas = {"grid_cell": cell, "district": cell.township.parent, "township": cell.township}
    change = {"change_type": "construction", "area_m2": 3700.0, "confidence": 0.9, "mean_index_change": 0.2}
    c = ChangeCandidate.objects.create(job=job, geom=square, index="NDBI", **areas, **change)
    r = client_for(analyst).post(f"/api/geodata/candidates/{c.pk}/confirm/", {}, format="json")
    assert r.status_code == 201, r.content
    issue = Issue.objects.get(pk=r.json()["issue_id"])
    assert issue.source == "imagery" and issue.reporter_id == analyst.pk
    assert client_for(analyst).get(f"{URL}{issue.pk}/").status_code == 200


# --- 12.9 photos ---------------------------------------------------------------------------------


def test_only_the_reencoded_copy_is_kept(user_api, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    trailer = b"TRAILING-SECRET-" + uuid.uuid4().hex.encode()
    data = jpeg_bytes(size=(120, 80), color=(9, 99, 199), gps=(30.25, 120.12)) + trailer
    r = user_api("officer").post("/api/patrol/photos/", {"photo": io.BytesIO(data)}, format="multipart")
    assert r.status_code == 201, r.content
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert [p.relative_to(tmp_path).parts[:2] for p in files] == [("patrol", "photos")]
    assert not (tmp_path / "patrol" / "originals").exists()
    stored = files[0].read_bytes()
    assert trailer not in stored and b"Exif" not in stored and b"GPS" not in stored
    assert "original" not in {f.name for f in Photo._meta.get_fields()}
    assert Photo.objects.get(sha256=r.json()["sha256"]).exif_point is not None  # kept as data


def test_a_known_hash_attaches_only_for_its_uploader_or_a_viewer(user_api, users, tmp_path, settings, here):
    settings.MEDIA_ROOT = str(tmp_path)
    sha = (
        user_api("city_supervisor")
        .post("/api/patrol/photos/", {"photo": io.BytesIO(jpeg_bytes(color=(123, 45, 6)))}, format="multipart")
        .json()["sha256"]
    )
    body = {"client_uuid": str(uuid.uuid4()), "lat": here.y, "lon": here.x, "category": "other", "photo_hashes": [sha]}
    r = user_api("officer").post(URL, body, format="json")
    assert r.status_code == 400 and r.json()["field"] == "photo_hashes" and r.json()["code"] == "photo_not_uploaded"
    assert not Issue.objects.filter(client_uuid=body["client_uuid"]).exists()
    assert user_api("officer").get(f"/api/patrol/photos/{sha}/").status_code == 404  # and so stays unread
    r = user_api("city_supervisor").post(URL, {**body, "client_uuid": str(uuid.uuid4())}, format="json")
    assert r.status_code == 201  # the uploader attaches it
    # Now on a case in the officer's cell: the officer may see the photo, and so attach it too.
    assert user_api("officer").get(f"/api/patrol/photos/{sha}/").status_code == 200
    r = user_api("officer").post(URL, {**body, "client_uuid": str(uuid.uuid4())}, format="json")
    assert r.status_code == 201


# --- 12.4 locate ---------------------------------------------------------------------------------


def test_public_locate_names_staff_without_login_names(api, here):
    r = api.get("/api/locate/", {"lat": here.y, "lon": here.x})
    assert r.status_code == 200
    cell = GridCell.objects.get(code=r.json()["grid_cell"]["code"])
    usernames = set(GridAssignment.objects.filter(cell=cell).values_list("user__username", flat=True))
    assert usernames and r.json()["officers"]
    assert all(set(o) == {"name", "duty", "duty_label"} for o in r.json()["officers"])
    names = {o["name"] for o in r.json()["officers"]}
    assert not usernames & names
    # Login names that are not also duty words ("officer" is both) appear nowhere in the answer.
    assert not [u for u in usernames - {"officer", "leader"} if u in r.content.decode()]
