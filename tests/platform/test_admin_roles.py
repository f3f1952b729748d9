"""The admin site per role (issue 13 §5 Admin): each staff role sees the models that are its job,
accounts only within its jurisdiction, and no "no permission" wall."""

from __future__ import annotations

import pytest
from django.test import Client

from gridgov.models import AdminArea, Role, User

pytestmark = pytest.mark.django_db

NO_PERMISSION = "你没有查看或编辑的权限"


def admin_client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_city_supervisor_keeps_taxonomy_rules_calendar_and_accounts():
    index = admin_client("city_supervisor").get("/admin/")
    html = index.content.decode()
    assert index.status_code == 200 and NO_PERMISSION not in html
    for url in [
        "/admin/patrol/category/",
        "/admin/patrol/dispatchrule/",
        "/admin/patrol/holiday/",
        "/admin/gridgov/user/",
        "/admin/gridgov/organization/",
    ]:
        assert f'href="{url}"' in html, url
        assert admin_client("city_supervisor").get(url).status_code == 200, url
    assert admin_client("city_supervisor").get("/admin/patrol/category/add/").status_code == 200
    # Not its job: imagery jobs, Open311 keys, sessions, groups.
    for url in ["/admin/geodata/detectionjob/", "/admin/patrol/apikey/", "/admin/auth/group/"]:
        assert f'href="{url}"' not in html
        assert admin_client("city_supervisor").get(url).status_code == 403


def test_planner_looks_up_reference_geography_only():
    html = admin_client("planner").get("/admin/").content.decode()
    assert NO_PERMISSION not in html
    assert 'href="/admin/gridgov/adminarea/"' in html and 'href="/admin/gridgov/gridcell/"' in html
    assert 'href="/admin/gridgov/user/"' not in html and 'href="/admin/patrol/category/"' not in html
    assert admin_client("planner").get("/admin/gridgov/adminarea/add/").status_code == 403


def test_account_admin_is_limited_to_the_supervisors_jurisdiction():
    supervisor = User.objects.get(username="district_supervisor")  # 西湖区 (330106)
    supervisor.is_staff = True
    supervisor.save()
    client = admin_client("district_supervisor")
    listed = client.get("/admin/gridgov/user/?q=supervisor").content.decode()
    assert ">township_supervisor<" in listed  # a township of 西湖区
    assert ">city_supervisor<" not in listed  # city scope: outside a district's reach
    city = User.objects.get(username="city_supervisor")
    assert client.get(f"/admin/gridgov/user/{city.pk}/change/").status_code == 302  # "does not exist"
    # Scope choices are the district and its townships, never another district.
    form = client.get(f"/admin/gridgov/user/{User.objects.get(username='officer').pk}/change/").content.decode()
    assert f'value="{AdminArea.objects.get(code="330106").pk}"' in form
    assert f'value="{AdminArea.objects.get(code="330102").pk}"' not in form
    # No field that grants admin rights.
    assert 'name="is_superuser"' not in form and 'name="user_permissions"' not in form and 'name="is_staff"' not in form


def test_a_staff_account_without_admin_models_gets_no_admin_link():
    analyst = User.objects.get(username="imagery_analyst")
    analyst.is_staff = True
    analyst.save()
    assert analyst.role == Role.IMAGERY_ANALYST
    home = admin_client("imagery_analyst").get("/").content.decode()
    assert 'href="/admin/"' not in home
    assert 'href="/admin/"' in admin_client("city_supervisor").get("/").content.decode()
