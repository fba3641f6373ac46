"""The set-based screen finds every account whose exact HF is below 1 (no false negatives), in one SQL pass."""
import dataclasses
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lending import services
from lending.scanner import SCREEN_MARGIN, _screen_portable, chunks, reserve_factors, screen_accounts
from lending.selectors import account_health
from markets.models import Asset
from oracles.selectors import oracle_reads
from tests.factories import fund_and_supply, make_account, make_universe, set_price, units

pytestmark = pytest.mark.django_db
WAD = 10**18


def population(n: int, seed: int = 11):
    rng = random.Random(seed)
    accounts = []
    for _ in range(n):
        account = make_account()
        fund_and_supply(account, "TSLAx", str(rng.randint(1, 50)))
        if rng.random() < 0.5:
            fund_and_supply(account, "NVDAx", str(rng.randint(1, 50)))
        health = account_health(account)
        power = health.by_ltv.available_borrows_base // 100  # USDC units (6 decimals) from 8-decimal USD
        borrow = power * rng.randint(50, 100) // 100
        if borrow:
            services.account_borrow(account=account, symbol="USDT" if rng.random() < 0.3 else "USDC",
                                    amount=borrow)
        accounts.append(account)
    return accounts


def exact_underwater(accounts) -> set[int]:
    return {a.pk for a in accounts if (hf := account_health(a).health_factor) is not None and hf < WAD}


def test_screen_matches_exact_health_factors():
    make_universe()
    set_price("TSLAx", "250")
    set_price("NVDAx", "130")
    accounts = population(40)
    set_price("TSLAx", "190")
    set_price("NVDAx", "100")
    assert _screen_portable(reserve_factors()) == screen_accounts()  # both SQL shapes agree
    exact = exact_underwater(accounts)
    screened = set(screen_accounts())
    assert exact, "the price drop should put some accounts under water"
    assert exact <= screened
    assert len(screened - exact) <= 1  # at most a hair-width false positive, re-checked by the keeper


def test_screen_is_one_query():
    make_universe()
    set_price("TSLAx", "250")
    population(5)
    factors = reserve_factors()
    with CaptureQueriesContext(connection) as queries:
        screen_accounts(factors)
    assert len(queries) == 1


def test_screen_uses_the_haircut_when_the_policy_applies_it_to_the_threshold():
    make_universe()
    set_price("TSLAx", "250")
    account = make_account()
    fund_and_supply(account, "TSLAx", "40")
    services.account_borrow(account=account, symbol="USDC", amount=5_400 * 10**6)  # HF 1.2037
    reads = oracle_reads(Asset.objects.all())
    closed = dataclasses.replace(reads["TSLAx"], haircut_bps=2_000, is_open=False)
    assert screen_accounts(reserve_factors({**reads, "TSLAx": closed})) == []  # haircut on borrowing power only
    closed = dataclasses.replace(closed, apply_to_liquidation_threshold=True)
    assert screen_accounts(reserve_factors({**reads, "TSLAx": closed})) == [account.pk]


def test_collateral_switched_off_does_not_count():
    make_universe()
    set_price("TSLAx", "250")
    set_price("NVDAx", "130")
    account = make_account()
    fund_and_supply(account, "TSLAx", "10")
    fund_and_supply(account, "NVDAx", "10")
    services.account_borrow(account=account, symbol="USDC", amount=1_500 * 10**6)
    assert screen_accounts() == []
    services.account_set_collateral(account=account, symbol="NVDAx", enabled=False)  # HF 1.08 on TSLAx alone
    set_price("TSLAx", "200")  # HF 0.87 on TSLAx; NVDAx would have saved it
    assert screen_accounts() == [account.pk]


def test_no_debt_is_never_a_candidate():
    make_universe()
    account = make_account()
    fund_and_supply(account, "TSLAx", "1")
    assert screen_accounts() == []
    assert units("TSLAx", "1") == 10**18


def test_margin_only_admits_near_misses():
    assert 1 < SCREEN_MARGIN < 1.001


def test_chunks_cover_every_candidate_once():
    ids = list(range(1, 2_346))
    parts = chunks(ids)
    assert [i for part in parts for i in part] == ids
    assert max(len(p) for p in parts) <= 500
    assert len(parts) >= 4  # enough to keep two workers busy
    assert chunks([]) == []
    assert chunks([7]) == [[7]]
