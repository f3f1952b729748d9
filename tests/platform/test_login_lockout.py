"""Login throttling that holds (issue 12 §4): per account and per client address, on every login
path, counted in the shared database cache, X-Forwarded-For believed only from trusted proxies."""

from __future__ import annotations

import ipaddress

import pytest
from django.conf import settings
from django.test import Client, override_settings
from rest_framework.test import APIClient

from gridgov.login import client_address

pytestmark = pytest.mark.django_db

LOCKED_ZH = "登录失败次数过多，已暂时锁定"


def api_login(username, password, **headers):
    return APIClient().post("/api/auth/token/", {"username": username, "password": password}, format="json", **headers)


def page_login(path, username, password, **headers):
    client = Client()
    response = client.post(path, {"username": username, "password": password, "next": "/"}, **headers)
    return response, client


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_api_token_refuses_the_right_password_after_25_wrong_ones():
    """Defaults: 5 failures lock an account (LOGIN_ACCOUNT_FAILURES); the 5th already answers 429."""
    statuses = [api_login("officer", "wrong").status_code for _ in range(25)]
    assert statuses == [400] * 4 + [429] * 21
    r = api_login("officer", settings.DEMO_PASSWORD)
    assert r.status_code == 429
    assert r.json()["code"] == "login_locked" and LOCKED_ZH in r.json()["message"]
    assert "token" not in r.json()


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_login_pages_refuse_the_right_password_after_25_wrong_ones(path):
    for _ in range(25):
        response, client = page_login(path, "city_supervisor", "wrong")
        assert not signed_in(client)
    response, client = page_login(path, "city_supervisor", settings.DEMO_PASSWORD)
    assert response.status_code == 200  # the form again, with the reason
    assert LOCKED_ZH in response.content.decode()
    assert not signed_in(client)


def test_the_first_failures_say_wrong_password_and_the_right_one_then_works():
    for _ in range(settings.GRIDGOV_LOGIN_LOCKOUT["account_failures"] - 1):
        r = api_login("planner", "wrong")
        assert (r.status_code, r.json()["code"]) == (400, "invalid_credentials")
    r = api_login("planner", settings.DEMO_PASSWORD)
    assert r.status_code == 200 and r.json()["token"]
    # A success clears the account's count: the next failure is a plain wrong password again.
    assert api_login("planner", "wrong").json()["code"] == "invalid_credentials"


def test_locking_is_shared_by_every_path():
    """Failures on the API lock the login page, and the other way round."""
    for _ in range(settings.GRIDGOV_LOGIN_LOCKOUT["account_failures"]):
        api_login("district_supervisor", "wrong")
    response, client = page_login("/accounts/login/", "district_supervisor", settings.DEMO_PASSWORD)
    assert LOCKED_ZH in response.content.decode() and not signed_in(client)


def test_a_new_forwarded_address_per_try_does_not_reset_the_address_count():
    """No trusted proxy: X-Forwarded-For is ignored, so the one real address is counted."""
    limit = settings.GRIDGOV_LOGIN_LOCKOUT["address_failures"]
    statuses = [
        # A different (nonexistent) account each time: only the address count can lock.
        api_login(f"nobody{i}", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{i + 1}").status_code
        for i in range(limit)
    ]
    assert statuses == [400] * (limit - 1) + [429]
    r = api_login("officer", settings.DEMO_PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.77")
    assert r.status_code == 429
    response, client = page_login(
        "/admin/login/", "city_supervisor", settings.DEMO_PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.78"
    )
    assert LOCKED_ZH in response.content.decode() and not signed_in(client)


@override_settings(TRUSTED_PROXIES=[ipaddress.ip_network("127.0.0.1/32")])
def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_count():
    limit = settings.GRIDGOV_LOGIN_LOCKOUT["address_failures"]
    for i in range(limit):
        api_login(f"nobody{i}", "wrong", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert api_login("officer", settings.DEMO_PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429
    # Another client behind the same proxy is not locked out...
    assert api_login("officer", settings.DEMO_PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.10").status_code == 200
    # ...and a client cannot escape by prepending forged addresses: the right-most untrusted one counts.
    r = api_login("officer", settings.DEMO_PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.9")
    assert r.status_code == 429


class _Request:
    def __init__(self, remote, xff=None):
        self.META = {"REMOTE_ADDR": remote}
        if xff is not None:
            self.META["HTTP_X_FORWARDED_FOR"] = xff


def test_client_address_believes_forwarded_headers_only_from_proxies():
    proxies = [ipaddress.ip_network("10.0.0.0/8")]
    with override_settings(TRUSTED_PROXIES=proxies):
        assert client_address(_Request("10.0.0.5", "198.51.100.1")) == "198.51.100.1"
        assert client_address(_Request("10.0.0.5", "198.51.100.1, 10.0.0.9")) == "198.51.100.1"
        assert client_address(_Request("203.0.113.5", "198.51.100.1")) == "203.0.113.5"  # not from a proxy
        assert client_address(_Request("10.0.0.5", "not-an-ip")) == "not-an-ip"
    with override_settings(TRUSTED_PROXIES=[]):
        assert client_address(_Request("10.0.0.5", "198.51.100.1")) == "10.0.0.5"


def test_the_lockout_message_is_translated():
    for _ in range(settings.GRIDGOV_LOGIN_LOCKOUT["account_failures"]):
        api_login("township_supervisor", "wrong")
    client = APIClient()
    client.cookies["django_language"] = "en"
    r = client.post("/api/auth/token/", {"username": "township_supervisor", "password": "x"}, format="json")
    assert r.status_code == 429
    assert r.json()["message"].startswith("Too many failed sign-ins")
