"""Settings come from the environment; without one, a secret generated once and kept in var/."""

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


def test_no_environment_generates_a_private_secret_once(tmp_path):
    """A fresh checkout with nothing set: DEBUG off, a key made on first use, mode 0600, reused."""
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY)"
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    env.update({"GRIDGOV_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "gridgov.settings"})
    env.setdefault("DATABASE_URL", "postgres://u:p@127.0.0.1:1/x")
    runs = [
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        for _ in range(2)
    ]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr
    debug, key = runs[0].stdout.split()
    assert debug == "False" and len(key) >= 50
    assert runs[1].stdout.split()[1] == key
    secret = tmp_path / "secret_key"
    assert secret.read_text().strip() == key
    assert secret.stat().st_mode & 0o777 == 0o600


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
