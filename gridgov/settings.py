"""GridGov settings. Everything that differs between machines comes from the environment."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("GRIDGOV_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """SECRET_KEY from the environment, else the one generated on first run in var/ (mode 0600).

    Every process of one checkout (server, worker, receiver, any manage.py command) reads the
    same file, so sessions and signed values survive restarts; deployments set SECRET_KEY.
    """
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it a moment ago
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_gis",
    "drf_spectacular",
    "django_filters",
    "leaflet",
    "procrastinate.contrib.django",
    "gridgov",
    "zoning",
    "patrol",
    "geodata",
    "dashboard",
    "monitoring",
    "sources",
    "credit",
    "inspections",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "gridgov.middleware.ChineseFirstMiddleware",
    "gridgov.middleware.RejectNulMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "gridgov.urls"
WSGI_APPLICATION = "gridgov.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "gridgov.context_processors.gridgov",
            ],
        },
    },
]


def _database_url() -> str:
    """Return DATABASE_URL, else the URL of the project-local cluster that `make db` wrote."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    local = VAR_DIR / "database_url"
    if local.exists():
        return local.read_text().strip()
    raise ImproperlyConfigured("No database: set DATABASE_URL, or run `make db` to start the project-local PostGIS.")


DATABASES = {
    "default": dj_database_url.parse(
        _database_url(),
        engine="gridgov.db.backends.postgis",  # PostGIS, waiting out a database restart
        # Persistent connections, checked before reuse so a database restart costs one retry
        # rather than a 500 on every worker.
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# Prepare the hot lookups (locate) server-side; off behind a pooler without prepared-statement support.
GRIDGOV_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)
# Parallel test runs (several checkouts or helpers against one cluster) need distinct test DBs.
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("GRIDGOV_TEST_DB", "test_gridgov")}

# One cache for every gunicorn worker (login throttling counts across workers); in PostgreSQL,
# so it needs nothing more than the database. `make migrate` runs createcachetable.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "gridgov_cache",
    }
}

AUTH_USER_MODEL = "gridgov.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Uploads: Django spools anything over 2.5 MB to disk; our own views enforce per-kind limits.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
GRIDGOV_MAX_UPLOAD_BYTES = int(os.environ.get("GRIDGOV_MAX_UPLOAD_BYTES", 50 * 1024 * 1024))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and env_bool("HTTPS", False))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Spatial ---------------------------------------------------------------------------------
# One storage SRID for every geometry; input is transformed at the edge, output in serializers.
GRIDGOV_SRID = 4326
# CGCS2000 / 3-degree Gauss-Kruger CM 120E: where official areas are computed.
GRIDGOV_AREA_SRID = 4549
GRIDGOV_CITY_CODE = "330100"

# Basemap: tianditu (needs TIANDITU_KEY), amap (GCJ-02; overlays are shifted), osm, or none.
GRIDGOV_BASEMAP = os.environ.get("BASEMAP", "tianditu" if os.environ.get("TIANDITU_KEY") else "osm")
TIANDITU_KEY = os.environ.get("TIANDITU_KEY", "")
AMAP_KEY = os.environ.get("AMAP_KEY", "")

LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (30.25, 119.8),
    "DEFAULT_ZOOM": 9,
    "MIN_ZOOM": 6,
    "MAX_ZOOM": 19,
    "TILES": [],  # basemaps are added by static/gridgov/map.js from GRIDGOV_BASEMAP
    "ATTRIBUTION_PREFIX": "GridGov",
    "RESET_VIEW": False,
    "NO_GLOBALS": False,
}

# --- API ---------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "gridgov.auth.PreparedTokenAuthentication",  # DRF's Token scheme, looked up as a prepared read
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_SCHEMA_CLASS": "gridgov.api.GridGovAutoSchema",
    "EXCEPTION_HANDLER": "gridgov.errors.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": None,
    "DEFAULT_THROTTLE_RATES": {"login": os.environ.get("LOGIN_THROTTLE", "20/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "GridGov API",
    "DESCRIPTION": "Grid supervision, zoning (三线一单), the patrol closed loop and imagery for an "
    "ecology and environment bureau.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Background jobs and Dask ------------------------------------------------------------------
DASK_SCHEDULER_ADDRESS = os.environ.get("DASK_SCHEDULER_ADDRESS", "")

# --- Online monitoring (HJ 212-2017) ----------------------------------------------------------
# The receiver listens on HJ212_HOST:HJ212_PORT (manage.py hj212_receiver, scripts/receiver.sh);
# the other settings and their defaults are in monitoring/conf.py.
HJ212_HOST = os.environ.get("HJ212_HOST", "127.0.0.1")
HJ212_PORT = int(os.environ.get("HJ212_PORT", "9212"))
# A logger silent for longer than this opens one 数采仪离线 case.
MONITORING_OFFLINE_MINUTES = int(os.environ.get("MONITORING_OFFLINE_MINUTES", "60"))

# --- Credit and 双随机一公开 ------------------------------------------------------------------
# Days after a plan's end by which its whole draw and results are public (一公开).
INSPECTIONS_PUBLISH_DAYS = int(os.environ.get("INSPECTIONS_PUBLISH_DAYS", "20"))

# --- Demo --------------------------------------------------------------------------------------
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "gridgov-demo")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "procrastinate": {"level": "WARNING"}},
}

# Debian 12 ships GDAL 3.6, which cannot block file/network access from spatial references.
# Uploaded files are read with pyogrio and rasterio, whose wheels bundle a newer GDAL; Django's
# own GDAL only ever parses SRIDs we name. Silence the check rather than print it every command.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]
