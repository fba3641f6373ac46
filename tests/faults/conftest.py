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


def redis_stop() -> None:
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "shutdown", "nosave"], capture_output=True, timeout=30)


def redis_start(timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if redis_ping():
            return
        subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379", "--save", "",
                        "--appendonly", "no"], capture_output=True, timeout=30)
        time.sleep(0.5)
    raise AssertionError("Redis did not come back")


def redis_ping() -> bool:
    try:
        out = subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True, timeout=5)
    except subprocess.TimeoutExpired:
        return False
    return out.stdout.strip() == b"PONG"
