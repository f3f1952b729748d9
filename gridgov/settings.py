"""GridGov settings. Everything that differs between machines comes from the environment."""

from __future__ import annotations

import ipaddress
import os
import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit

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


def env_seconds(name: str, default: float) -> float:
    """A duration: plain seconds, or with a unit (`15s`, `2h`, `7d`, `500ms`)."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    units = {"ms": 0.001, "s": 1, "min": 60, "m": 60, "h": 3600, "d": 86400}
    for suffix, factor in units.items():
        if raw.endswith(suffix) and raw[: -len(suffix)].replace(".", "", 1).isdigit():
            return float(raw[: -len(suffix)]) * factor
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a duration (e.g. 15s, 2h, 7d)") from None


# What this process is, for the two settings that differ between processes: the database role
# it connects as and its statement timeout. gunicorn and runserver serve web requests; `migrate`
# and the other schema commands, and the test suite (whose run creates the test database), need
# the owner role; every other command (the worker, load_demo, shell) is a runtime process.
SCHEMA_COMMANDS = {"migrate", "createcachetable", "flush", "grant_runtime_role", "test", "sqlflush"}


def _process_kind(argv: list[str]) -> str:
    program = Path(argv[0]).name if argv else ""
    command = argv[1] if len(argv) > 1 else ""
    if "pytest" in (argv[0] if argv else "") or command == "test":
        return "test"
    if "gunicorn" in program or command == "runserver":  # any other WSGI server: gridgov/wsgi.py
        return "web"
    if program in ("manage.py", "django-admin") and command in SCHEMA_COMMANDS:
        return "schema"
    return "command"


GRIDGOV_PROCESS = os.environ.get("GRIDGOV_PROCESS") or _process_kind(sys.argv)


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
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}

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
    "quality",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "gridgov.limits.RequestBodyLimitMiddleware",  # oversize bodies refused before they are read
    "gridgov.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "gridgov.security.IdleSessionMiddleware",
    "gridgov.middleware.ChineseFirstMiddleware",
    "gridgov.middleware.RejectNulMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "gridgov.compression.CompressionMiddleware",
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
                "gridgov.security.csp",
            ],
        },
    },
]


def _database_urls() -> tuple[str, str]:
    """Return the (runtime, owner) database URLs.

    Two roles (scripts/pg.sh makes both; docs/deployment.md): the owner of the schema, which
    migrations need, and the runtime role the server and worker use, which is no superuser and
    may only add to and read the audit and version tables (gridgov.db.roles). From the
    environment, `DATABASE_URL` (runtime) and `DATABASE_OWNER_URL` (owner; the same as
    `DATABASE_URL` when unset: one role for everything); else the project-local cluster's
    var/database_url and var/database_owner_url.
    """
    url = os.environ.get("DATABASE_URL")
    if url:
        return url, os.environ.get("DATABASE_OWNER_URL") or url
    runtime, owner = VAR_DIR / "database_url", VAR_DIR / "database_owner_url"
    if runtime.exists():
        runtime_url = runtime.read_text().strip()
        return runtime_url, owner.read_text().strip() if owner.exists() else runtime_url
    raise ImproperlyConfigured("No database: set DATABASE_URL, or run `make db` to start the project-local PostGIS.")


_RUNTIME_URL, _OWNER_URL = _database_urls()
# Schema commands and the test suite connect as the owner (the suite creates its database and
# migrates it; tests/platform/test_db_roles.py checks the runtime role separately); the rest
# as the runtime role. GRIDGOV_DB_ROLE=owner|runtime overrides the choice.
GRIDGOV_DB_ROLE = os.environ.get("GRIDGOV_DB_ROLE") or ("owner" if GRIDGOV_PROCESS in ("schema", "test") else "runtime")
if GRIDGOV_DB_ROLE not in ("owner", "runtime"):
    raise ImproperlyConfigured(f"GRIDGOV_DB_ROLE must be owner or runtime, not {GRIDGOV_DB_ROLE!r}")
# The role that gridgov.db.roles grants the runtime privileges to after each migrate.
GRIDGOV_DB_RUNTIME_ROLE = urlsplit(_RUNTIME_URL).username or ""

DATABASES = {
    "default": dj_database_url.parse(
        _OWNER_URL if GRIDGOV_DB_ROLE == "owner" else _RUNTIME_URL,
        engine="gridgov.db.backends.postgis",  # PostGIS, waiting out a database restart
        # Persistent connections, checked before reuse so a database restart costs one retry
        # rather than a 500 on every worker.
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# Hot reads (locate, the token look-up, site analysis) run as server-side prepared statements
# (gridgov.db.prepared). psycopg prepares a statement run with `prepare=True` only when its
# connection's prepare_threshold is set; Django leaves it None for poolers without prepared
# statements. ORM queries keep client-side binding and are never prepared (psycopg prepares
# only server-side bound queries), so the threshold affects only the statements we prepare.
# DB_PREPARED_STATEMENTS=0 turns it off (behind such a pooler).
GRIDGOV_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)
DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5 if GRIDGOV_PREPARED_STATEMENTS else None
# A web request's statements stop after DB_STATEMENT_TIMEOUT (15 s): one slow query must not
# hold a worker and a connection. The worker and commands (imports, detection, the demo
# loader) run with DB_COMMAND_STATEMENT_TIMEOUT, none by default. Sent in the connection's
# start-up packet, so it costs no round trip.
_statement_timeout = env_seconds(
    "DB_STATEMENT_TIMEOUT" if GRIDGOV_PROCESS == "web" else "DB_COMMAND_STATEMENT_TIMEOUT",
    15.0 if GRIDGOV_PROCESS == "web" else 0.0,
)
if _statement_timeout:
    DATABASES["default"]["OPTIONS"]["options"] = f"-c statement_timeout={int(_statement_timeout * 1000)}"
# Parallel test runs (several checkouts or helpers against one cluster) need distinct test DBs.
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("GRIDGOV_TEST_DB", "test_gridgov")}
# Tables the runtime role may only add to and read (no UPDATE, DELETE or TRUNCATE; TRUNCATE
# refused by a trigger too): model label -> the fields it may still update. A history table
# of a new app gets its line here; `migrate` (and `manage.py grant_runtime_role`) applies it.
GRIDGOV_APPEND_ONLY_TABLES: dict[str, tuple[str, ...]] = {
    "patrol.IssueEvent": (),
    "zoning.ZoningVersion": ("valid_to",),  # a version's validity is closed when the next replaces it
    # The decision is fixed; its links are set to null when the candidate or job is replaced.
    "geodata.CandidateReview": ("candidate", "job", "reviewer", "issue"),
    "sources.SourceEvent": (),
    "credit.ScoreChange": (),
    "inspections.PlanEvent": (),
    "quality.StationEvent": (),
}

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
    # Not a rule: its password_changed hook revokes the user's API tokens on a new password.
    {"NAME": "gridgov.auth.RevokeTokensOnPasswordChange"},
]
AUTHENTICATION_BACKENDS = [
    # Django's backend, refusing while the account or the client address is locked out.
    "gridgov.login.LockoutModelBackend",
    # The admin models each role works with (gridgov.auth.ROLE_PERMISSIONS).
    "gridgov.auth.RolePermissionBackend",
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

# --- Transport, sessions, tokens, login (docs/configuration.md) ----------------------------------
# HTTPS: on by default with DEBUG off, except when the server answers loopback names only (so
# `make run` works over plain http://127.0.0.1); HTTPS=0 for a plain-HTTP intranet.
GRIDGOV_HTTPS = env_bool("HTTPS", not DEBUG and not set(ALLOWED_HOSTS) <= LOOPBACK_HOSTS)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", GRIDGOV_HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = GRIDGOV_HTTPS and env_bool("SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(env_seconds("HSTS_SECONDS", 365 * 86400)) if GRIDGOV_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
# Behind a TLS-terminating proxy: PROXY_SSL_HEADER=X-Forwarded-Proto (only when every request
# comes through that proxy, which sets or strips the header).
_proxy_ssl_header = os.environ.get("PROXY_SSL_HEADER", "").strip()
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Sessions end after SESSION_IDLE_TIMEOUT without activity (2 h); gridgov.security refreshes
# the expiry on activity.
SESSION_COOKIE_AGE = int(env_seconds("SESSION_IDLE_TIMEOUT", 2 * 3600))
# API tokens expire API_TOKEN_LIFETIME after they were issued (7 days); logout and a password
# change revoke them (gridgov.auth, gridgov.login).
GRIDGOV_TOKEN_LIFETIME = env_seconds("API_TOKEN_LIFETIME", 7 * 86400)
# Reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma list); the
# client address is the right-most forwarded address that is not one of them.
TRUSTED_PROXIES = [ipaddress.ip_network(p, strict=False) for p in env_list("TRUSTED_PROXIES", "")]
# Login lock-out, per account and per client address, counted in the shared cache.
GRIDGOV_LOGIN_LOCKOUT = {
    "account_failures": int(os.environ.get("LOGIN_ACCOUNT_FAILURES", "5")),
    "address_failures": int(os.environ.get("LOGIN_ADDRESS_FAILURES", "20")),
    "seconds": env_seconds("LOGIN_LOCKOUT", 15 * 60),
}
# Content-Security-Policy (gridgov.security): scripts only from here or with the page's nonce.
GRIDGOV_CSP_REPORT_ONLY = env_bool("CSP_REPORT_ONLY", False)

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
    "DEFAULT_THROTTLE_RATES": {
        # Expensive zoning work per user (or client address when anonymous): zoning/throttles.py.
        "zoning_import": os.environ.get("ZONING_IMPORT_THROTTLE", "60/hour"),
        "zoning_site_upload": os.environ.get("ZONING_SITE_UPLOAD_THROTTLE", "60/hour"),
        "zoning_report_pdf": os.environ.get("ZONING_REPORT_PDF_THROTTLE", "30/hour"),
    },
    # DRF throttles key on the client address: believe X-Forwarded-For only behind our proxies.
    "NUM_PROXIES": int(os.environ.get("NUM_PROXIES", "1" if TRUSTED_PROXIES else "0")),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "GridGov API",
    "DESCRIPTION": "Grid supervision, zoning (三线一单), the patrol closed loop and imagery for an "
    "ecology and environment bureau.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from our own static files (static/vendor/README.md): intranets have no CDN.
    "SWAGGER_UI_DIST": f"/{STATIC_URL}vendor/swagger-ui-dist-5.35.0",
    "SWAGGER_UI_FAVICON_HREF": f"/{STATIC_URL}vendor/swagger-ui-dist-5.35.0/favicon-32x32.png",
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
