"""Routes the access table leaves to this file (reliability/access.py): the draw page's
commit/draw form (CSRF-protected, planners only) and the 行政行为码 pages (a genuine code
verifies, anything else is 404)."""

import re
import uuid

import pytest
from django.test import Client

from gridgov.models import User
from inspections.models import Inspection, Plan
from sources.models import Enterprise

from .conftest import plan_body


@pytest.fixture
def committed(user_api, township, firms, roster):
    firms(2)
    people = [u.username for u in roster(2)]
    sup = user_api("district_supervisor")
    pk = sup.post(
        "/api/inspections/plans/", plan_body(township.code, pools=[{"ratio": 1}], inspectors=people), format="json"
    ).json()["id"]
    return pk


def session(username):
    c = Client(enforce_csrf_checks=True)
    c.force_login(User.objects.get(username=username))
    return c


def csrf_of(c, path):
    page = c.get(path)
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)


def test_draw_page_actions_need_csrf_and_a_planner(committed):
    sup = session("district_supervisor")
    path = f"/inspections/plans/{committed}/"
    assert sup.post(path + "act/", {"action": "commit"}).status_code == 403  # no CSRF token
    assert Plan.objects.get(pk=committed).status == "draft"
    token = csrf_of(sup, path)
    r = sup.post(path + "act/", {"action": "commit", "csrfmiddlewaretoken": token}, follow=True)
    assert Plan.objects.get(pk=committed).status == "committed"
    assert "已承诺" in r.content.decode() and Plan.objects.get(pk=committed).seed_sha256 in r.content.decode()
    r = sup.post(path + "act/", {"action": "commit", "csrfmiddlewaretoken": token}, follow=True)
    assert "不能重复承诺" in r.content.decode()
    town = session("township_supervisor")
    r = town.post(path + "act/", {"action": "draw", "csrfmiddlewaretoken": csrf_of(town, "/inspections/")}, follow=True)
    # a plan of another township answers as missing to this township's supervisor
    assert r.status_code == 404 and Plan.objects.get(pk=committed).status == "committed"
    officer = session("officer")
    assert officer.get(path).status_code == 403
    r = sup.post(path + "act/", {"action": "draw", "csrfmiddlewaretoken": token}, follow=True)
    assert Plan.objects.get(pk=committed).status == "drawn" and "已抽取 2 家企业" in r.content.decode()


def test_code_pages_verify_genuine_codes_only(committed, user_api, client):
    sup = user_api("district_supervisor")
    sup.post(f"/api/inspections/plans/{committed}/commit/")
    sup.post(f"/api/inspections/plans/{committed}/draw/")
    inspection = Inspection.objects.filter(plan_id=committed).first()
    r = client.get(f"/public/inspections/code/{inspection.code}/")
    assert r.status_code == 200 and "真实有效" in r.content.decode() and "<svg" in r.content.decode()
    svg = client.get(f"/public/inspections/code/{inspection.code}.svg")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml" and svg.content.startswith(b"<svg")
    forged = inspection.code[:-1] + ("0" if inspection.code[-1] != "0" else "1")
    r = client.get(f"/public/inspections/code/{forged}/")
    assert r.status_code == 404 and "查无此行政行为码" in r.content.decode()
    assert client.get(f"/public/inspections/code/{forged}.svg").status_code == 404


def test_code_page_keeps_enterprise_and_inspectors_confidential_until_done(committed, user_api, client):
    """Anyone with a 行政行为码 learns it is genuine and its status; the enterprise and the team
    only once the inspection is done (the list is confidential until then)."""
    sup = user_api("district_supervisor")
    sup.post(f"/api/inspections/plans/{committed}/commit/")
    sup.post(f"/api/inspections/plans/{committed}/draw/")
    inspection = Inspection.objects.filter(plan_id=committed).order_by("position").first()
    team = [m.user for m in inspection.team.select_related("user")]
    name = Enterprise.objects.get(credit_code=inspection.credit_code).name
    path = f"/public/inspections/code/{inspection.code}/"

    page = client.get(path).content.decode()
    assert 'data-testid="code-valid"' in page and 'data-testid="code-confidential"' in page
    assert "待检查" in page
    for secret in (inspection.credit_code, name, *(u.display_name for u in team)):
        assert secret not in page, secret

    r = user_api(team[0].username).post(
        "/api/inspections/results/",
        {"client_uuid": str(uuid.uuid4()), "inspection": inspection.pk, "outcome": "pass"},
        format="json",
    )
    assert r.status_code == 201, r.content
    page = client.get(path).content.decode()
    assert 'data-testid="code-confidential"' not in page and "合格" in page
    assert inspection.credit_code in page and name in page
    assert all(u.display_name in page for u in team)
