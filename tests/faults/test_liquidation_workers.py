"""Liquidations on real worker processes, Redis and PostgreSQL: end to end after an admin price drop, a worker
killed with kill -9 mid-batch, a task delivered twice, and Redis restarted mid-run."""
import os
import signal
import subprocess
import time

import pytest

from config.celery_app import app
from lending import services
from lending.models import LedgerEntry, LiquidationEvent, WalletBalance
from lending.selectors import account_health
from markets.models import Reserve
from tests.conftest import reset_broker_connections
from tests.factories import api_client, fund_and_supply, make_account, make_universe, make_user, set_price
from tests.test_worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.fault]
E6 = 10**6


def population(underwater: int, healthy: int):
    make_universe()
    set_price("TSLAx", "250")
    under, safe = [], []
    for i in range(underwater + healthy):
        account = make_account()
        fund_and_supply(account, "TSLAx", "10")
        borrow = 1_300 * E6 if i < underwater else 500 * E6  # LTV 55% of $2,500 = $1,375
        services.account_borrow(account=account, symbol="USDC", amount=borrow)
        (under if i < underwater else safe).append(account)
    return under, safe


def underwater_ids(accounts):
    return {a.pk for a in accounts if (hf := account_health(a).health_factor) is not None and hf < 10**18}


def assert_conserved():
    for reserve in Reserve.objects.select_related("asset"):
        minted = sum(e.amount for e in LedgerEntry.objects.filter(asset=reserve.asset, kind__in=["faucet", "mint"]))
        wallets = sum(w.amount for w in WalletBalance.objects.filter(asset=reserve.asset))
        assert wallets + reserve.virtual_balance == minted, reserve.asset.symbol


def assert_once(round_key):
    steps = list(LiquidationEvent.objects.filter(round_key=round_key).values_list("account_id", "step"))
    assert len(steps) == len(set(steps))


def test_admin_price_drop_liquidates_underwater_accounts_within_seconds(worker_process):
    under, safe = population(underwater=12, healthy=6)
    worker_process(concurrency=2)
    staff = api_client(make_user(staff=True))
    r = staff.post("/api/v1/admin/oracle/TSLAx/price/", {"price": "190", "reason": "drill"}, format="json")
    assert r.status_code == 201
    targets = {a.pk for a in under}
    assert wait_for(lambda: set(LiquidationEvent.objects.values_list("account_id", flat=True)) >= targets, 60)
    assert not LiquidationEvent.objects.filter(account__in=safe).exists()
    for account in under:
        hf = account_health(account).health_factor
        assert hf is None or hf >= 10**18
    event = LiquidationEvent.objects.filter(account=under[0]).order_by("step").first()
    assert event.oracle_round_id is not None and event.latency_ms >= 0
    assert_conserved()


def test_worker_killed_mid_batch_loses_nothing(worker_process):
    under, _ = population(underwater=120, healthy=10)
    set_price("TSLAx", "190")
    targets = underwater_ids(under)
    proc = worker_process(name="victim", concurrency=1)
    from lending.scanner import chunks

    for chunk in chunks(sorted(targets), 20):
        app.send_task("lending.liquidate_accounts", args=[chunk, "kill-test", None, time.time()],
                      queue="liquidations")
    assert wait_for(lambda: LiquidationEvent.objects.filter(round_key="kill-test").exists(), 60)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    done_before = set(LiquidationEvent.objects.filter(round_key="kill-test").values_list("account_id", flat=True))
    assert done_before < targets, "the worker should die mid-batch"
    worker_process(name="survivor", concurrency=2)
    # the unacknowledged chunk comes back after the visibility timeout (30 s in tests)
    assert wait_for(lambda: set(LiquidationEvent.objects.filter(round_key="kill-test")
                                .values_list("account_id", flat=True)) >= targets, 150)
    assert_once("kill-test")
    assert underwater_ids(under) == set()
    assert_conserved()


def test_task_delivered_twice_acts_once(worker_process):
    under, _ = population(underwater=5, healthy=0)
    set_price("TSLAx", "190")
    ids = sorted(a.pk for a in under)
    worker_process(concurrency=2)
    for _ in range(2):
        app.send_task("lending.liquidate_accounts", args=[ids, "twice", None, time.time()], queue="liquidations")
    assert wait_for(lambda: set(LiquidationEvent.objects.filter(round_key="twice")
                                .values_list("account_id", flat=True)) == set(ids), 60)
    time.sleep(2)
    assert_once("twice")
    single = {a: LiquidationEvent.objects.filter(round_key="twice", account_id=a).count() for a in ids}
    assert all(count >= 1 for count in single.values())
    assert_conserved()


def _redis(*args):
    return subprocess.run(args, capture_output=True, timeout=30)


def test_redis_restart_mid_run(worker_process):
    under, _ = population(underwater=10, healthy=2)
    worker_process(concurrency=1)
    _redis("redis-cli", "-h", "127.0.0.1", "shutdown", "nosave")
    try:
        time.sleep(1)
        client = api_client()
        assert client.get("/api/v1/markets/").status_code == 200  # the app keeps serving
        staff = api_client(make_user(staff=True))
        # the price still moves; the scan it would trigger is lost with the broker
        r = staff.post("/api/v1/admin/oracle/TSLAx/price/", {"price": "190", "reason": "outage"}, format="json")
        assert r.status_code == 201
        assert client.get("/healthz").status_code == 200
    finally:
        _redis("redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379", "--save", "",
               "--appendonly", "no")
    assert wait_for(lambda: _redis("redis-cli", "-h", "127.0.0.1", "ping").stdout.strip() == b"PONG", 30)
    reset_broker_connections()  # this process's broker connections died with the old server
    targets = {a.pk for a in under}
    # the beat safety-net scan finds the same accounts again; idempotent keepers make that safe
    def scan_and_check():
        app.send_task("lending.scan_accounts", queue="liquidations")
        return wait_for(lambda: set(LiquidationEvent.objects.values_list("account_id", flat=True)) >= targets, 10)

    assert wait_for(scan_and_check, 90)
    assert_conserved()
