"""Idempotency-Key: one key acts once, even when 20 identical requests race (real PostgreSQL, real threads,
one DB connection each); the others replay the first answer or get a 409 "in progress". A failed action
stores nothing and moves nothing, so a retry with the same key may act."""
import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import redis
from django.db import connection, connections, transaction
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from common.api import idempotency
from common.errors import DomainError
from common.models import AuditEntry, IdempotencyRecord
from config.celery_app import app
from lending import tasks as lending_tasks
from lending.models import Account, LedgerEntry, WalletBalance
from markets.models import Reserve
from oracles import tasks as oracle_tasks
from oracles.models import Backtest, OracleRound
from tests.conftest import reset_broker_connections
from tests.factories import (
    api_client,
    fund_and_supply,
    make_account,
    make_universe,
    make_user,
    set_price,
    units,
)

N = 20
KEY = "race-key-1"
E6 = 10**6


def _broker():
    return redis.Redis.from_url(app.conf.broker_url)


@pytest.fixture
def broker(transactional_db, redis_up):
    """Committed data (post_migrate recreates the system accounts after each flush) and an empty broker db (this
    run's TEST_CELERY_BROKER_URL) whose queued messages the test can count."""
    reset_broker_connections()
    _broker().flushdb()
    yield
    reset_broker_connections()
    _broker().flushdb()


def queued(task) -> int:
    """Messages for this task waiting in the Redis broker (nobody consumes them here)."""
    client, count = _broker(), 0
    for key in client.scan_iter():
        if client.type(key) != b"list":
            continue
        for raw in client.lrange(key, 0, -1):
            try:
                count += json.loads(raw).get("headers", {}).get("task") == task.name
            except ValueError:
                continue
    return count


def race(user, path, body, *, key=KEY, n=N):
    """n threads, each its own client and DB connection, post the same request with the same key at once."""
    token = Token.objects.get_or_create(user=user)[0].key
    results, barrier = [], threading.Barrier(n)

    def post():
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
            barrier.wait()
            results.append(client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == n
    return results


def wallet(account, symbol) -> int:
    row = WalletBalance.objects.filter(account=account, asset__symbol=symbol).first()
    return row.amount if row else 0


def ledger(account, kind) -> int:
    return LedgerEntry.objects.filter(account=account, kind=kind).count()


@dataclass
class Case:
    path: str
    body: dict | None
    status: int
    user: object
    measure: Callable[[], dict]
    delta: dict


def _account_case(setup, path, body, kind, symbol, wallet_delta):
    def build():
        make_universe()
        set_price("TSLAx", "250")
        account = make_account()
        setup(account)
        moved = units(symbol, wallet_delta.lstrip("-")) * (-1 if wallet_delta.startswith("-") else 1) \
            if wallet_delta != "0" else 0
        return Case(path, body, 200, account.user,
                    lambda: {"ledger": ledger(account, kind), "wallet": wallet(account, symbol)},
                    {"ledger": 1, "wallet": moved})
    return build


def _mint(account):
    from lending import services

    services.mint_to(account=account, asset=Reserve.objects.get(asset__symbol="USDC").asset,
                     amount=units("USDC", "1000"), reason="test")


def _collateral(account):
    fund_and_supply(account, "TSLAx", "100")  # $25,000 of collateral


def _borrowed(account):
    from lending import services

    _collateral(account)
    services.account_borrow(account=account, symbol="USDC", amount=500 * E6)


def _staff_case(path, body, status, measure, delta, setup=None):
    def build():
        make_universe()
        set_price("TSLAx", "250")
        staff = make_user(staff=True)
        return Case(setup(staff, path) if setup else path, body, status, staff, measure, delta)
    return build


def _rounds():
    return {"rounds": OracleRound.objects.filter(asset__symbol="TSLAx").count(),
            "audit": AuditEntry.objects.count(), "scans": queued(lending_tasks.scan_accounts)}


def _tighten_then_revert(staff, path):
    before = Reserve.objects.get(asset__symbol="TSLAx").ltv_bps
    r = api_client(staff).patch("/api/v1/admin/markets/TSLAx/", {"ltv_bps": before - 500, "reason": "tighten"},
                                format="json")
    assert r.status_code == 200, r.content
    return path.format(entry=AuditEntry.objects.order_by("-pk").first().pk)


CASES = {
    "faucet": _account_case(lambda a: None, "/api/v1/account/faucet/", {"asset": "USDC", "amount": "100"},
                            "faucet", "USDC", "100"),
    "supply": _account_case(_mint, "/api/v1/account/supply/", {"asset": "USDC", "amount": "100"},
                            "supply", "USDC", "-100"),
    "withdraw": _account_case(_collateral, "/api/v1/account/withdraw/", {"asset": "TSLAx", "amount": "10"},
                              "withdraw", "TSLAx", "10"),
    "borrow": _account_case(_collateral, "/api/v1/account/borrow/", {"asset": "USDC", "amount": "100"},
                            "borrow", "USDC", "100"),
    "repay": _account_case(_borrowed, "/api/v1/account/repay/", {"asset": "USDC", "amount": "100"},
                           "repay", "USDC", "-100"),
    "collateral": _account_case(_collateral, "/api/v1/account/collateral/", {"asset": "TSLAx", "enabled": False},
                                "collateral", "TSLAx", "0"),
    "oracle_price": _staff_case("/api/v1/admin/oracle/TSLAx/price/", {"price": "260"}, 201, _rounds,
                                {"rounds": 1, "audit": 1, "scans": 1}),
    "oracle_shock": _staff_case("/api/v1/admin/oracle/TSLAx/shock/", {"percent": "-10", "at": "now"}, 200, _rounds,
                                {"rounds": 1, "audit": 1, "scans": 1}),
    "liquidation_scan": _staff_case("/api/v1/admin/liquidations/scan/", None, 202,
                                    lambda: {"scans": queued(lending_tasks.scan_accounts)}, {"scans": 1}),
    "backtest": _staff_case("/api/v1/admin/backtests/",
                            {"asset": "SPYx", "from": "2021-01-01", "to": "2021-12-31", "policies": ["none"]}, 202,
                            lambda: {"jobs": Backtest.objects.count(), "queued": queued(oracle_tasks.run_backtest)},
                            {"jobs": 1, "queued": 1}),
    "audit_revert": _staff_case("/api/v1/admin/audit/{entry}/revert/", {"reason": "mistake"}, 201,
                                lambda: {"audit": AuditEntry.objects.count()}, {"audit": 1},
                                setup=_tighten_then_revert),
    "what_if": _staff_case("/api/v1/admin/what-if/", {"shocks": {"TSLAx": "-20"}}, 200,
                           lambda: {"records": IdempotencyRecord.objects.count()}, {"records": 1}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_twenty_concurrent_requests_with_one_key_act_once(broker, name):
    assert connection.vendor == "postgresql"
    case = CASES[name]()
    before = case.measure()
    results = race(case.user, case.path, case.body)
    after = case.measure()
    assert {k: after[k] - before[k] for k in before} == case.delta, [r.status_code for r in results]
    assert all(r.status_code < 500 for r in results), [(r.status_code, r.content) for r in results]
    done = [r for r in results if r.status_code == case.status]
    busy = [r for r in results if r.status_code == 409]
    assert len(done) + len(busy) == N, [(r.status_code, r.content) for r in results]
    for r in busy:
        assert r.json() == {"error": {"code": "idempotency_key_in_progress", "message": r.json()["error"]["message"],
                                      "field": None}}
    first = [r for r in done if r.get("Idempotent-Replayed") is None]
    assert len(first) == 1, [(r.status_code, r.get("Idempotent-Replayed")) for r in results]
    assert all(r["Idempotent-Replayed"] == "true" and r.json() == first[0].json() for r in done if r is not first[0])
    record = IdempotencyRecord.objects.get(user=case.user, key=KEY)
    assert record.status_code == case.status and record.body == first[0].json()


@pytest.mark.parametrize("name", ["borrow", "oracle_price"])
def test_a_later_replay_changes_nothing_and_reuse_elsewhere_is_refused(broker, name):
    case = CASES[name]()
    client = api_client(case.user)
    first = client.post(case.path, case.body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert first.status_code == case.status and first.get("Idempotent-Replayed") is None
    before = case.measure()
    again = client.post(case.path, case.body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert again.status_code == case.status and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other_body = {**case.body, next(iter(case.body)): "TSLAx" if name == "borrow" else "1"}
    for path, body in ((case.path, other_body), ("/api/v1/account/faucet/", case.body)):
        reused = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
        assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"
    assert case.measure() == before and IdempotencyRecord.objects.count() == 1


@pytest.fixture
def holder():
    """An account with no collateral yet at TSLAx $250, and its API client."""
    make_universe()
    set_price("TSLAx", "250")
    account = make_account()
    return account, api_client(account.user)


def test_a_refused_action_stores_nothing_and_a_retry_with_the_same_key_acts(broker, holder):
    account, client = holder
    body = {"asset": "USDC", "amount": "100"}
    refused = client.post("/api/v1/account/borrow/", body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert 400 <= refused.status_code < 500 and "error" in refused.json()
    assert not IdempotencyRecord.objects.exists() and wallet(account, "USDC") == 0
    _collateral(account)
    retry = client.post("/api/v1/account/borrow/", body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert retry.status_code == 200 and retry.get("Idempotent-Replayed") is None
    assert wallet(account, "USDC") == 100 * E6 and ledger(account, "borrow") == 1


def test_a_failure_building_the_answer_after_the_commit_keeps_the_action_once_and_a_retry_replays(broker, holder,
                                                                                                 monkeypatch):
    """The answer (the account afterwards) is read after the action commits, so the reserve row is not held
    while it is built; if that read fails, the borrow stands and the retry replays instead of borrowing twice."""
    from lending.api import views

    account, client = holder
    _collateral(account)
    real = views.account_body

    def fail_once(*args):
        monkeypatch.setattr(views, "account_body", real)
        raise DomainError("boom after the borrow", code="boom")

    monkeypatch.setattr(views, "account_body", fail_once)
    body = {"asset": "USDC", "amount": "100"}
    failed = client.post("/api/v1/account/borrow/", body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert failed.json()["error"]["code"] == "boom"
    assert wallet(account, "USDC") == 100 * E6 and ledger(account, "borrow") == 1
    record = IdempotencyRecord.objects.get()
    assert record.status_code == 200 and record.body is None
    retry = client.post("/api/v1/account/borrow/", body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert retry.status_code == 200 and retry["Idempotent-Replayed"] == "true"
    assert wallet(account, "USDC") == 100 * E6 and ledger(account, "borrow") == 1
    assert retry.json()["health_factor"] is not None


def test_a_failure_inside_the_action_rolls_it_back_and_frees_the_key(broker, holder, monkeypatch):
    from lending import services

    account, client = holder
    _collateral(account)
    real = services.reserve_update_rates

    def fail_once(**kwargs):
        real(**kwargs)  # the reserve row is written, then the action fails
        monkeypatch.setattr(services, "reserve_update_rates", real)
        raise DomainError("boom inside the borrow", code="boom")

    monkeypatch.setattr(services, "reserve_update_rates", fail_once)
    body = {"asset": "USDC", "amount": "100"}
    failed = client.post("/api/v1/account/borrow/", body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert failed.status_code == 400 and failed.json()["error"]["code"] == "boom"
    assert wallet(account, "USDC") == 0 and ledger(account, "borrow") == 0
    assert not IdempotencyRecord.objects.exists()
    retry = client.post("/api/v1/account/borrow/", body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert retry.status_code == 200 and wallet(account, "USDC") == 100 * E6 and ledger(account, "borrow") == 1
    assert IdempotencyRecord.objects.get().body["health_factor"] == retry.json()["health_factor"]


def test_an_enqueue_that_fails_after_commit_frees_the_key(broker, monkeypatch):
    make_universe()
    client = api_client(make_user(staff=True))

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("redis is down")

    monkeypatch.setattr(app, "send_task", broker_down)
    r = client.post("/api/v1/admin/liquidations/scan/", HTTP_IDEMPOTENCY_KEY=KEY)
    assert r.status_code == 503 and r.json()["error"]["code"] == "broker_unavailable"
    assert not IdempotencyRecord.objects.exists()
    monkeypatch.undo()
    r = client.post("/api/v1/admin/liquidations/scan/", HTTP_IDEMPOTENCY_KEY=KEY)
    assert r.status_code == 202 and r.get("Idempotent-Replayed") is None
    assert queued(lending_tasks.scan_accounts) == 1


@contextlib.contextmanager
def held_elsewhere(hold, *, rollback: bool = False):
    """hold() runs in another connection's open transaction (rolled back at the end if `rollback`) until the block
    ends: a first request still running, or a liquidation holding an account."""
    holding, release = threading.Event(), threading.Event()

    def run():
        try:
            with transaction.atomic():
                hold()
                holding.set()
                release.wait(30)
                transaction.set_rollback(rollback)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert holding.wait(10)
        yield
    finally:
        release.set()
        thread.join()


def _faucet_waiting_1s(account, monkeypatch):
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 1)
    return api_client(account.user).post("/api/v1/account/faucet/", {"asset": "USDC", "amount": "100"},
                                         format="json", HTTP_IDEMPOTENCY_KEY=KEY)


def _faucet_acts_once_after(account):
    r = api_client(account.user).post("/api/v1/account/faucet/", {"asset": "USDC", "amount": "100"}, format="json",
                                      HTTP_IDEMPOTENCY_KEY=KEY)
    assert r.status_code == 200 and ledger(account, "faucet") == 1 and wallet(account, "USDC") == 100 * E6


def test_a_request_waiting_too_long_on_a_running_key_gets_409_and_moves_nothing(broker, monkeypatch):
    make_universe()
    account = make_account()
    # a first request still running (its claim inserted, not committed), which then fails
    with held_elsewhere(lambda: IdempotencyRecord.objects.create(user=account.user, key=KEY, fingerprint="running"),
                        rollback=True):
        started = time.monotonic()
        r = _faucet_waiting_1s(account, monkeypatch)
        assert 0.9 < time.monotonic() - started < 10
        assert r.status_code == 409 and r.json()["error"]["code"] == "idempotency_key_in_progress"
        assert ledger(account, "faucet") == 0 and wallet(account, "USDC") == 0
    _faucet_acts_once_after(account)


def test_an_action_kept_waiting_on_its_rows_too_long_gets_409_busy_and_moves_nothing(broker, monkeypatch):
    make_universe()
    account = make_account()
    with held_elsewhere(lambda: Account.objects.select_for_update().get(pk=account.pk)):  # a liquidation, say
        r = _faucet_waiting_1s(account, monkeypatch)
        assert r.status_code == 409 and r.json()["error"]["code"] == "busy"
        assert ledger(account, "faucet") == 0 and wallet(account, "USDC") == 0
        assert not IdempotencyRecord.objects.filter(key=KEY).exists()  # the key is free for the retry
    _faucet_acts_once_after(account)


@pytest.mark.parametrize("key", ["", "x" * 256, "bad\nkey"])
def test_malformed_keys_are_refused_before_acting(broker, key):
    make_universe()
    account = make_account()
    r = api_client(account.user).post("/api/v1/account/faucet/", {"asset": "USDC", "amount": "1"}, format="json",
                                      HTTP_IDEMPOTENCY_KEY=key)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_idempotency_key"
    assert ledger(account, "faucet") == 0 and not IdempotencyRecord.objects.exists()


SQLITE_RACE = """
import threading
import django
django.setup()
from django.test.utils import setup_test_environment
setup_test_environment()
from django.db import connections
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from lending.models import Account, LedgerEntry, WalletBalance
from oracles.models import HaircutPolicy, OracleFeed
from tests.factories import fund_and_supply, make_account, set_price
HaircutPolicy.objects.update(mode="none")
OracleFeed.objects.update(source="manual")
set_price("TSLAx", "250")
account = make_account()
fund_and_supply(account, "TSLAx", "100")
token = Token.objects.get_or_create(user=account.user)[0].key
barrier, results = threading.Barrier(10), []
def post():
    try:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token " + token)
        barrier.wait()
        r = client.post("/api/v1/account/borrow/", {"asset": "USDC", "amount": "100"}, format="json",
                        HTTP_IDEMPOTENCY_KEY="k1")
        results.append((r.status_code, r.get("Idempotent-Replayed")))
    finally:
        connections.close_all()
threads = [threading.Thread(target=post) for _ in range(10)]
[t.start() for t in threads]
[t.join() for t in threads]
print(sorted(results, key=str))
print(LedgerEntry.objects.filter(account=account, kind="borrow").count(),
      WalletBalance.objects.get(account=account, asset__symbol="USDC").amount)
"""


def test_the_embedded_sqlite_profile_acts_once_too(tmp_path):
    """make run's SQLite (IMMEDIATE transactions): racing requests queue on the write lock, then replay."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.dev", DATABASE_URL=f"sqlite:///{tmp_path}/x.db",
               VAR_DIR=str(tmp_path), CELERY_BROKER_URL="memory://", PYTHONPATH=str(root))
    for command in (["migrate", "-v0"], ["createcachetable"], ["load_universe"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=root, env=env, check=True, capture_output=True)
    run = subprocess.run([sys.executable, "-c", SQLITE_RACE], cwd=root, env=env, capture_output=True, text=True,
                         check=False, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    answers, counts = run.stdout.strip().splitlines()[-2:]
    assert answers == str([(200, "true")] * 9 + [(200, None)])
    assert counts == f"1 {100 * E6}"  # one borrow of 100 USDC, not ten
