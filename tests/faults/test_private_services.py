"""Faults on private PostgreSQL and Redis instances the tests start and restart themselves (tests/faults/private.py):
PostgreSQL restarted while liquidations run, Redis restarted while they run, beat killed and brought back.

Each time the app keeps answering (reads, or a clear 503 while the database itself is gone), refuses what it
must, resumes on its own (the beat's safety-net scan finds what a lost task would have done), and loses nothing:
every underwater account liquidated exactly once, the books balanced."""
import time

import pytest
from django.core.management import call_command
from django.db import close_old_connections
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from common.metrics import queue_depths
from common.models import Heartbeat
from tests.conftest import reset_broker_connections
from tests.factories import api_client, ledger_mismatches, make_user, set_price
from tests.faults.test_liquidation_workers import assert_each_liquidated_once, liquidated, population, still_underwater
from tests.test_worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.fault]


def scan_every_second() -> None:
    """The beat's safety-net scan every second (an admin's tuning), so recovery is quick to see."""
    call_command("setup_schedules", "--json")
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(task="lending.scan_accounts").update(interval=every_second)


def test_postgres_restart_during_liquidations(private_stack):
    under, safe = population(underwater=16, healthy=4)
    targets = {a.pk for a in under}
    scan_every_second()
    staff = make_user(staff=True)
    private_stack.start_worker(concurrency=2)
    private_stack.start_beat()
    client, admin = api_client(), api_client(staff)
    r = admin.post("/api/v1/admin/oracle/TSLAx/price/", {"price": "190", "reason": "drill"}, format="json")
    assert r.status_code in (200, 201, 202)
    private_stack.pg.stop("fast")  # mid-run: the scan and keeper chunks in flight lose their connections
    try:
        down = client.get("/api/v1/markets/")
        assert down.status_code == 503 and down.json()["error"]["code"] == "database_unavailable"
        assert down["Retry-After"]
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json()["database"]["ok"] is False
    finally:
        private_stack.pg.start()
    # a server drops an unusable connection at the next request's start (close_old_connections); Django's test
    # client skips those signals, so do what they do
    close_old_connections()
    assert client.get("/api/v1/markets/").status_code == 200  # back at once, nobody restarted the app
    assert wait_for(lambda: liquidated() >= targets, 60)
    time.sleep(1.5)  # a scan or two more: nothing may be liquidated twice
    assert_each_liquidated_once(targets)
    assert still_underwater(under + safe) == set()
    assert not ledger_mismatches()


def test_redis_restart_during_liquidations(private_stack, row_lock):
    under, safe = population(underwater=40, healthy=4)
    set_price("TSLAx", "190")  # no event-driven scan: the beat finds them
    targets = sorted(a.pk for a in under)
    scan_every_second()
    lock = row_lock(targets[22])  # the scan's chunks are 15 accounts: the second chunk stops halfway
    private_stack.start_worker(concurrency=1)
    private_stack.start_beat()
    assert wait_for(lambda: lock.waiters() >= 1 and liquidated() >= set(targets[:15]), 60)
    done_before = liquidated()
    private_stack.redis.stop()  # mid-run: queued chunks and scans are lost with it (no persistence)
    try:
        client = api_client()
        assert client.get("/api/v1/markets/").status_code == 200  # reads need no broker
        staff = api_client(make_user(staff=True))
        r = staff.post("/api/v1/admin/oracle/TSLAx/price/", {"price": "190", "reason": "outage"}, format="json")
        assert r.status_code in (200, 201, 202)  # the price is written; only its scan is lost
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json()["broker"]["ok"] is False
    finally:
        private_stack.redis.start()
    reset_broker_connections()  # this process's broker connections died with the old server
    lock.release()
    # the beat's safety-net scan finds the rest; idempotent keepers make the repeats harmless
    assert wait_for(lambda: liquidated() == set(targets), 60)
    assert done_before < set(targets)
    assert_each_liquidated_once(set(targets))
    assert still_underwater(under + safe) == set()
    assert not ledger_mismatches()


def test_beat_dies_and_comes_back(private_stack):
    under, safe = population(underwater=8, healthy=2)
    targets = {a.pk for a in under}
    scan_every_second()
    private_stack.start_worker(concurrency=1)
    every_second = IntervalSchedule.objects.get(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(task="common.heartbeat").update(interval=every_second)
    beat = private_stack.start_beat()
    assert wait_for(lambda: Heartbeat.objects.filter(name="worker").exists(), 40)  # beat -> worker works
    private_stack.kill(beat)  # kill -9: no clean shutdown
    # scans the beat sent before it died drain first (the worker runs what was queued)
    assert wait_for(lambda: queue_depths(["liquidations"]) == {"liquidations": 0}, 30)
    time.sleep(2)
    set_price("TSLAx", "190")  # published without its own scan: only the beat's safety net would see it
    time.sleep(2)
    assert liquidated() == set()  # nobody scans while the beat is dead
    assert api_client().get("/api/v1/markets/").status_code == 200
    private_stack.start_beat()  # comes back, reads its schedule from the database, and catches up
    assert wait_for(lambda: liquidated() >= targets, 60)
    time.sleep(1.5)
    assert_each_liquidated_once(targets)
    assert still_underwater(under + safe) == set()
    assert not ledger_mismatches()
