"""Tools for the fault tests: a row lock held from outside the workers (so a worker is provably mid-batch when
the fault strikes), and a real `celery beat` on the database scheduler beside the worker."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from config.celery_app import app

ROOT = Path(__file__).resolve().parent.parent.parent


def worker_database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class RowLock:
    """Hold `SELECT ... FOR UPDATE` on one account from a connection of our own, until released."""

    def __init__(self, account_id: int):
        self.conn = psycopg.connect(worker_database_url())
        self.conn.execute("SELECT id FROM lending_account WHERE id = %s FOR UPDATE", [account_id])

    def waiters(self) -> int:
        """Backends of the test database blocked on a lock (a worker stuck behind us, mid-transaction)."""
        with psycopg.connect(worker_database_url(), autocommit=True) as probe:
            return probe.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND wait_event_type = 'Lock'").fetchone()[0]

    def release(self) -> None:
        if not self.conn.closed:
            self.conn.rollback()
            self.conn.close()


@pytest.fixture
def row_lock():
    locks = []

    def take(account_id: int) -> RowLock:
        locks.append(RowLock(account_id))
        return locks[-1]

    yield take
    for lock in locks:
        lock.release()


@pytest.fixture
def beat_process(worker_process, tmp_path):
    """A real beat with django-celery-beat's database scheduler on the test database."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.test", TEST_DATABASE_URL=worker_database_url(),
               TEST_CELERY_BROKER_URL=app.conf.broker_url)
    procs = []

    def start():
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "WARNING", "-S",
             "django_celery_beat.schedulers:DatabaseScheduler", "--pidfile=", "-s", str(tmp_path / "beat-schedule")],
            env=env, cwd=str(ROOT), start_new_session=True))
        return procs[-1]

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


# --- private PostgreSQL and Redis (tests/faults/private.py): restarted by the tests, never the shared ones ---

@pytest.fixture(scope="session")
def private_services(django_db_setup, django_db_blocker):
    from tests.faults import private

    reason = private.available()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: a missing service fails the run)", pytrace=False)
        pytest.skip(reason)
    pg = private.PrivatePostgres()
    redis_server = private.PrivateRedis()
    try:
        pg.start()
        with django_db_blocker.unblock():
            pg.load_template(worker_database_url())  # the suite's migrated test database, system accounts included
        redis_server.start()
        yield pg, redis_server
    finally:
        redis_server.stop()
        pg.destroy()


class PrivateStack:
    """This test's app on the private services: the test process's ORM and broker point at them, and workers
    and beat run as real processes against them."""

    def __init__(self, pg, redis_server, tmp_path):
        self.pg, self.redis, self.tmp_path, self.procs = pg, redis_server, tmp_path, []
        self.database_url = pg.url("app")

    def env(self) -> dict:
        return dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.test", TEST_DATABASE_URL=self.database_url,
                    TEST_CELERY_BROKER_URL=self.redis.url)

    def start_worker(self, name="pw", queues="default,liquidations,prices,accrual,simulations", concurrency=1,
                     wait=True):
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "WARNING", "-P", "prefork",
             "--concurrency", str(concurrency), "-Q", queues, "-n", f"{name}@%h", "--without-gossip",
             "--without-mingle", "--without-heartbeat"], env=self.env(), cwd=str(ROOT), start_new_session=True)
        self.procs.append(proc)
        deadline = time.time() + 40
        while wait and time.time() < deadline:
            if app.control.ping(destination=[f"{name}@{__import__('socket').gethostname()}"], timeout=0.5):
                break
        return proc

    def start_beat(self):
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "WARNING", "-S",
             "django_celery_beat.schedulers:DatabaseScheduler", "--pidfile=", "-s",
             str(self.tmp_path / f"beat-schedule-{len(self.procs)}")],
            env=self.env(), cwd=str(ROOT), start_new_session=True)
        self.procs.append(proc)
        return proc

    def kill(self, proc, sig=signal.SIGKILL) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
        proc.wait(timeout=20)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


@pytest.fixture
def private_stack(private_services, transactional_db, tmp_path):
    """A fresh copy of the migrated database on the private PostgreSQL, an empty private Redis as the broker."""
    from django.db import connection

    from tests.conftest import reset_broker_connections

    pg, redis_server = private_services
    if redis_server.proc is None or redis_server.proc.poll() is not None:
        redis_server.start()
    try:
        pg.sql("SELECT 1")
    except psycopg.OperationalError:
        pg.start()  # an earlier test left it stopped
    pg.fresh_database()
    stack = PrivateStack(pg, redis_server, tmp_path)
    connection.close()
    saved = {key: connection.settings_dict[key] for key in ("HOST", "PORT", "NAME")}
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(pg.port), NAME="app")
    saved_broker = app.conf.broker_url
    app.conf.broker_url = redis_server.url
    reset_broker_connections()
    try:
        yield stack
    finally:
        stack.stop_all()
        connection.close()
        connection.settings_dict.update(saved)
        app.conf.broker_url = saved_broker
        reset_broker_connections()
