"""The foundation issue's hand-worked scenario, through the real services, to the unit.

Supply 100 TSLAx at $250 (LTV 70%, LT 75%, bonus 5%, fee 10%), borrow 17,000 USDC, drop TSLAx to $225,
liquidate. Every figure below is computed by hand in tests/protocol/test_health.py and test_liquidation.py."""
import pytest

from lending import services
from lending.models import LiquidationEvent, Position, WalletBalance
from lending.selectors import account_health
from markets.models import Reserve
from markets.services import now_seconds, reserve_update_parameters
from tests.factories import fund_and_supply, make_account, make_universe, make_user, set_price

pytestmark = pytest.mark.django_db
E18, E6 = 10**18, 10**6


@pytest.fixture
def borrower():
    make_universe()
    reserve_update_parameters(symbol="TSLAx", actor=make_user(staff=True), reason="scenario",
                              changes=dict(ltv_bps=7_000, liquidation_threshold_bps=7_500,
                                           liquidation_bonus_bps=10_500, liquidation_protocol_fee_bps=1_000))
    set_price("TSLAx", "250")
    return make_account()


def test_worked_scenario_to_the_unit(borrower):
    now = now_seconds() + 5  # one instant: no interest accrues between steps
    fund_and_supply(borrower, "TSLAx", "100")
    position = Position.objects.get(account=borrower, reserve__asset__symbol="TSLAx")
    assert position.collateral_enabled  # first supply switches collateral on
    services.account_borrow(account=borrower, symbol="USDC", amount=17_000 * E6, now=now)

    health = account_health(borrower, now=now)
    assert health.by_lt.total_collateral_base == 25_000 * 10**8
    assert health.health_factor == 1_102_941_176_470_588_235
    assert health.by_ltv.available_borrows_base == 500 * 10**8

    set_price("TSLAx", "225")
    assert account_health(borrower, now=now).health_factor == 992_647_058_823_529_412

    event = services.account_liquidate(account_id=borrower.pk, debt_symbol="USDC", collateral_symbol="TSLAx",
                                       round_key="scenario", step=1, now=now)
    assert event.debt_repaid == 8_500 * E6
    assert event.collateral_seized == 39_666_666_666_666_666_666
    assert event.protocol_fee == 188_888_888_888_888_889
    assert event.health_factor_before == 992_647_058_823_529_412
    # after: 60.333... TSLAx x 225 x 75% / 8,500
    left = 100 * E18 - 39_666_666_666_666_666_666
    coll_base = left * 225 * 10**8 // E18
    expected_hf = (coll_base * 7_500 + 5_000) // 10_000 * E18
    expected_hf = (expected_hf + 8_500 * 10**8 // 2) // (8_500 * 10**8)
    assert event.health_factor_after == expected_hf

    keeper = services.keeper_account()
    assert WalletBalance.objects.get(account=keeper, asset__symbol="TSLAx").amount == \
        39_666_666_666_666_666_666 - 188_888_888_888_888_889
    treasury_tsla = Position.objects.get(account=services.treasury_account(), reserve__asset__symbol="TSLAx")
    assert treasury_tsla.scaled_supply == 188_888_888_888_888_889  # index is still 1 ray


def test_same_step_twice_liquidates_once(borrower):
    now = now_seconds() + 5
    fund_and_supply(borrower, "TSLAx", "100")
    services.account_borrow(account=borrower, symbol="USDC", amount=17_000 * E6, now=now)
    set_price("TSLAx", "225")
    kwargs = dict(account_id=borrower.pk, debt_symbol="USDC", collateral_symbol="TSLAx", round_key="r1", step=1,
                  now=now)
    first = services.account_liquidate(**kwargs)
    second = services.account_liquidate(**kwargs)
    assert first.pk == second.pk
    assert LiquidationEvent.objects.count() == 1


def test_healthy_account_is_not_liquidatable(borrower):
    fund_and_supply(borrower, "TSLAx", "100")
    services.account_borrow(account=borrower, symbol="USDC", amount=17_000 * E6)
    with pytest.raises(services.NotLiquidatable):
        services.account_liquidate(account_id=borrower.pk, debt_symbol="USDC", collateral_symbol="TSLAx",
                                   round_key="r", step=1)


def test_collateral_wipeout_records_deficit(borrower):
    now = now_seconds() + 5
    fund_and_supply(borrower, "TSLAx", "100")
    services.account_borrow(account=borrower, symbol="USDC", amount=17_000 * E6, now=now)
    set_price("TSLAx", "100")  # $10,000 of collateral against $17,000 of debt
    event = services.account_liquidate(account_id=borrower.pk, debt_symbol="USDC", collateral_symbol="TSLAx",
                                       round_key="crash", step=1, now=now)
    assert event.collateral_seized == 100 * E18
    # repaid = percentDiv(10,000 USDC, 10500) = 9,523.809524 USDC; the rest becomes deficit
    assert event.debt_repaid == 9_523_809_524
    assert event.deficit == 17_000 * E6 - 9_523_809_524
    usdc = Reserve.objects.get(asset__symbol="USDC")
    assert usdc.deficit == event.deficit
    position = Position.objects.get(account=borrower, reserve=usdc)
    assert position.scaled_debt == 0
    assert account_health(borrower, now=now).health_factor is None
