"""The keeper's prices (DESIGN.md s2, "Which prices a liquidation uses") and the pool's engine.

A haircut may make an account liquidatable and sets how much debt goes, but the collateral seized for that debt
is counted at the reference price. Under a v4 pool the keeper repays to the target HF with the variable bonus.
Expected amounts are worked by hand in the comments (calculator arithmetic, not the code under test)."""
import dataclasses

import pytest

from lending import services
from lending.keeper import keeper_run
from markets.models import Asset, Reserve
from markets.services import pool_update_parameters
from oracles.selectors import oracle_reads
from tests.factories import fund_and_supply, make_account, make_universe, make_user, set_price

pytestmark = pytest.mark.django_db
E6, E18, WAD = 10**6, 10**18, 10**18


@pytest.fixture
def borrower():
    """40 TSLAx at $250 ($10,000; LT 65%, bonus 107.5%, fee 10%) against 5,400 USDC: HF 1.2037."""
    make_universe()
    set_price("TSLAx", "250")
    account = make_account()
    fund_and_supply(account, "TSLAx", "40")
    services.account_borrow(account=account, symbol="USDC", amount=5_400 * E6)
    return account


def at_borrow_time():
    # the book never accrues backwards: at the borrow's own second the debt is exactly 5,400 USDC
    return Reserve.objects.get(asset__symbol="USDC").last_update


def haircut_reads(bps=2_000):
    reads = oracle_reads(Asset.objects.all())
    reads["TSLAx"] = dataclasses.replace(reads["TSLAx"], haircut_bps=bps, session="closed", is_open=False,
                                         apply_to_liquidation_threshold=True)
    return reads


def liquidate(account, reads=None, key="fair"):
    return services.account_liquidate(account_id=account.pk, debt_symbol="USDC", collateral_symbol="TSLAx",
                                      round_key=key, step=1, now=at_borrow_time(), reads=reads)


def test_a_haircut_makes_it_liquidatable_but_seizes_at_the_reference_price(borrower):
    # Healthy at $250; with a 20% haircut on the threshold, $200: HF = 5,200 / 5,400 = 0.962962962962962963.
    event = liquidate(borrower, haircut_reads())
    assert event.health_factor_before == 962_962_962_962_962_963
    # v3.3 close factor at the effective price: $8,000 and $5,400 >= $2,000, HF > 0.95 -> 50%: 2,700 USDC
    assert event.debt_repaid == 2_700 * E6
    # seized at $250: percentMul(2,700 / 250 = 10.8, 10750) = 11.61 TSLAx (fee inside: percentMul(0.81, 1000))
    # (at the cut $200 it would have been 2,700 / 200 x 1.075 = 14.5125 TSLAx)
    assert event.collateral_seized == 1161 * 10**16
    assert event.protocol_fee == 81 * 10**15
    assert event.collateral_price == 250 * 10**8  # the event's price is the seize price
    # HF after, at $200: 28.39 x 200 x 0.65 / 2,700 = 1.366925...
    assert 1_366_925 * 10**12 <= event.health_factor_after < 1_366_926 * 10**12


def test_v4_pool_liquidates_to_the_target_with_the_variable_bonus(borrower):
    pool_update_parameters(actor=make_user(staff=True), changes={"liquidation_engine": "v4"}, reason="compare")
    set_price("TSLAx", "200")  # no haircut: HF 0.962962962962962963 at the market price
    event = liquidate(borrower)
    # bonus: B_min = 10000 + floor(750 x 50%) = 10375; + floor(375 x (1 - 0.96296...) / 0.05) = 277 -> 10652
    # penalty = 1.0652 x 0.65 = 0.69238; debt = ceil(5400e8 x 1e6 x (1.05e18 - HF) / (0.35762e18 x 1e8))
    #   = ceil(1_314_244_169.9...) = 1_314_244_170
    assert event.debt_repaid == 1_314_244_170
    # collateral = floor(1_314_244_170 x 1e8 x 1e18 x 10652 / (1e6 x 200e8 x 1e4)) = 6.99966444942 TSLAx
    # fee = floor(c x 1000 x 652 / (10652 x 10000)) = 0.042844359942 TSLAx
    assert event.collateral_seized == 6_999_664_449_420_000_000
    assert event.protocol_fee == 42_844_359_942_000_000
    # back to the target: 33.00033555058 x 200 x 0.65 / 4,085.75583 = 1.0500000000185
    assert 105 * 10**16 <= event.health_factor_after < 10_501 * 10**14


def test_v4_keeper_with_a_haircut_seizes_at_the_reference_price(borrower):
    pool_update_parameters(actor=make_user(staff=True), changes={"liquidation_engine": "v4"}, reason="compare")
    events = keeper_run(account_ids=[borrower.pk], round_key="v4", reads=haircut_reads())
    assert len(events) == 1
    e = events[0]
    # same HF (at $200 effective), same bonus 10652 and debt to target; collateral at $250 instead:
    # floor(debt x 1e8 x 1e18 x 10652 / (1e6 x 250e8 x 1e4)), so fewer tokens and the HF ends above 1.05
    assert abs(e.debt_repaid - 1_314_244_170) < 1_000  # a few seconds of interest at most
    assert e.collateral_seized == e.debt_repaid * 10**8 * E18 * 10_652 // (E6 * 250 * 10**8 * 10_000)
    assert e.collateral_price == 250 * 10**8
    assert e.health_factor_after > 105 * 10**16
