"""API tokens that expire and are revoked on sign-out and password change; sessions that end
when left idle (issue 12 §8)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from gridgov.models import User

pytestmark = pytest.mark.django_db

PRIVATE = "/api/patrol/tasks/"  # any endpoint that needs a signed-in user


def token_for(username: str) -> str:
    r = APIClient().post("/api/auth/token/", {"username": username, "password": settings.DEMO_PASSWORD}, format="json")
    assert r.status_code == 200, r.content
    return r.json()["token"]


def call(token: str):
    return APIClient().get(PRIVATE, HTTP_AUTHORIZATION=f"Token {token}")


def test_a_token_works_until_it_expires_after_seven_days():
    key = token_for("officer")
    assert call(key).status_code == 200
    Token.objects.filter(key=key).update(created=timezone.now() - timedelta(days=7, minutes=1))
    r = call(key)
    assert r.status_code == 403  # DRF answers an authentication failure with 403 under session auth
    assert r.json()["code"] == "token_expired"


def test_asking_again_after_expiry_issues_a_new_token():
    old = token_for("officer")
    Token.objects.filter(key=old).update(created=timezone.now() - timedelta(days=8))
    new = token_for("officer")
    assert new != old and call(new).status_code == 200
    assert not Token.objects.filter(key=old).exists()


def test_the_token_answer_says_when_it_expires():
    r = APIClient().post("/api/auth/token/", {"username": "officer", "password": settings.DEMO_PASSWORD}, format="json")
    token = Token.objects.get(key=r.json()["token"])
    expires = timezone.datetime.fromisoformat(r.json()["expires"])
    assert expires - token.created == timedelta(days=7)
    assert r.json()["expires"].endswith("+08:00")  # shown in Asia/Shanghai


def test_delete_revokes_the_token_it_carries():
    key = token_for("officer")
    r = APIClient().delete("/api/auth/token/", HTTP_AUTHORIZATION=f"Token {key}")
    assert r.status_code == 204
    assert call(key).status_code == 403
    assert not Token.objects.filter(key=key).exists()


def test_signing_out_of_the_web_revokes_the_accounts_tokens():
    key = token_for("district_supervisor")
    web = Client()
    web.post("/accounts/login/", {"username": "district_supervisor", "password": settings.DEMO_PASSWORD})
    assert "_auth_user_id" in web.session
    web.post("/accounts/logout/")
    assert call(key).status_code == 403
    assert not Token.objects.filter(user__username="district_supervisor").exists()


def test_a_password_change_revokes_the_accounts_tokens():
    key = token_for("planner")
    user = User.objects.get(username="planner")
    user.set_password("a-new-Passw0rd-for-the-test")
    user.save()
    assert call(key).status_code == 403
    assert not Token.objects.filter(user=user).exists()


def test_the_admin_password_form_revokes_tokens_too():
    key = token_for("officer")
    admin = User.objects.create_superuser("root-for-test", password="root-Passw0rd-test")
    web = Client()
    web.force_login(admin)
    officer = User.objects.get(username="officer")
    r = web.post(
        f"/admin/gridgov/user/{officer.pk}/password/",
        {"password1": "Another-Passw0rd-9", "password2": "Another-Passw0rd-9", "usable_password": "true"},
    )
    assert r.status_code == 302, r.content.decode()[:500]
    assert call(key).status_code == 403


def test_sessions_end_after_two_idle_hours():
    web = Client()
    web.post("/accounts/login/", {"username": "officer", "password": settings.DEMO_PASSWORD})
    session = Session.objects.get(session_key=web.session.session_key)
    left = session.expire_date - timezone.now()
    assert timedelta(hours=1, minutes=59) < left <= timedelta(hours=2)
    # Two hours and a minute without a request: the session is gone.
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(minutes=1))
    assert web.get("/patrol/").status_code == 302


def test_activity_moves_the_idle_deadline():
    web = Client()
    web.post("/accounts/login/", {"username": "officer", "password": settings.DEMO_PASSWORD})
    key = web.session.session_key
    # As if the last refresh was an hour ago: the session would end in one hour.
    session = web.session
    session["_gridgov_touched"] = int(timezone.now().timestamp()) - 3600
    session.save()
    Session.objects.filter(pk=key).update(expire_date=timezone.now() + timedelta(hours=1))
    assert web.get("/patrol/").status_code == 200
    left = Session.objects.get(pk=key).expire_date - timezone.now()
    assert left > timedelta(hours=1, minutes=59)
