"""Tasks on the phone, results recorded exactly once, confidentiality until the result, and the
credit evidence once the case a problem opened is accepted."""

import uuid

import pytest

from credit.models import Evidence
from inspections.models import Inspection, InspectionResult
from patrol.actions.transitions import issue_transition
from patrol.models import Issue
from tests.patrol.conftest import jpeg_bytes

from .conftest import plan_body


def tasks_of(client, plan: int) -> list[dict]:
    """The user's tasks of one plan (the demo gives the demo officer tasks of its own)."""
    return [f for f in client.get("/api/inspections/tasks/").json()["features"] if f["properties"]["plan"] == plan]


@pytest.fixture
def drawn(user_api, township, firms, roster):
    """A drawn plan: every key firm of the township (3), two inspectors each, from officer + inspector1."""
    firms(3)
    people = [u.username for u in roster(2)]
    sup = user_api("district_supervisor")
    body = plan_body(township.code, pools=[{"management_class": "key", "ratio": 1}], inspectors=people)
    pk = sup.post("/api/inspections/plans/", body, format="json").json()["id"]
    sup.post(f"/api/inspections/plans/{pk}/commit/")
    sup.post(f"/api/inspections/plans/{pk}/draw/")
    return pk


def test_tasks_carry_location_permit_and_team(user_api, drawn):
    fc = user_api("officer").get("/api/inspections/tasks/").json()
    assert fc["type"] == "FeatureCollection"
    mine = tasks_of(user_api("officer"), drawn)
    assert len(mine) == 3
    f = mine[0]
    p = f["properties"]
    assert f["geometry"]["type"] == "Point" and p["kind"] == "inspection"
    assert p["permit"]["number"] == p["credit_code"] + "001P"
    assert p["management_class"] == "key" and len(p["inspectors"]) == 2
    assert p["verify_url"].endswith(f"/public/inspections/code/{p['code']}/")
    assert tasks_of(user_api("township_supervisor"), drawn) == []


def test_result_exactly_once_and_conflicting_resend(user_api, drawn):
    officer = user_api("officer")
    task = tasks_of(officer, drawn)[0]["properties"]
    body = {"client_uuid": str(uuid.uuid4()), "inspection": task["id"], "outcome": "pass"}
    r1 = officer.post("/api/inspections/results/", body, format="json")
    r2 = officer.post("/api/inspections/results/", body, format="json")
    assert (r1.status_code, r2.status_code) == (201, 200) and r1.json() == r2.json()
    assert InspectionResult.objects.filter(inspection_id=task["id"]).count() == 1
    r3 = officer.post(
        "/api/inspections/results/", body | {"outcome": "problems", "problems": "x", "legal_basis": "y"}, format="json"
    )
    assert (r3.status_code, r3.json()["code"]) == (409, "client_uuid_reused")
    r4 = user_api("officer").post("/api/inspections/results/", body | {"client_uuid": str(uuid.uuid4())}, format="json")
    assert (r4.status_code, r4.json()["code"]) == (409, "result_exists")
    assert len(tasks_of(officer, drawn)) == 2


@pytest.mark.parametrize(
    "change,field",
    [
        ({"outcome": "problems", "legal_basis": "《大气污染防治法》第四十八条"}, "problems"),
        ({"outcome": "problems", "problems": "除尘设施未运行"}, "legal_basis"),
        ({"outcome": "maybe"}, "outcome"),
        ({"client_uuid": "not-a-uuid"}, "client_uuid"),
        ({"photo_hashes": ["abc"]}, "photo_hashes.0"),
    ],
)
def test_bad_results_name_the_field(user_api, drawn, change, field):
    officer = user_api("officer")
    results, cases = InspectionResult.objects.count(), Issue.objects.filter(source="inspection").count()
    task = tasks_of(officer, drawn)[0]["properties"]
    r = officer.post(
        "/api/inspections/results/",
        {"client_uuid": str(uuid.uuid4()), "inspection": task["id"], "outcome": "pass"} | change,
        format="json",
    )
    assert r.status_code == 400 and r.json()["field"] == field, r.content
    assert InspectionResult.objects.count() == results and Issue.objects.filter(source="inspection").count() == cases


def test_someone_not_drawn_cannot_record(user_api, drawn):
    inspection = Inspection.objects.filter(plan_id=drawn).first()
    r = user_api("township_supervisor").post(
        "/api/inspections/results/",
        {"client_uuid": str(uuid.uuid4()), "inspection": inspection.pk, "outcome": "pass"},
        format="json",
    )
    assert (r.status_code, r.json()["code"]) == (404, "inspection_not_found")


def test_confidential_until_done(api, user_api, drawn):
    body = api.get(f"/public/inspections/{drawn}.json").json()
    assert body["seed_sha256"] and body["inputs_sha256"] and body["algorithm"] == "gridgov-draw-1"
    assert body["seed"] is None and body["inputs"] is None and body["inspections"] == [] and body["published"] is False
    officer = user_api("officer")
    tasks = tasks_of(officer, drawn)
    first = tasks[0]["properties"]
    officer.post(
        "/api/inspections/results/",
        {"client_uuid": str(uuid.uuid4()), "inspection": first["id"], "outcome": "pass"},
        format="json",
    )
    body = api.get(f"/public/inspections/{drawn}.json").json()
    assert [i["code"] for i in body["inspections"]] == [first["code"]] and body["seed"] is None
    text = api.get(f"/public/inspections/{drawn}.json").content.decode()
    assert "officer" not in text and "inspector1" not in text  # display names only, never usernames
    for t in tasks[1:]:
        officer.post(
            "/api/inspections/results/",
            {"client_uuid": str(uuid.uuid4()), "inspection": t["properties"]["id"], "outcome": "pass"},
            format="json",
        )
    body = api.get(f"/public/inspections/{drawn}.json").json()
    assert body["published"] is True and body["seed"] and body["inputs"]["pools"] and len(body["inspections"]) == 3


def test_a_problem_opens_a_case_and_is_evidence_once_accepted(user_api, users, drawn):
    from gridgov.models import Role, User

    officer = user_api("officer")
    task = tasks_of(officer, drawn)[0]["properties"]
    from django.core.files.uploadedfile import SimpleUploadedFile

    photo = officer.post(
        "/api/patrol/photos/", {"photo": SimpleUploadedFile("p.jpg", jpeg_bytes(), "image/jpeg")}, format="multipart"
    )
    sha = photo.json()["sha256"]
    r = officer.post(
        "/api/inspections/results/",
        {
            "client_uuid": str(uuid.uuid4()),
            "inspection": task["id"],
            "outcome": "problems",
            "problems": "除尘设施未运行，无组织排放（合成）",
            "legal_basis": "《中华人民共和国大气污染防治法》第四十八条",
            "category": "air",
            "photo_hashes": [sha],
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    issue = Issue.objects.get(pk=r.json()["issue"])
    assert (
        issue.source == "inspection"
        and task["code"] in issue.description
        and list(issue.photos.values_list("sha256", flat=True)) == [sha]
    )
    assert not Evidence.objects.filter(credit_code=task["credit_code"]).exists()
    inspection = Inspection.objects.get(pk=task["id"])
    from sources.models import Enterprise

    org = Enterprise.objects.get(credit_code=task["credit_code"]).organization
    unit = User.objects.create(username="firm_unit", role=Role.RESPONSIBLE_UNIT, organization=org)
    city = users["city_supervisor"]
    issue_transition(issue_id=issue.pk, action="verify", actor=city)
    issue_transition(issue_id=issue.pk, action="dispatch", actor=city, unit_id=org.pk)
    issue_transition(issue_id=issue.pk, action="submit_rectification", actor=unit, photo_hashes=[sha])
    issue_transition(issue_id=issue.pk, action="accept", actor=city)
    [evidence] = Evidence.objects.filter(credit_code=task["credit_code"])
    assert (evidence.kind, evidence.source_id, evidence.points, evidence.rule_code) == (
        "inspection",
        inspection.pk,
        -2,
        "inspection.problems",
    )
    body = user_api("city_supervisor").get(f"/api/credit/enterprises/{task['credit_code']}/").json()
    assert (body["score"], body["level"]) == (
        10,
        "blue",
    )  # a dispatched case to the firm counts once: as the inspection
