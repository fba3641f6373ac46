"""Production profile: reads SECRET_KEY, DATABASE_URL, REDIS_URL, CELERY_BROKER_URL, ALLOWED_HOSTS and the
opt-in DJANGO_ALLOW_INSECURE_LOOPBACK."""
import os

from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from .base import *  # noqa: F401,F403
from .base import CELERY_TASK_DEFAULT_QUEUE, CELERY_TASK_ROUTES, broker_transport_options, database_from_env


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"The production profile needs the {name} environment variable; it is not set.")
    return value


DEBUG = False
SECRET_KEY = _required("SECRET_KEY")
ALLOWED_HOSTS = [h.strip() for h in _required("ALLOWED_HOSTS").split(",") if h.strip()]
if "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS=* accepts any Host header; list the real host names instead.")
DATABASES = {"default": database_from_env(_required("DATABASE_URL"))}
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
# Redis (redis://) or RabbitMQ (amqp://guest:guest@host:5672//); the README says which keeps tasks safer.
CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(CELERY_BROKER_URL)
# Every queue declared durable up front (RabbitMQ keeps them and their persistent messages across a restart).
CELERY_TASK_QUEUES = [Queue(name, Exchange(name), routing_key=name, durable=True) for name in
                      sorted({route["queue"] for route in CELERY_TASK_ROUTES.values()} | {CELERY_TASK_DEFAULT_QUEUE})]
# JSON log lines (request and task ids, secrets scrubbed) and one access line a request, unless told otherwise.
LOGGING["handlers"]["stderr"]["formatter"] = "plain" if os.environ.get("LOG_FORMAT") == "plain" else "json"  # noqa: F405
LOG_REQUESTS = os.environ.get("LOG_REQUESTS", "1") == "1"
CACHES = {"default": {"BACKEND": "common.cache.RedisCache", "LOCATION": REDIS_URL}}
READ_CACHE = os.environ.get("READ_CACHE", "1") == "1"  # common.readcache: shared by every process through Redis
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = True
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load-balancer probes on the private network speak plain HTTP
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 365 * 24 * 3600
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# A load run on loopback without TLS may opt out of the redirect and secure cookies, never by default and
# only when every allowed host is a loopback name.
if os.environ.get("DJANGO_ALLOW_INSECURE_LOOPBACK") == "1":
    if not set(ALLOWED_HOSTS) <= {"127.0.0.1", "localhost", "[::1]"}:
        raise ImproperlyConfigured("DJANGO_ALLOW_INSECURE_LOOPBACK=1 needs ALLOWED_HOSTS limited to loopback.")
    SECURE_SSL_REDIRECT = SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
    # the operator asked for exactly these three relaxations; `check --deploy` still reports everything else
    SILENCED_SYSTEM_CHECKS = ["security.W008", "security.W012", "security.W016"]
SECURE_CONTENT_TYPE_NOSNIFF = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
