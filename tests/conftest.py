"""Real services for the suite: PostgreSQL and Redis at 127.0.0.1 (DESIGN.md section 7).

Locally a missing service skips what needs it, with the reason; under CI=true it fails the run."""
import os
import socket

import pytest


def service_up(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, port: int) -> None:
    if service_up("127.0.0.1", port):
        return
    message = f"{name} is not reachable at 127.0.0.1:{port}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: a missing service fails the run)", pytrace=False)
    pytest.skip(message)


def pytest_collection_modifyitems(config, items):
    pg = service_up("127.0.0.1", 5432)
    if not pg:
        reason = "PostgreSQL is not reachable at 127.0.0.1:5432"
        if os.environ.get("CI") == "true":
            raise pytest.UsageError(f"{reason} (CI=true: a missing service fails the run)")
        for item in items:
            if "django_db" in item.keywords or "db" in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session", autouse=True)
def empty_test_broker():
    """The suite's own Redis broker database starts empty: a run killed mid-way leaves unacknowledged messages that
    Redis restores to the queues later, and a worker of this run would spend its time on them (seen: a fault test's
    only worker busy past its 60 s wait)."""
    from django.conf import settings

    url = settings.CELERY_BROKER_URL
    if url.startswith("redis://") and service_up("127.0.0.1", 6379):
        import redis

        redis.Redis.from_url(url, socket_timeout=5).flushdb()


@pytest.fixture
def read_cache(settings, monkeypatch):
    """Production's read cache (common.readcache) on a cache of this process, empty, with no rows memoised."""
    from common import readcache

    settings.READ_CACHE = True
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "read-cache-tests"}}
    readcache.cache.clear()
    monkeypatch.setattr(readcache, "_local", {})


@pytest.fixture
def redis_up():
    require_service("Redis", 6379)


def reset_broker_connections():
    """Forget this process's pooled broker connections (after Redis restarts they are dead)."""
    from kombu import pools

    from config.celery_app import app

    pools.reset()  # closes and forgets every pooled connection and producer
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def worker_process(transactional_db, redis_up):
    """A real Celery worker process on Redis, pointed at this test's (committed) database."""
    import subprocess
    import sys
    import time

    import redis
    from django.db import connection

    from config.celery_app import app

    def reset_broker():
        # a dedicated Redis db: drop every queue (purge() only knows declared queues), and stale connections
        reset_broker_connections()
        redis.Redis.from_url(app.conf.broker_url).flushdb()

    reset_broker()
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        TEST_DATABASE_URL=f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
                          f"{db['NAME']}",
        TEST_CELERY_BROKER_URL=app.conf.broker_url,
    )
    procs = []

    def start(name="w1", queues="default,liquidations,prices,accrual,simulations", concurrency=1):
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "WARNING", "-P", "prefork",
             "--concurrency", str(concurrency), "-Q", queues, "-n", f"{name}@%h", "--without-gossip",
             "--without-mingle", "--without-heartbeat"],
            env=env, cwd=str(__import__("pathlib").Path(__file__).resolve().parent.parent), start_new_session=True,
        )
        procs.append(proc)
        deadline = time.time() + 30
        while time.time() < deadline:
            if app.control.ping(destination=[f"{name}@{__import__('socket').gethostname()}"], timeout=0.5):
                return proc
        return proc

    yield start
    import signal as _signal

    for proc in procs:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, _signal.SIGTERM)
            except ProcessLookupError:
                pass
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except Exception:  # noqa: BLE001
            proc.kill()
    reset_broker()
