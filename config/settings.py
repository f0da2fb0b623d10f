"""Jianguan settings: one env-driven file.

With no environment set, the defaults give the embedded mode: an SQLite file under ./var/, Celery tasks run eagerly
in-process, local files. Every value that can go wrong stops start-up with a one-line explanation (see
``jianguan.cli``), never a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    """Read a setting from the environment; ``NAME_FILE`` points at a file holding a secret."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_path}: cannot read the file ({exc.strerror})") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    """Booleans accept only True/False (or empty for the default)."""
    value = env(name)
    if value == "":
        return default
    if value in ("True", "true", "1"):
        return True
    if value in ("False", "false", "0"):
        return False
    raise ImproperlyConfigured(f"{name}={value!r}: expected True or False")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """Integers parse strictly and may carry a lower bound."""
    value = env(name)
    if value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r}: expected a whole number") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number}: must be at least {minimum}")
    return number


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in env(name, default).split(",") if part.strip()]


DEBUG = env_bool("JIANGUAN_DEBUG", False)
VAR_DIR = Path(env("JIANGUAN_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env("JIANGUAN_SECRET_KEY")
EMBEDDED_INSECURE_KEY = "embedded-demo-key-not-for-production-0123456789abcdef"  # noqa: S105 - embedded demo only
if not SECRET_KEY:
    if env_bool("JIANGUAN_PRODUCTION", False):
        raise ImproperlyConfigured("JIANGUAN_SECRET_KEY is required when JIANGUAN_PRODUCTION=True")
    SECRET_KEY = EMBEDDED_INSECURE_KEY
if len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("JIANGUAN_SECRET_KEY must be at least 32 characters long")

ALLOWED_HOSTS = env_list("JIANGUAN_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("JIANGUAN_CSRF_TRUSTED_ORIGINS", "")

# Field-encryption keys for personal data at rest: "id:base64key,id2:base64key"; the first is active.
FIELD_ENCRYPTION_KEYS = env("JIANGUAN_FIELD_KEYS")
if not FIELD_ENCRYPTION_KEYS and env_bool("JIANGUAN_PRODUCTION", False):
    raise ImproperlyConfigured("JIANGUAN_FIELD_KEYS is required when JIANGUAN_PRODUCTION=True")
if FIELD_ENCRYPTION_KEYS:
    from jianguan.core.crypto import parse_keys

    parse_keys(FIELD_ENCRYPTION_KEYS)  # fail fast on a malformed key list
FIELD_ENCRYPTION_ALGORITHM = env("JIANGUAN_FIELD_CIPHER", "auto")
if FIELD_ENCRYPTION_ALGORITHM not in ("auto", "sm4-gcm", "aes-256-gcm"):
    raise ImproperlyConfigured("JIANGUAN_FIELD_CIPHER must be auto, sm4-gcm or aes-256-gcm")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "jianguan.core",
    "jianguan.security",
    "jianguan.catalog",
    "jianguan.complaints",
    "jianguan.datacenter",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "jianguan.core.middleware.CSPMiddleware",  # django-csp's, with a fixed policy for bearer-token REST calls
    "jianguan.core.middleware.RequestIdMiddleware",
    "jianguan.core.middleware.LocaleMiddleware",  # the language cookie only: it needs no session
    "django.middleware.common.CommonMiddleware",
    # session, CSRF, session user, second factor, security policy, messages
    # (core.middleware.BROWSER_SESSION_MIDDLEWARE); passed over by REST calls with a bearer token
    "jianguan.core.middleware.BrowserSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "jianguan.core.context_processors.shell",
            ],
        },
    },
]

# --- Database
DATABASE_URL = env("JIANGUAN_DATABASE_URL")
if DATABASE_URL:
    import dj_database_url

    try:
        _db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("JIANGUAN_DB_CONN_MAX_AGE", 60, minimum=0))
    except (ValueError, dj_database_url.UnknownSchemeError) as exc:
        raise ImproperlyConfigured(f"JIANGUAN_DATABASE_URL is not a valid database URL ({exc})") from None
    if _db["ENGINE"] not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
        raise ImproperlyConfigured("JIANGUAN_DATABASE_URL must be a postgres:// or sqlite:// URL")
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _db = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(VAR_DIR / "jianguan.sqlite3"),
    }
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed during a write; IMMEDIATE transactions avoid lock-upgrade deadlocks.
    _db.setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
    )
    _db["CONN_MAX_AGE"] = 0
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Identity
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = ["jianguan.core.auth.RoleBackend"]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:home"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "jianguan.core.passwords.ComplexityValidator"},
]
PASSWORD_MAX_AGE_DAYS = env_int("JIANGUAN_PASSWORD_MAX_AGE_DAYS", 90, minimum=1)
LOGIN_MAX_FAILURES = env_int("JIANGUAN_LOGIN_MAX_FAILURES", 5, minimum=1)
LOGIN_LOCKOUT_MINUTES = env_int("JIANGUAN_LOGIN_LOCKOUT_MINUTES", 30, minimum=1)
SESSION_IDLE_TIMEOUT = env_int("JIANGUAN_SESSION_IDLE_SECONDS", 1800, minimum=60)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
PRODUCTION = env_bool("JIANGUAN_PRODUCTION", False)
SECURE_COOKIES = env_bool("JIANGUAN_SECURE_COOKIES", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("JIANGUAN_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_SSL_REDIRECT = env_bool("JIANGUAN_SSL_REDIRECT", False)
if env_bool("JIANGUAN_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
LOGIN_MAX_FAILURES_PER_IP = env_int("JIANGUAN_LOGIN_MAX_FAILURES_PER_IP", 30, minimum=1)
# Reverse proxies in front of gunicorn that append to X-Forwarded-For; the client address is taken that many
# entries from the right (0: use the socket address).
TRUSTED_PROXY_HOPS = env_int("JIANGUAN_TRUSTED_PROXY_HOPS", 0, minimum=0)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
OTP_TOTP_ISSUER = "Jianguan"
# Roles whose members must log in with a second factor (等保 grade 3).
MFA_REQUIRED_ROLES = env_list("JIANGUAN_MFA_REQUIRED_ROLES", "system_admin,security_admin,audit_admin")

from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# --- Cache (throttles, login counters): Redis when deployed with several processes, else per-process memory
CACHE_URL = env("JIANGUAN_CACHE_URL")
if CACHE_URL and not CACHE_URL.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured("JIANGUAN_CACHE_URL must be a redis:// URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "jianguan"}
    )
}

# --- Audit
# A token look-up (with the account's permissions) is reused for this many seconds in each process; changes made in
# that process apply at once, in other processes within this time. 0 looks every call up.
API_TOKEN_CACHE_SECONDS = env_int("JIANGUAN_API_TOKEN_CACHE_SECONDS", 5, minimum=0)

AUDIT_RETENTION_DAYS = env_int("JIANGUAN_AUDIT_RETENTION_DAYS", 190, minimum=180)
# Delivered outbox events (and their handlers' idempotency records) are kept this long, for inspection, then pruned.
OUTBOX_RETENTION_DAYS = env_int("JIANGUAN_OUTBOX_RETENTION_DAYS", 14, minimum=1)
# Key of the audit chain's HMAC (SM3 or SHA-256). Keep it off the database host; without it nobody can re-forge the
# chain after editing rows. Embedded mode derives one from SECRET_KEY.
AUDIT_KEY = env("JIANGUAN_AUDIT_KEY")
# With a broker, a worker chains committed audit entries about this many seconds after their commit (embedded mode
# chains them at the commit); the beat entry "audit-seal" seals any straggler within 10 s.
AUDIT_SEAL_DELAY = env_int("JIANGUAN_AUDIT_SEAL_DELAY", 1, minimum=1)
if not AUDIT_KEY and env_bool("JIANGUAN_PRODUCTION", False):
    raise ImproperlyConfigured("JIANGUAN_AUDIT_KEY is required when JIANGUAN_PRODUCTION=True")
# Checkpoints of the chain head (sequence and hash), appended by `jianguan audit verify` and the periodic task,
# so that removing the newest entries is detected too. Put it on storage the database administrator cannot rewrite.
AUDIT_CHECKPOINT_FILE = Path(env("JIANGUAN_AUDIT_CHECKPOINT_FILE", str(VAR_DIR / "audit-checkpoints.log")))

# --- i18n
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise expects it; collectstatic fills it for gunicorn
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = VAR_DIR / "media"

# --- API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "jianguan.core.api.authentication.ApiTokenAuthentication",
        "jianguan.core.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "jianguan.core.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "jianguan.core.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": [
        "jianguan.core.api.throttling.AnonRateThrottle",
        "jianguan.core.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("JIANGUAN_API_RATE_ANON", "60/min"),
        "user": env("JIANGUAN_API_RATE_USER", "60000/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Jianguan API",
    "DESCRIPTION": "江苏省“互联网+监管”系统 / Jiangsu Internet + Supervision platform",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "ENUM_NAME_OVERRIDES": {
        "RegionLevelEnum": "jianguan.core.choices.RegionLevel",
        "VersionStatusEnum": "jianguan.catalog.choices.VersionStatus",
        "BasisStatusEnum": "jianguan.catalog.choices.BasisStatus",
        "BasisLevelEnum": "jianguan.catalog.choices.BasisLevel",
    },
}

# --- Celery
CELERY_BROKER_URL = env("JIANGUAN_BROKER_URL")
CELERY_RESULT_BACKEND = env("JIANGUAN_RESULT_BACKEND") or None
# Embedded mode: without a broker every task runs at once in the calling process.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Celery's Django fix-up closes the worker's database connection before and after every task unless this is set, so
# each of the many small background tasks paid for a new PostgreSQL session (a forked backend that loads its catalog
# caches again: a quarter of a core in the intake benchmark). Connections now live as in the web server:
# ``config.celery`` applies ``CONN_MAX_AGE`` and drops unusable connections around each task, as Django does around
# each request; this count is only the fix-up's backstop (a reconnect after this many tasks).
CELERY_DB_REUSE_MAX = env_int("JIANGUAN_WORKER_DB_REUSE_MAX", 10_000, minimum=1)
# With a broker, outbox events are delivered in batches by a worker about this many seconds after their commit...
EVENT_DELIVERY_DELAY = env_int("JIANGUAN_EVENT_DELIVERY_DELAY", 1, minimum=1)
# ...and new tickets get their classifier suggestion, candidate entity and duplicate proposals about this long after.
COMPLAINT_ASSIST_DELAY = env_int("JIANGUAN_COMPLAINT_ASSIST_DELAY", 2, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "deliver-outbox": {"task": "jianguan.core.tasks.deliver_outbox", "schedule": 60.0},
    "audit-seal": {"task": "jianguan.core.tasks.seal_audit", "schedule": 10.0},
    "audit-checkpoint": {"task": "jianguan.core.tasks.audit_checkpoint", "schedule": 600.0},
    "audit-prune": {"task": "jianguan.core.tasks.audit_prune", "schedule": 86_400.0},
    "outbox-prune": {"task": "jianguan.core.tasks.outbox_prune", "schedule": 86_400.0},
    "complaints-sweep-deadlines": {"task": "jianguan.complaints.tasks.sweep_deadlines", "schedule": 900.0},
    "complaints-assist": {"task": "jianguan.complaints.tasks.assist_new_complaints", "schedule": 60.0},
    "datacenter-due-pulls": {"task": "jianguan.datacenter.tasks.run_due_pulls", "schedule": 300.0},
    "datacenter-inboxes": {"task": "jianguan.datacenter.tasks.scan_inboxes", "schedule": 60.0},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("JIANGUAN_LOG_LEVEL", "WARNING")},
}
