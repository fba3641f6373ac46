"""The set-based screen finds exactly the accounts whose exact HF is below 1 (no false negatives)."""
import random

import pytest

from lending import services
from lending.scanner import screen_accounts
from lending.selectors import account_health
from tests.factories import fund_and_supply, make_account, make_universe, set_price, units

pytestmark = pytest.mark.django_db


def test_screen_matches_exact_health_factors():
    make_universe()
    set_price("TSLAx", "250")
    set_price("NVDAx", "130")
    rng = random.Random(11)
    accounts = []
    for _ in range(40):
        account = make_account()
        fund_and_supply(account, "TSLAx", str(rng.randint(1, 50)))
        if rng.random() < 0.5:
            fund_and_supply(account, "NVDAx", str(rng.randint(1, 50)))
        health = account_health(account)
        power = health.by_ltv.available_borrows_base // 100  # USDC units (6 decimals) from 8-decimal USD
        borrow = power * rng.randint(50, 100) // 100
        if borrow:
            services.account_borrow(account=account, symbol="USDC", amount=borrow)
        accounts.append(account)
    set_price("TSLAx", "190")
    set_price("NVDAx", "100")
    from lending.scanner import _screen_portable, reserve_factors

    assert _screen_portable(reserve_factors()) == screen_accounts()  # both SQL shapes agree
    exact = {a.pk for a in accounts if (hf := account_health(a).health_factor) is not None and hf < 10**18}
    screened = set(screen_accounts())
    assert exact, "the price drop should put some accounts under water"
    assert exact <= screened
    assert len(screened - exact) <= 1  # at most a hair-width false positive, re-checked by the keeper


def test_no_debt_is_never_a_candidate():
    make_universe()
    account = make_account()
    fund_and_supply(account, "TSLAx", "1")
    assert screen_accounts() == []
    assert units("TSLAx", "1") == 10**18
