"""Test profile: PostgreSQL and Redis at 127.0.0.1 unless the environment says otherwise."""
import os

from .base import *  # noqa: F401,F403
from .base import _throttle_rates, database_from_env

DATABASES = {"default": database_from_env(os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"))}
DATABASES["default"]["CONN_MAX_AGE"] = 0
CELERY_BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
# Sweep for unacknowledged messages every 2 s (kombu defaults to ~100 s), so a kill -9'd task is back soon
# after its 30 s visibility timeout.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 30, "unacked_restore_interval": 2,
                                   "unacked_restore_throttle": 1}
CELERY_TASK_ALWAYS_EAGER = False
READ_CACHE = False  # the tests of common.readcache turn it on
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The suite runs without collectstatic: static URLs name the source files (base.py hashes them for serving).
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
# High by default so the suite is not throttled; API_THROTTLE_RATES still applies.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": _throttle_rates({  # noqa: F405
    "anon": "100000/min", "user": "100000/min", "auth": "100000/min", "actions": "100000/min"})}
# A second, SQLite database so tests can prove the embedded profile's exactness too.
DATABASES["sqlite"] = database_from_env(f"sqlite:///{VAR_DIR / 'test-sqlite.db'}")  # noqa: F405
DATABASES["sqlite"]["TEST"] = {"NAME": str(VAR_DIR / "test-sqlite-run.db")}  # noqa: F405
