"""Liquidations on real worker processes, Redis and PostgreSQL: end to end after an admin price drop, a worker
killed with kill -9 mid-batch, and the same task message delivered twice (Redis and PostgreSQL restarts:
test_private_services.py, on instances of their own).

"Mid-batch" is made certain rather than hoped for: the test holds a row lock on one account, so the worker is
provably inside a chunk's transaction (some accounts locked, waiting for the next) when the fault strikes."""
import os
import signal
import time
import uuid
from collections import Counter

import pytest

from config.celery_app import app
from core.aave.wadray import percent_div, percent_mul
from lending import services
from lending.models import LiquidationEvent
from lending.selectors import account_health
from markets.models import Reserve
from tests.factories import (
    api_client,
    fund_and_supply,
    ledger_mismatches,
    make_account,
    make_universe,
    make_user,
    set_price,
)
from tests.test_worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.fault]
E6, E18, WAD = 10**6, 10**18, 10**18


def population(underwater: int, healthy: int):
    """10 TSLAx at $250 each; $1,300 borrowed goes under water at $190 (HF 0.95), $500 stays safe."""
    make_universe()
    set_price("TSLAx", "250")
    under, safe = [], []
    for i in range(underwater + healthy):
        account = make_account()
        fund_and_supply(account, "TSLAx", "10")
        services.account_borrow(account=account, symbol="USDC", amount=1_300 * E6 if i < underwater else 500 * E6)
        (under if i < underwater else safe).append(account)
    return under, safe


def still_underwater(accounts) -> set[int]:
    return {a.pk for a in accounts if (hf := account_health(a).health_factor) is not None and hf < WAD}


def liquidated(round_key: str | None = None) -> set[int]:
    events = LiquidationEvent.objects.all()
    if round_key is not None:
        events = events.filter(round_key=round_key)
    return set(events.values_list("account_id", flat=True))


def assert_each_liquidated_once(targets: set[int]) -> None:
    """One step repays each of these accounts in full, so exactly one event each, whatever the round."""
    counts = Counter(LiquidationEvent.objects.values_list("account_id", flat=True))
    assert set(counts) == targets
    assert set(counts.values()) == {1}, {a: c for a, c in counts.items() if c != 1}


def test_admin_price_drop_liquidates_underwater_accounts_within_seconds(worker_process):
    under, safe = population(underwater=12, healthy=6)
    worker_process(concurrency=2)
    staff = api_client(make_user(staff=True))
    r = staff.post("/api/v1/admin/oracle/TSLAx/price/", {"price": "190", "reason": "drill"}, format="json")
    assert r.status_code in (200, 201, 202)
    targets = {a.pk for a in under}
    assert wait_for(lambda: liquidated() >= targets, 30)
    assert_each_liquidated_once(targets)
    assert still_underwater(under + safe) == set()
    bonus, fee_bps = Reserve.objects.filter(asset__symbol="TSLAx").values_list(
        "liquidation_bonus_bps", "liquidation_protocol_fee_bps").get()
    for event in LiquidationEvent.objects.select_related("oracle_round"):
        assert event.oracle_round.reference_price == 190 * 10**8 == event.collateral_price
        assert event.health_factor_before < WAD and event.health_factor_after is None  # the whole debt repaid
        # Aave v3.3 _calculateAvailableCollateralToLiquidate, from the debt repaid
        seized = percent_mul(event.debt_price * event.debt_repaid * E18 // (event.collateral_price * E6), bonus)
        assert event.collateral_seized == seized
        assert event.protocol_fee == percent_mul(seized - percent_div(seized, bonus), fee_bps)
        assert 0 <= event.latency_ms < 30_000  # counted from the price's publication
    assert not ledger_mismatches()


def test_worker_killed_mid_batch_loses_nothing(worker_process, row_lock):
    under, safe = population(underwater=120, healthy=10)
    set_price("TSLAx", "190")
    targets = sorted(still_underwater(under))
    assert len(targets) == 120
    chunks = [targets[i:i + 20] for i in range(0, len(targets), 20)]
    lock = row_lock(chunks[2][10])  # the third chunk will stop halfway, holding its first ten accounts
    victim = worker_process(name="victim", concurrency=1)
    for chunk in chunks:
        app.send_task("lending.liquidate_accounts", args=[chunk, "kill-test", None, time.time()],
                      queue="liquidations")
    assert wait_for(lambda: lock.waiters() >= 1 and len(liquidated("kill-test")) == 40, 60)
    os.killpg(victim.pid, signal.SIGKILL)  # mid-batch: chunk 3 is inside its transaction
    victim.wait(timeout=10)
    lock.release()
    assert wait_for(lambda: lock.waiters() == 0, 30)  # the dead worker's transaction is rolled back
    assert liquidated("kill-test") == set(chunks[0] + chunks[1])
    worker_process(name="survivor", concurrency=2)
    # chunks 4-6 were never taken; chunk 3 was unacknowledged and comes back after the visibility timeout (30 s)
    assert wait_for(lambda: liquidated("kill-test") == set(targets), 150)
    assert_each_liquidated_once(set(targets))
    assert still_underwater(under + safe) == set()
    assert not ledger_mismatches()


def test_task_delivered_twice_acts_once(worker_process, row_lock):
    under, _ = population(underwater=6, healthy=0)
    set_price("TSLAx", "190")
    ids = sorted(a.pk for a in under)
    lock = row_lock(ids[3])  # both deliveries are in flight at once: one holds ids[:3], the other waits for it
    worker_process(concurrency=2)
    task_id = str(uuid.uuid4())
    for _ in range(2):  # the same message (same task id) delivered twice, as a broker redelivery does
        app.send_task("lending.liquidate_accounts", args=[ids, "twice", None, time.time()], queue="liquidations",
                      task_id=task_id)
    assert wait_for(lambda: lock.waiters() >= 2, 30)
    lock.release()
    assert wait_for(lambda: liquidated("twice") == set(ids), 30)
    assert wait_for(lambda: lock.waiters() == 0, 30)
    time.sleep(1)
    assert_each_liquidated_once(set(ids))
    assert not ledger_mismatches()

