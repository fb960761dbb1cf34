"""Hushmetrics settings: everything that differs between machines comes from the environment.

The defaults are the quick start (SQLite file, local-memory cache, plain HTTP, DEBUG off);
production sets DATABASE_URL, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS and the TLS switches.
"""

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from hushmetrics.limits import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_UPLOAD_BYTES

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    if value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """SECRET_KEY from the environment, else the quick start's git-ignored file; never a default."""
    key = env_str("SECRET_KEY")
    if key:
        return key
    key_file = BASE_DIR / ".secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Export SECRET_KEY, or run `make run` / `make test` once to "
        "generate a local key into .secret_key."
    )


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# How a workspace's webhook URL is written in the back office (SPEC §8): this service's
# public address, as site owners' forms reach it.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # Django's admin with rate-limited login attempts (hushmetrics/admin_site.py).
    "hushmetrics.admin_site.HushmetricsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "django_ratelimit",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "workspaces",
    "leads",
    "optin",
    "outbound",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "hushmetrics.middleware.ApiBodyLimitMiddleware",
    # Django's own, for the admin and pages only: API requests skip these three
    # (hushmetrics.middleware.browser_only). CSRF stays whole, for Django's deploy check; DRF's
    # views are exempt, so for an API request it only looks for a cookie.
    "hushmetrics.middleware.BrowserSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "hushmetrics.middleware.BrowserAuthenticationMiddleware",
    "hushmetrics.middleware.BrowserMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hushmetrics.urls"
WSGI_APPLICATION = "hushmetrics.wsgi.application"
# Paths work with and without a trailing slash: the URLconf matches both, never a redirect.
APPEND_SLASH = False

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
_db = dj_database_url.parse(DATABASE_URL)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {
        # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock up front
        # so concurrent writers queue on busy_timeout instead of failing with "locked".
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
elif _db["ENGINE"] == "django.db.backends.postgresql":
    _db["OPTIONS"] = {"connect_timeout": env_int("DB_CONNECT_TIMEOUT", 5)}
    if env_bool("DB_POOL", True):
        # psycopg 3's pool, one per process; `timeout` is how long a request waits for a
        # connection before it gets a 503 (kept well under gunicorn's worker timeout).
        _pool_timeout = env_int("DB_POOL_TIMEOUT", 5)
        _db["OPTIONS"]["pool"] = {
            "min_size": env_int("DB_POOL_MIN_SIZE", 1),
            "max_size": env_int("DB_POOL_MAX_SIZE", 8),
            "timeout": _pool_timeout,
            "max_lifetime": 1800,
            # The pool retries a lost connection with doubling delays (1, 2, 4, 8 s…) for
            # reconnect_timeout (5 min by default): after a long outage its next attempt could
            # come minutes after the database is back. Giving up as soon as the request that
            # asked has had its 503 lets the next request start afresh, so the pool reconnects
            # within about 2 s of the database's return, however long it was down.
            "reconnect_timeout": _pool_timeout,
        }
        _db["CONN_MAX_AGE"] = 0
        # Django gives the pool its health check (check_connection) only with this on.
        # Without it, connections that sat idle through a database restart are handed out
        # dead afterwards, and each costs a request its 503. Our backend makes the first
        # failed check clear out every dead idle connection at once (hushmetrics/postgresql).
        _db["CONN_HEALTH_CHECKS"] = True
        _db["ENGINE"] = "hushmetrics.postgresql"
    else:
        _db["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60)
        _db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}
# A pooled connection used within this many seconds is checked by a look at its socket; one
# idle longer, by a round trip to the server (hushmetrics/postgresql/base.py).
DB_POOL_CHECK_IDLE_SECONDS = env_int("DB_POOL_CHECK_IDLE_SECONDS", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and rate limits ------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    # A cache that is down must cost milliseconds, not a worker timeout.
    _redis_options: dict[str, Any] = {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5}
    CACHES = {
        "default": {
            # django-redis: an increment is one round trip (Django's RedisCache takes two),
            # and rate limiting counts on every public request.
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": _redis_options,
        },
        # django-ratelimit's counters, on the same Redis and the same keys: django-redis with
        # a client that counts in one round trip where django-ratelimit sends two (add, then
        # incr; hushmetrics/ratelimit_cache.py). Every other call is django-redis's own.
        "ratelimit": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                **_redis_options,
                "CLIENT_CLASS": "hushmetrics.ratelimit_cache.CountingClient",
            },
        },
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # The counters stay in the default cache's memory (the same LOCATION is the same store).
    CACHES["ratelimit"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
# Per-process memory for hot, rarely changing rows (workspace flags): no round trip at all.
CACHES["local"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "hushmetrics-local",
}
# How long a worker may answer from a workspace row it read earlier (the flags
# require_api_key and webhook_enabled); an edit reaches every worker within this time.
WORKSPACE_CACHE_SECONDS = env_int("WORKSPACE_CACHE_SECONDS", 5)

RATELIMIT_USE_CACHE = "ratelimit"
# A lead is worth more than a limit: if the cache cannot count, let the request through.
RATELIMIT_FAIL_OPEN = True
RATE_LIMIT_OPTIN = env_str("RATE_LIMIT_OPTIN", "600/m")
RATE_LIMIT_CREATE_LEAD = env_str("RATE_LIMIT_CREATE_LEAD", "600/m")
RATE_LIMIT_WEBHOOK = env_str("RATE_LIMIT_WEBHOOK", "120/m")
RATE_LIMIT_WEBHOOK_WORKSPACE = env_str("RATE_LIMIT_WEBHOOK_WORKSPACE", "1200/m")
RATE_LIMIT_AUTH_FAILURES = env_str("RATE_LIMIT_AUTH_FAILURES", "30/m")
# The lead read and update API (GET/PATCH/DELETE /v1/leads), per API key.
RATE_LIMIT_READ = env_str("RATE_LIMIT_READ", "600/m")
# Admin login POSTs, per client IP and per (username posted, IP) (a 429 page past either).
RATE_LIMIT_ADMIN_LOGIN_IP = env_str("RATE_LIMIT_ADMIN_LOGIN_IP", "10/m")
RATE_LIMIT_ADMIN_LOGIN_USERNAME = env_str("RATE_LIMIT_ADMIN_LOGIN_USERNAME", "5/m")
# How many proxies in front of us append to X-Forwarded-For; 0 means REMOTE_ADDR is the client.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

SILENCED_SYSTEM_CHECKS = []
if not REDIS_URL:
    # The no-Redis quick start serves from one process, so a local-memory counter is exact.
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.E003", "django_ratelimit.W001"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # A covering index's INCLUDE (outbound's delivery_dest_finished) is a PostgreSQL speed-up;
    # SQLite builds the same index on the key columns alone, which is all it needs.
    SILENCED_SYSTEM_CHECKS += ["models.W040"]

# --- Outbound events: Celery engine and webhook delivery (SPEC §9) -------------------------
# The broker only rings the doorbell: the delivery rows are the schedule and the truth.
# Default: REDIS_URL; with neither, kombu's filesystem transport in a folder of the project,
# which needs no server and works across processes (the quick start's web + worker).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
CELERY_BROKER_DIR = Path(env_str("CELERY_BROKER_DIR", str(BASE_DIR / "var" / "celery")))
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.5,
    }
else:
    # A broker that is down must cost the web request milliseconds: the ring is not
    # retried (the sweep rings again), and connecting gives up fast.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2}
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # kombu's Redis transport, minus a crash that made a worker exit when the broker went
    # away while it held unacknowledged messages (hushmetrics/broker.py).
    CELERY_BROKER_TRANSPORT = "hushmetrics.broker:Transport"
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(CELERY_BROKER_DIR / "beat-schedule")
CELERY_TIMEZONE = "UTC"
# Seconds between retries, counted from the end of the failed attempt (±10 % jitter); after
# the last one the delivery has failed. 8 attempts over about a day by default.
OUTBOUND_RETRY_SCHEDULE = [
    int(value) for value in env_list("OUTBOUND_RETRY_SCHEDULE", "5,300,1800,7200,18000,36000,36000")
]
OUTBOUND_TIMEOUT_SECONDS = env_int("OUTBOUND_TIMEOUT_SECONDS", 15)
OUTBOUND_DISABLE_AFTER_DAYS = env_int("OUTBOUND_DISABLE_AFTER_DAYS", 5)
# Lifts the SSRF rules (private addresses, https only): the quick start and the tests.
OUTBOUND_ALLOW_PRIVATE_NETWORKS = env_bool("OUTBOUND_ALLOW_PRIVATE_NETWORKS", False)
# How often the sweep looks for due deliveries, and how long it trusts a sent task message
# before ringing again (a lost message, a flushed broker, a worker killed mid-attempt).
OUTBOUND_SWEEP_SECONDS = float(env_str("OUTBOUND_SWEEP_SECONDS", "2"))
OUTBOUND_RERING_SECONDS = env_int("OUTBOUND_RERING_SECONDS", 60)
OUTBOUND_SWEEP_BATCH = env_int("OUTBOUND_SWEEP_BATCH", 500)
# A web process rings the deliveries its requests commit within this window as one message
# (outbound.tasks.Doorbell); 0 rings each request's at once.
OUTBOUND_RING_WINDOW_SECONDS = float(env_str("OUTBOUND_RING_WINDOW_SECONDS", "0.1"))
# A worker attempts a web process's batch of deliveries in one thread; when the batch runs
# longer than this (a slow receiver), its remaining deliveries are rung for other threads.
OUTBOUND_BATCH_HANDOFF_SECONDS = float(env_str("OUTBOUND_BATCH_HANDOFF_SECONDS", "0.5"))
CELERY_BEAT_SCHEDULE = {
    "outbound-sweep": {"task": "outbound.sweep", "schedule": OUTBOUND_SWEEP_SECONDS},
    "outbound-disable-failing": {"task": "outbound.disable_failing", "schedule": 300.0},
}

# --- Email: email destinations and failure alerts (SPEC §9) ---------------------------------
# Django's own setting names. With no EMAIL_HOST nothing is sent: each message is written as
# a file to EMAIL_FILE_PATH (the quick start; `make run` prints the folder).
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)  # STARTTLS, usually port 587
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)  # TLS from the start, usually port 465
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set EMAIL_USE_TLS or EMAIL_USE_SSL, not both.")
# Seconds for each SMTP operation; a whole message is also cut off at OUTBOUND_TIMEOUT_SECONDS.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", OUTBOUND_TIMEOUT_SECONDS)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Hushmetrics <hushmetrics@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
_email_file_path = Path(env_str("EMAIL_FILE_PATH", "var/mail"))
EMAIL_FILE_PATH = str(
    _email_file_path if _email_file_path.is_absolute() else BASE_DIR / _email_file_path
)
EMAIL_BACKEND = env_str("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.filebased.EmailBackend"
)

# --- Request limits -------------------------------------------------------------------------
# Bodies over this many bytes get a 413 in the surface's JSON envelope; in a multipart body,
# its non-file fields (Django's multipart parser counts them against this setting).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)
# A whole multipart/form-data body, files included: the webhook reads the files as they
# stream and keeps only their names, sizes and types (SPEC A.2).
MAX_UPLOAD_BYTES = max(
    env_int("MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES), DATA_UPLOAD_MAX_MEMORY_SIZE
)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
# The same budget for a JSON body: object members counted across the whole document.
MAX_JSON_FIELDS = env_int("MAX_JSON_FIELDS", 1000)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

# --- Auth, i18n, static ---------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The project's own static files (the visitor pages' stylesheet and copy button).
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- HTTP security (TLS usually ends at a proxy, so the TLS switches are opt-in) -------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# --- CORS: the public endpoints take cross-origin posts from any site, never with cookies ---
CORS_URLS_REGEX = r"^/(v1|api)/.*$"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = [
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "x-api-key",
    "x-requested-with",
    "framer-webhook-submission-id",
]
CORS_EXPOSE_HEADERS = ["Retry-After", "Idempotent-Replayed"]

# --- Django REST framework ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["hushmetrics.renderers.SharedEncoderJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["hushmetrics.parsers.StrictJSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "hushmetrics.errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": False,
    "STRICT_JSON": True,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# --- OpenAPI schema (/v1/schema/) and docs (/v1/docs/), served from local assets ------------
SPECTACULAR_SETTINGS = {
    "TITLE": "Hushmetrics API",
    "DESCRIPTION": (
        "Lead capture: the `/v1` lead API with its universal form webhook, and the partner "
        "opt-in API at `/api/opt-in/submit`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/(v1|api)",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "hushmetrics.openapi.serve_from_this_host",
        "hushmetrics.openapi.public_descriptions",
        "hushmetrics.openapi.strip_trailing_slashes",
        "leads.schema.refine_lead_schema",
        "leads.read_schema.refine_lead_update_schema",
        "hushmetrics.openapi.strict_request_bodies",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ErrorStatusEnum": ["error"],
        "SuccessStatusEnum": ["success"],
        "OkStatusEnum": ["ok"],
        # The serializers list the models' enum values (leads.models, optin.models).
        "LeadStatusEnum": ["contact", "qualified", "proposal", "negotiation", "won", "lost"],
        "LeadSourceEnum": ["website", "referral", "social", "ad", "email", "cold_call", "other"],
        "OptInSourceEnum": [
            "CALENDLY",
            "MANUAL",
            "TYPEFORM",
            "WEBINAR",
            "NEWSLETTER",
            "LANDING_PAGE",
            "OTHER",
        ],
    },
}

# --- Logging: one line per event on stdout, for the platform's log collector ----------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {"disallowed_host_once": {"()": "hushmetrics.logs.DisallowedHostOnce"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "line",
        }
    },
    "root": {"handlers": ["stdout"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Our exception handler logs the failures it turns into JSON; avoid a second copy.
        "django.request": {"level": "ERROR"},
        # A made-up Host header: one warning per host per minute, no traceback.
        "django.security.DisallowedHost": {"filters": ["disallowed_host_once"]},
        # The worker logs one line per delivery attempt (outbound.engine), not Celery's two
        # per task message nor beat's line per sweep every few seconds.
        "celery.app.trace": {"level": "WARNING"},
        "celery.worker.strategy": {"level": "WARNING"},
        "celery.beat": {"level": "WARNING"},
    },
}
