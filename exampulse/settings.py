"""ExamPulse settings: one module, every value from the environment.

With no variables set the project runs on SQLite and the in-memory channel layer, so a fresh
clone works with no services. Production sets DATABASE_URL, REDIS_URL, SECRET_KEY,
ALLOWED_HOSTS and DEBUG=false; docs/operations.md lists every variable.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent

# `.env` beside manage.py (git ignores it; `.env.example` lists every variable), read by python-dotenv
# before anything below. A variable already set in the environment wins over the file. ENV_FILE names
# another file; ENV_FILE= (empty) reads none.
ENV_FILE = os.environ.get("ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE:
    load_dotenv(ENV_FILE, override=False)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    """Return the variable's value, or the default when it is unset or empty (`NAME=` in `.env`)."""
    value = os.environ.get(name)
    return default if value is None or value.strip() == "" else value


def env_bool(name: str, default: bool) -> bool:
    """Parse a boolean variable; refuse anything that is not clearly true or false."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """Parse an integer variable; refuse non-integers and values under the minimum."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from exc
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """Parse a comma-separated list variable, dropping empty items; unset or empty: the default."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)


def development_secret_key(path: Path) -> str:
    """The development key kept in `path`, made (random, readable by its owner only) on first use.

    A key in the source would be public: anyone could sign their own tokens, even re-sign one they had
    logged out of. So a development server without SECRET_KEY makes its own once and reuses it, and
    every process of the same checkout (daphne, the worker, manage.py, tests) shares it. Several
    processes may start at once: the key is written to a temporary file and linked into place, which
    only one of them wins; the others read the winner's.
    """
    try:
        existing = path.read_text().strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(50) + "\n")
        try:
            os.link(staged, path)
        except FileExistsError:
            pass  # another process won; its key is the one
        finally:
            staged.unlink()
        return path.read_text().strip()
    except OSError as exc:
        raise ImproperlyConfigured(
            f"SECRET_KEY is not set and the development key file {path} cannot be written ({exc}). "
            "Set SECRET_KEY, or SECRET_KEY_FILE to a writable path."
        ) from exc


# Production must set the key. Development generates its own on first run (never a key from the
# source code) into SECRET_KEY_FILE, under var/, which git ignores.
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off it is required: "
            'generate one with `python -c "import secrets; print(secrets.token_urlsafe(50))"`.'
        )
    SECRET_KEY = development_secret_key(Path(env_str("SECRET_KEY_FILE") or BASE_DIR / "var" / "secret_key"))

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is not set. With DEBUG off it is required: a comma-separated list "
        "of the host names the server answers to, e.g. exams.example.org."
    )

INSTALLED_APPS = [
    # daphne first so `runserver` serves ASGI (HTTP and WebSocket) in development.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    # Swagger UI's files, served by ExamPulse itself: /api/docs/ works offline and loads nothing from a CDN.
    "drf_spectacular_sidecar",
    # The Content-Security-Policy header (exampulse.platform.middleware.ContentSecurityPolicyMiddleware).
    "csp",
    "corsheaders",
    "channels",
    # Counts failed logins per account and per address (accounts.throttling).
    "axes",
    # The tasks framework's backport (Django 6's django.tasks) and its database backend: the
    # notifications' worker (`manage.py db_worker`) runs webhook deliveries and alert emails.
    "django_tasks",
    "django_tasks_db",
    "accounts",
    "exams",
    "scoring",
    "monitoring",
    # The demo's seed commands, pages, templates and static files (its pages 404 unless EXAMPULSE_DEMO).
    "monitoring.demo",
    # LTI 1.3 Advantage: django-lti's protocol models (registrations, deployments, tool keys) and
    # ExamPulse's side of it (launch, roster sync, grade passback). Only this wiring imports `lti`.
    "lti_tool",
    "lti",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Every response carries the Content-Security-Policy below.
    "exampulse.platform.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # Inside CORS (so its headers reach the errors), outside everything that may answer in HTML.
    "exampulse.platform.middleware.ApiErrorEnvelopeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as axes asks: turns a lockout flagged during the admin's login into a 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "exampulse.urls"
ASGI_APPLICATION = "exampulse.asgi.application"
WSGI_APPLICATION = None

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

# SQLite by default so a fresh clone needs no services; PostgreSQL via DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        # Under ASGI each request runs in a thread of its own, so persistent per-thread connections
        # pile up until the server refuses clients (Django's docs: disable them under ASGI).
        # PostgreSQL gets psycopg's connection pool instead (below).
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the socket consumer write while the admin reads; the timeout rides out short writer
    # overlaps. IMMEDIATE takes the write lock at BEGIN: a deferred transaction that read first and
    # then writes fails at once with "database is locked" when another writer got in between.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DB_POOL", True):
    # One pool per server process; size it so processes x DB_POOL_MAX_SIZE stays under the
    # server's max_connections (or PgBouncer's pool).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A health check costs a round trip on every checkout, i.e. every socket hop. The pool drops
    # connections that broke while in use, so after a database restart one request per stale
    # connection fails and the next one is fresh.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env_bool("DB_POOL_CHECK", False)
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DB_POOL_MIN_SIZE", 1, minimum=0),
        "max_size": env_int("DB_POOL_MAX_SIZE", 10, minimum=1),
        # How long a request waits for a free connection (and, with the database down, for an error).
        "timeout": env_int("DB_POOL_TIMEOUT", 5, minimum=1),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters travel apart from the SQL instead of being quoted into it in Python, and psycopg
    # prepares statements a pooled connection runs repeatedly: the socket hot path measured
    # cheaper per query (docs/benchmarks.md).
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = env_bool("DB_SERVER_SIDE_BINDING", True)

# Lets parallel test runs on one PostgreSQL server use separate test databases.
if env_str("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# Axes first: it refuses a locked-out account or address before any password is hashed. The
# standalone backend only checks the lockout; ModelBackend does the authenticating.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Argon2 is the strongest hasher Django ships; older hashes still verify and are upgraded.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("PASSWORD_MIN_LENGTH", 8, minimum=6)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# collectstatic writes here and whitenoise serves from here when DEBUG is off.
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Channels: in-memory for a laptop, Redis when several processes must share groups.
REDIS_URL = env_str("REDIS_URL")
# Pub/sub channels are global to a Redis server (a database number does not separate them), so
# deployments (or parallel test runs) sharing one Redis need their own prefix for groups and keys.
REDIS_KEY_PREFIX = env_str("REDIS_KEY_PREFIX", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # The pub/sub layer delivered every message in our measurements and has none of
            # the core layer's per-process capacity drops (docs/design.md, Configuration).
            "BACKEND": "exampulse.platform.channel_layer.ResilientRedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": f"{REDIS_KEY_PREFIX}asgi"},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # SimpleJWT's checks plus the logout denylist of access tokens.
        "accounts.authentication.RevocableJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["exampulse.platform.api.EnvelopeJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["exampulse.platform.api.StrictJSONParser"],
    "EXCEPTION_HANDLER": "exampulse.platform.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "exampulse.platform.api.EnvelopePagination",
    "PAGE_SIZE": env_int("API_PAGE_SIZE", 50, minimum=1),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Logins are not throttled by count at all (a lab logs in hundreds a minute from one NAT);
    # failed logins are limited by axes below.
    "DEFAULT_THROTTLE_RATES": {
        # Per address: high enough for a class of 300 registering from one lab within the hour,
        # low enough to bound scripted sign-ups.
        "register": env_str("REGISTER_THROTTLE_RATE", "500/hour"),
        # Per user: guessing the current password through change-password.
        "change_password": env_str("CHANGE_PASSWORD_THROTTLE_RATE", "10/hour"),
        # Password reset requests per address (a lab's NAT: room for a class that forgot) and per
        # email address (no mailbox is flooded, whoever asks), and link confirmations per address.
        "password_reset": env_str("PASSWORD_RESET_THROTTLE_RATE", "100/hour"),
        "password_reset_email": env_str("PASSWORD_RESET_EMAIL_THROTTLE_RATE", "5/hour"),
        "password_reset_confirm": env_str("PASSWORD_RESET_CONFIRM_THROTTLE_RATE", "100/hour"),
    },
    # How many proxies in front of the app append to X-Forwarded-For. 0: the address is
    # REMOTE_ADDR and the header is ignored (DRF's default, None, would trust a forged header).
    # Axes uses the same rule (accounts.throttling.client_ip).
    "NUM_PROXIES": env_int("TRUSTED_PROXY_COUNT", 0, minimum=0),
}

# Email: the console backend prints messages (development); set EMAIL_BACKEND to
# django.core.mail.backends.smtp.EmailBackend and the EMAIL_HOST_* values to send for real.
# `import_roster` emails new accounts' links unless the backend is the console or dummy one.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ExamPulse <no-reply@localhost>")
# Notifications (monitoring.notify). Tasks live in the database, so any process may enqueue and
# one `manage.py db_worker` (started by `make run`) sends them; no broker to run.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# A webhook POST's bound, per connect and per read: the worker, never a request, waits on it.
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5, minimum=1)
# Seconds before each retry of a failed webhook or alert email; past the last, the row gives up.
# The default retries within 10 s and keeps trying for about 1 h 43 min.
_schedule = env_list("NOTIFY_RETRY_SCHEDULE", ["10", "30", "120", "600", "1800", "3600"])
if not all(item.isdigit() and int(item) >= 1 for item in _schedule):
    raise ImproperlyConfigured(f"NOTIFY_RETRY_SCHEDULE must be positive whole seconds, e.g. 10,30,120, not {_schedule}")
NOTIFY_RETRY_SCHEDULE = [int(item) for item in _schedule]
# Who hears of a high-risk alert in an exam with no course (a course's staff hear of their own).
# Empty: nobody, since a course-less exam has no staff of record.
ALERT_EMAIL_FALLBACK = env_list("ALERT_EMAIL_FALLBACK", [])

# Where people reach this ExamPulse (scheme, host and port, no trailing slash): the base of every
# absolute link in a message read outside the site (alert emails link to the session's review page;
# set-password links in emails and in import_roster's output). The default is `make run`'s address;
# `make run PORT=...` passes its own.
PUBLIC_URL = (env_str("PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/")
if not PUBLIC_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"PUBLIC_URL must be an http:// or https:// address, not {PUBLIC_URL!r}")

# Where set-password and reset links point; `?uid=...&token=...` is appended. Unset: PUBLIC_URL/reset,
# this server's own page (accounts.pages), which sets the password through the same service as
# POST /api/auth/password-reset/confirm. Set it when your own front end has such a page.
PASSWORD_RESET_URL = env_str("PASSWORD_RESET_URL") or ""
# Django's token generator: how long a reset or set-password link lives (3 days: roster invitations).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3 * 24 * 3600, minimum=300)

# Failed-login lockout (django-axes; accounts.throttling explains the two budgets). Attempts live
# in the database, so every server process sees the same counts.
AXES_HANDLER = "accounts.throttling.LoginFailureHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Failures on one account, from any address, within the cool-off window.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 10, minimum=1)
# Failures from one address, over any accounts, within the window: room for a lab's typos.
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 100, minimum=1)
# Failures count for this long; a lockout lifts when its failures age out.
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
# Attempts refused during a lockout do not extend it, so a locked lab gets back in on time.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_CALLABLE = "accounts.throttling.login_username"
AXES_CLIENT_IP_CALLABLE = "accounts.throttling.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.throttling.lockout_response"
# No row per successful login: hundreds a minute on exam day, and nothing reads them.
AXES_DISABLE_ACCESS_LOG = True
AXES_HTTP_RESPONSE_CODE = 429
# Axes prints a banner on every start (each manage.py command); its lockouts are logged anyway.
AXES_VERBOSE = False

SIMPLE_JWT = {
    # The spec's 7-day access token; shorten it in production with a refresh flow.
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env_int("JWT_ACCESS_TTL", 7 * 24 * 3600, minimum=60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env_int("JWT_REFRESH_TTL", 30 * 24 * 3600, minimum=60)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    # Tokens carry a hash of the password hash: a password change invalidates every access token too.
    "CHECK_REVOKE_TOKEN": True,
    "SIGNING_KEY": SECRET_KEY,
}

SPECTACULAR_SETTINGS = {
    # Swagger UI from drf-spectacular-sidecar's static files, not a CDN: the docs work offline and
    # under the Content-Security-Policy; no online validator badge either.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "TITLE": "ExamPulse API",
    "DESCRIPTION": "Online-exam proctoring: auth, exams, sessions, baselines and live monitoring.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The renderer wraps every body; the schema must say so, or clients (and schemathesis) read a lie.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "exampulse.platform.api.envelope_schema_hook",
    ],
    # Several models share choice sets (low/medium/high) or field names (status); name them once.
    "ENUM_NAME_OVERRIDES": {
        "RiskLevelEnum": "exams.models.RiskLevel",
        "ExamStatusEnum": "exams.models.ExamStatus",
        "SessionStatusEnum": "exams.models.SessionStatus",
        "ReviewStatusEnum": "exams.models.ReviewStatus",
        # A second review overturns to a verdict other than pending.
        "OverturnStatusEnum": ["clean", "suspicious", "violation"],
        "BaselineStatusEnum": ["missing", "collecting", "ready", "reset"],
    },
}

# Content-Security-Policy (django-csp) on every page: the admin, the dashboard, the demo, the API
# docs. Every script, style, image and font is ExamPulse's own static file (no inline code, no CDN),
# so an injected <script> or on* handler does not run; data: images are Swagger UI's and the admin's
# icons; sockets and fetches go to this origin only (the middleware adds the page's ws(s) origin).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Throttle counters need a cache shared by every process in production; the local-memory
# default is right for one process.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if REDIS_URL:
    CACHES = {
        "default": {
            # Degrades to "no throttling" while Redis is down instead of failing every login.
            "BACKEND": "exampulse.platform.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
            # A hung Redis must not hold a request for redis-py's default 5 s.
            "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
        }
    }

# Production hardening, applied whenever DEBUG is off so `check --deploy` is clean.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

LOGIN_URL = "/admin/login/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Limits the WebSocket and batch endpoints enforce (used by monitoring).
EXAMPULSE = {
    "WS_MAX_FRAME_BYTES": env_int("WS_MAX_FRAME_BYTES", 64 * 1024, minimum=1024),
    "WS_RATE_PER_SEC": env_int("WS_RATE_PER_SEC", 20, minimum=1),
    "WS_RATE_BURST": env_int("WS_RATE_BURST", 50, minimum=1),
    "EVENT_BATCH_MAX": env_int("EVENT_BATCH_MAX", 500, minimum=1),
    # Live pushes never hold up an ack: each channel-layer call is bounded, and after a failure
    # the layer is skipped for the back-off (monitoring/broadcast.py).
    "BROADCAST_TIMEOUT_MS": env_int("BROADCAST_TIMEOUT_MS", 500, minimum=10),
    "BROADCAST_BACKOFF_MS": env_int("BROADCAST_BACKOFF_MS", 3000, minimum=0),
    # Threads that run the sockets' database hops. SQLite allows one writer at a time, so more
    # threads only queue on its lock; PostgreSQL overlaps their round trips. Keep it below
    # DB_POOL_MAX_SIZE so HTTP requests still get connections.
    "WS_DB_THREADS": env_int(
        "WS_DB_THREADS", 4 if DATABASES["default"]["ENGINE"].endswith("postgresql") else 1, minimum=1
    ),
    # Socket events, student joins and socket closes reach the database in batches: whatever
    # arrived while the previous batch was in the database, up to WS_BATCH_MAX, in one hop
    # (exampulse.platform.db.HopBatcher), by up to WS_BATCH_WORKERS hops of a kind at a time. One worker
    # measured best: its batches grow with the load, where two split them and contend for the GIL.
    "WS_BATCH_MAX": env_int("WS_BATCH_MAX", 100, minimum=1),
    "WS_BATCH_WORKERS": env_int("WS_BATCH_WORKERS", 1, minimum=1),
    # Handshakes, joins and closes arriving in a flood (an exam's start or end) wait up to this long
    # for each other, so they share a batch's queries (benchmarks/join_bench.py: a join costs 6 ms
    # of CPU alone and about 1 ms in a batch of ten). A lone join never waits. 0 turns it off.
    "WS_JOIN_LINGER_MS": env_int("WS_JOIN_LINGER_MS", 40, minimum=0),
    # Each server process keeps a snapshot of up to this many sessions it ingests for, so an
    # event needs no locking read of the session (monitoring/ingest/snapshots.py). 0 turns it off.
    "SESSION_SNAPSHOTS": env_int("SESSION_SNAPSHOTS", 20000, minimum=0),
    # The population model scores a live session every this many scored events (and its first);
    # in between its last opinion stands. It never changes the risk, only the review's context.
    "POPULATION_SCORE_EVERY": env_int("POPULATION_SCORE_EVERY", 10, minimum=1),
    # Self-reported baseline samples (POST /api/baselines) a student may add per rolling 24 hours:
    # enough to calibrate by hand, too few to drag the baseline towards a cheat. 0: calibration only.
    "BASELINE_SAMPLES_PER_DAY": env_int("BASELINE_SAMPLES_PER_DAY", 10, minimum=0),
    "DEMO": env_bool("EXAMPULSE_DEMO", False),
    "MODEL_DIR": env_str("MODEL_DIR", str(BASE_DIR / "var" / "models")),
}
