"""Settings come from the environment; production refuses the development secret key."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_django(env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    env.update(env_overrides)
    code = (
        "import django; django.setup(); from django.conf import settings; print(settings.DEBUG, settings.ALLOWED_HOSTS)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "gridgov.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_debug_off_with_default_secret_key_refuses_to_start():
    r = run_django({"DEBUG": "0"})
    assert r.returncode != 0
    assert "SECRET_KEY" in r.stderr


def test_debug_off_with_a_real_secret_key_starts():
    r = run_django({"DEBUG": "0", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "gridgov.example.cn"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False ['gridgov.example.cn']"


def test_database_url_from_the_environment_wins():
    code = "import django; django.setup(); from django.conf import settings; d=settings.DATABASES['default']; print(d['HOST'], d['PORT'], d['NAME'], d['ENGINE'])"
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": "postgres://u:p@db.example:6543/zoning",
        "DJANGO_SETTINGS_MODULE": "gridgov.settings",
    }
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert r.stdout.split() == ["db.example", "6543", "zoning", "gridgov.db.backends.postgis"]
