"""Settings shared by every profile. Environment variables are documented in API.md."""
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret-change-me-in-production-0123456789")
# Debug pages show source, settings and every route: only on request (DJANGO_DEBUG=1), never by default.
DEBUG = os.environ.get("DJANGO_DEBUG", "0") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "axes",
    "common",
    "markets",
    "oracles",
    "risklab",
    "lending",
    "frontend",
    "config",
]

MIDDLEWARE = [
    "common.middleware.RequestObservabilityMiddleware",  # first: request id, /metrics counts, access log
    "django.middleware.security.SecurityMiddleware",
    "common.middleware.RejectMalformedRequestMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "common.middleware.CSPMiddleware",  # django-csp's, the settings' policy built once
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "common.middleware.MessageMiddleware",  # Django's, its storage made on first use
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a flagged login into the lockout answer
]

ROOT_URLCONF = "config.urls"
CSRF_FAILURE_VIEW = "common.views.csrf_failure"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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


PREPARE_THRESHOLD = 5


def database_from_env(url: str | None) -> dict:
    """PostgreSQL or SQLite from DATABASE_URL; SQLite gets WAL, a busy timeout and IMMEDIATE transactions
    so web, worker and beat can write at once without 'database is locked'."""
    url = (url or "").strip() or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
    db = dj_database_url.parse(url, conn_max_age=0)
    if db["ENGINE"] == "django.db.backends.sqlite3":
        db["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
        }
    else:
        db["CONN_MAX_AGE"] = 60
        db["CONN_HEALTH_CHECKS"] = True
        # Parameters bound by the server, and a statement prepared on its fifth run in a connection (psycopg's
        # threshold): PostgreSQL stops parsing and planning the hot statements anew, about 40% of its CPU per request
        # of the load mix (README, Load). Behind a pooler that cannot carry prepared statements (PgBouncer in
        # transaction mode before 1.21), DATABASE_PREPARED_STATEMENTS=0 turns the preparing off.
        prepare = os.environ.get("DATABASE_PREPARED_STATEMENTS", "1") != "0"
        db["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": PREPARE_THRESHOLD if prepare else None}
    return db


DATABASES = {"default": database_from_env(os.environ.get("DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out (username, address) before any check
    "django.contrib.auth.backends.ModelBackend",
]

# The client address is REMOTE_ADDR unless this many trusted reverse proxies sit in front; then it is the
# X-Forwarded-For hop the outermost of them appended. Never trust the header blindly (common.api.throttling).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# Throttle counters shared by every web process: Redis when configured, else the database
# (`manage.py createcachetable`; the test database gets the table from Django's test setup).
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {"default": {"BACKEND": "common.cache.RedisCache", "LOCATION": REDIS_URL}
          if REDIS_URL else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "django_cache"}}
# Reads served through that cache, exact to the last committed write (common.readcache): the price reads, the
# token's user, the oracle rows and pool engine of the display reads. On where the cache is Redis (production),
# off on the database cache, where a read would cost about what it saves.
READ_CACHE = os.environ.get("READ_CACHE", "1" if REDIS_URL else "0") == "1"

# Login lockout (django-axes): failures counted per (username, client address) in the database, so a victim
# logging in from their own address is never locked out by an attacker elsewhere; the per-address "auth"
# throttle stops one address from trying many usernames.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "common.api.throttling.client_ip"
AXES_LOCKOUT_CALLABLE = "common.api.lockout.lockout_response"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
# Hashed, compressed copies made by collectstatic (`make run` runs it first), which WhiteNoise serves gzip/brotli
# with a one-year cache; a debug run reads the source files as they are.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG
                    else "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
try:  # WhiteNoise warns on every request until collectstatic has made it
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
except OSError:  # a read-only deployment: collectstatic made it at build time
    pass


def vendor_staticfiles_dirs(base_dir: Path, static_root: Path) -> list[tuple[str, Path]]:
    """Front-end packages come from npm through `make install` (package-lock.json); nothing from a CDN.
    Without them every page would load without htmx or charts, so a missing one stops the start; an image
    that ran collectstatic at build time has them in STATIC_ROOT and needs no node_modules."""
    vendor = [
        ("vendor/htmx", base_dir / "node_modules" / "htmx.org" / "dist"),
        ("vendor/uplot", base_dir / "node_modules" / "uplot" / "dist"),
    ]
    missing = [str(path) for prefix, path in vendor if not path.is_dir() and not (static_root / prefix).is_dir()]
    if missing:
        raise ImproperlyConfigured(f"Front-end packages are missing ({', '.join(missing)}): run `make install` "
                                   "(or `npm ci`, which needs Node.js and npm).")
    return [(prefix, path) for prefix, path in vendor if path.is_dir()]


STATICFILES_DIRS = vendor_staticfiles_dirs(BASE_DIR, STATIC_ROOT)
# No inline script or style anywhere (templates, htmx, uPlot, admin, API docs): scripts and CSS come from
# our own static files, so an injected <script> or on* handler does not run.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "object-src": ["'none'"],
    },
}
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# --- Celery (cookiecutter-django style: JSON only, time limits, database beat scheduler) ---
def broker_transport_options(url: str) -> dict:
    """Redis: a kill -9'd (unacknowledged) task comes back after the visibility timeout, so keep it above any
    task's hard limit (CELERY_TASK_TIME_LIMIT). RabbitMQ (amqp://): an unacknowledged message is redelivered as
    soon as its consumer's connection drops, and publisher confirms make a publish wait until the broker has
    the message (durable queues, persistent messages: it survives a broker restart)."""
    if url.startswith(("amqp://", "amqps://", "pyamqp://")):
        return {"confirm_publish": True}
    return {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))}


CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "filesystem://"
_BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "queue"),
        "data_folder_out": str(_BROKER_DIR / "queue"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        "control_folder": str(_BROKER_DIR / "control"),  # kombu's default is ./control in the cwd
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(CELERY_BROKER_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 180
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_DEFAULT_DELIVERY_MODE = "persistent"  # AMQP: written to disk in a durable queue
CELERY_TASK_ROUTES = {
    "lending.liquidate_*": {"queue": "liquidations"},
    "lending.scan_*": {"queue": "liquidations"},
    "lending.accrue_*": {"queue": "accrual"},
    "common.*": {"queue": "default"},
    "oracles.*": {"queue": "prices"},
    "simulations.*": {"queue": "simulations"},
    "risklab.*": {"queue": "simulations"},
}

# --- DRF / OpenAPI ---
def _throttle_rates(defaults: dict | None = None) -> dict:
    rates = dict(defaults or {"anon": "120/min", "user": "1200/min", "auth": "30/min", "actions": "600/min"})
    for part in os.environ.get("API_THROTTLE_RATES", "").split(","):
        if "=" in part:
            scope, rate = part.split("=", 1)
            rates[scope.strip()] = rate.strip()
    return rates


REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "common.api.authentication.TokenAuthentication",  # the token's user through the read cache
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "common.api.pagination.DefaultPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "common.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "common.api.throttling.AnonRateThrottle",
        "common.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": _throttle_rates(),
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,  # DRF's None would trust any X-Forwarded-For
    "DEFAULT_PARSER_CLASSES": ["common.api.parsers.BoundedJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "common.api.negotiation.ContentNegotiation",  # DRF's, answers remembered
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tokenized-stock lending simulator API",
    "DESCRIPTION": "Aave v3.3 math on tokenized US stocks, with a market-hours-aware oracle.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # one name per choice set that several serializers share
    "ENUM_NAME_OVERRIDES": {"LiquidationEngineEnum": "core.aave.engines.ENGINES",
                            "ClosedMarketPolicyEnum": "core.simulation.paths.POLICIES"},
}

# --- Product defaults ---
FAUCET_DAILY_LIMITS = {"stablecoin": 100_000, "default": 1_000}  # whole tokens per user per day

# LOG_FORMAT=json: one JSON object a line with the request and task ids, secrets scrubbed (common/logs.py);
# production's default. LOG_REQUESTS=1 adds one access line a request (production's default).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "common.logs.ContextFilter"}},
    "formatters": {"json": {"()": "common.logs.JsonFormatter"}, "plain": {"()": "common.logs.PlainFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "filters": ["context"],
                            "formatter": "json" if os.environ.get("LOG_FORMAT", "plain") == "json" else "plain"}},
    "root": {"handlers": ["stderr"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
LOG_REQUESTS = os.environ.get("LOG_REQUESTS", "0") == "1"
# GET /metrics: staff, or a scraper sending `Authorization: Bearer <METRICS_TOKEN>` (unset: staff only).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
UNPAUSE_GRACE_SECONDS = int(os.environ.get("UNPAUSE_GRACE_SECONDS", "1800"))
# Publishing must fail fast when the broker is down (the beat scan catches up), never hang a request.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
