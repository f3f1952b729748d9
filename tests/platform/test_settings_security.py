"""Transport, sessions, tokens, roles and timeouts as the settings choose them (issue 12 §7, §8).

Each case imports the settings in a fresh interpreter with a given environment and argv, as a
deployment would start them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
NAMES = [
    "DEBUG",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_AGE",
    "GRIDGOV_TOKEN_LIFETIME",
    "GRIDGOV_PROCESS",
    "GRIDGOV_DB_ROLE",
]
CLEAN = (
    "DEBUG HTTPS SECURE_COOKIES SSL_REDIRECT HSTS_SECONDS PROXY_SSL_HEADER ALLOWED_HOSTS SESSION_IDLE_TIMEOUT "
    "API_TOKEN_LIFETIME GRIDGOV_PROCESS GRIDGOV_DB_ROLE DB_STATEMENT_TIMEOUT DB_COMMAND_STATEMENT_TIMEOUT "
    "DATABASE_URL DATABASE_OWNER_URL"
).split()


def load(env: dict[str, str], argv: list[str] | None = None) -> dict:
    """The named settings (and the database options) as a process with `env` and `argv` sees them."""
    code = (
        "import json, sys; sys.argv = json.loads(sys.argv[1]);"
        "from gridgov import settings as s;"
        f"out = {{n: getattr(s, n, None) for n in {NAMES!r}}};"
        "d = s.DATABASES['default']; out['db_user'] = d['USER']; out['options'] = d.get('OPTIONS', {});"
        "print(json.dumps(out, default=str))"
    )
    base = {k: v for k, v in os.environ.items() if k not in CLEAN}
    base.update(
        {
            "DATABASE_URL": "postgres://app:pw@db.example:5432/gridgov",
            "DATABASE_OWNER_URL": "postgres://owner:pw@db.example:5432/gridgov",
        }
    )
    base.update(env)
    r = subprocess.run(
        [sys.executable, "-c", code, json.dumps(argv or ["manage.py", "check"])],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_a_deployment_with_debug_off_is_https_only():
    s = load({"ALLOWED_HOSTS": "gridgov.example.cn"})
    assert s["DEBUG"] is False
    assert s["SESSION_COOKIE_SECURE"] is True and s["CSRF_COOKIE_SECURE"] is True
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_HSTS_SECONDS"] == 365 * 86400
    assert s["SECURE_PROXY_SSL_HEADER"] is None  # only when configured


def test_loopback_only_serves_plain_http_out_of_the_box():
    """`make run` on 127.0.0.1 (the default ALLOWED_HOSTS) must work over http://."""
    s = load({})
    assert (s["SESSION_COOKIE_SECURE"], s["SECURE_SSL_REDIRECT"], s["SECURE_HSTS_SECONDS"]) == (False, False, 0)


def test_a_plain_http_intranet_switches_https_off():
    s = load({"ALLOWED_HOSTS": "10.1.2.3,gridgov.intranet", "HTTPS": "0"})
    assert (s["SESSION_COOKIE_SECURE"], s["SECURE_SSL_REDIRECT"], s["SECURE_HSTS_SECONDS"]) == (False, False, 0)


def test_behind_a_tls_proxy_the_forwarded_scheme_is_read_only_when_configured():
    s = load({"ALLOWED_HOSTS": "gridgov.example.cn", "PROXY_SSL_HEADER": "X-Forwarded-Proto"})
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_sessions_idle_out_after_two_hours_and_tokens_after_seven_days():
    s = load({})
    assert s["SESSION_COOKIE_AGE"] == 7200
    assert s["GRIDGOV_TOKEN_LIFETIME"] == 7 * 86400
    s = load({"SESSION_IDLE_TIMEOUT": "30min", "API_TOKEN_LIFETIME": "1d"})
    assert (s["SESSION_COOKIE_AGE"], s["GRIDGOV_TOKEN_LIFETIME"]) == (1800, 86400)


@pytest.mark.parametrize(
    "argv, process, role",
    [
        (["/srv/.venv/bin/gunicorn", "gridgov.wsgi:application"], "web", "runtime"),
        (["manage.py", "runserver", "127.0.0.1:8000"], "web", "runtime"),
        (["manage.py", "procrastinate", "worker"], "command", "runtime"),
        (["manage.py", "load_demo"], "command", "runtime"),
        (["manage.py", "migrate", "--noinput"], "schema", "owner"),
        (["manage.py", "createcachetable"], "schema", "owner"),
        (["/srv/.venv/lib/python3.11/site-packages/pytest/__main__.py", "-q"], "test", "owner"),
    ],
)
def test_each_process_connects_as_its_role(argv, process, role):
    s = load({}, argv)
    assert (s["GRIDGOV_PROCESS"], s["GRIDGOV_DB_ROLE"]) == (process, role)
    assert s["db_user"] == ("owner" if role == "owner" else "app")


def test_web_requests_have_a_statement_timeout_and_commands_none():
    assert load({}, ["gunicorn"])["options"]["options"] == "-c statement_timeout=15000"
    assert load({"DB_STATEMENT_TIMEOUT": "5s"}, ["gunicorn"])["options"]["options"] == "-c statement_timeout=5000"
    assert "options" not in load({}, ["manage.py", "procrastinate", "worker"])["options"]
    assert load({"DB_COMMAND_STATEMENT_TIMEOUT": "10min"}, ["manage.py", "load_demo"])["options"]["options"] == (
        "-c statement_timeout=600000"
    )
    # Prepared hot statements through Django's own option, not a signal.
    assert load({}, ["gunicorn"])["options"]["prepare_threshold"] == 5
    assert load({"DB_PREPARED_STATEMENTS": "0"}, ["gunicorn"])["options"]["prepare_threshold"] is None


@pytest.mark.django_db
def test_a_web_process_statement_is_cancelled_at_the_timeout():
    """A real connection opened with the web settings' options stops a slow statement."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    s = load({"DB_STATEMENT_TIMEOUT": "300ms"}, ["gunicorn"])
    conn = psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        options=s["options"]["options"],
    )
    with conn, pytest.raises(psycopg.errors.QueryCanceled):
        conn.execute("SELECT pg_sleep(2)")
