"""LiquidationLogic v3.3: close factor, bonus, protocol fee, dust rule, deficit flag. Worked by hand."""
import pytest

from core.aave.v3 import (
    DustError,
    PositionValue,
    calculate_account_data,
    max_liquidatable_debt,
    quote_liquidation,
)

E18, E8, E6 = 10**18, 10**8, 10**6


def quote(**overrides):
    base = dict(debt_to_cover=17_000 * E6, user_reserve_debt=17_000 * E6, debt_price=E8, debt_decimals=6,
                user_collateral_balance=100 * E18, collateral_price=225 * E8, collateral_decimals=18,
                liquidation_bonus_bps=10_500, protocol_fee_bps=1_000, total_collateral_base=22_500 * E8,
                total_debt_base=17_000 * E8, health_factor=992_647_058_823_529_412)
    base.update(overrides)
    return quote_liquidation(**base)


def test_worked_scenario_half_close_factor_bonus_and_fee():
    q = quote()
    # HF 0.9926 > 0.95 and both sides >= $2,000: at most 50% of total debt, 8,500 USDC
    assert q.max_liquidatable_debt == 8_500 * E6
    assert q.debt_to_repay == 8_500 * E6
    # base collateral = 8500e6 * 1e8 * 1e18 / (225e8 * 1e6) = 37.777...777 TSLAx (floor)
    # with bonus: percentMul(37777777777777777777, 10500) = 39666666666666666666
    # fee = percentMul(39666666666666666666 - percentDiv(39666666666666666666, 10500), 1000)
    #     = percentMul(1888888888888888889, 1000) = 188888888888888889
    assert q.protocol_fee == 188_888_888_888_888_889
    assert q.collateral_to_liquidator == 39_666_666_666_666_666_666 - 188_888_888_888_888_889
    assert q.collateral_seized == 39_666_666_666_666_666_666
    assert not q.has_no_collateral_left and not q.disables_collateral


def test_full_close_factor_below_095():
    assert max_liquidatable_debt(user_reserve_debt=17_000 * E6, debt_price=E8, debt_decimals=6,
                                 user_collateral_balance=100 * E18, collateral_price=170 * E8, collateral_decimals=18,
                                 total_debt_base=17_000 * E8, health_factor=95 * 10**16) == 17_000 * E6


def test_full_close_factor_when_position_is_small():
    # debt of $1,999 < $2,000: the whole debt may go
    assert max_liquidatable_debt(user_reserve_debt=1_999 * E6, debt_price=E8, debt_decimals=6,
                                 user_collateral_balance=100 * E18, collateral_price=225 * E8,
                                 collateral_decimals=18, total_debt_base=1_999 * E8,
                                 health_factor=99 * 10**16) == 1_999 * E6


def test_collateral_runs_out_repays_percent_div_and_flags_deficit():
    # 10 TSLAx at $100 against 17,000 USDC: seize all collateral
    q = quote(user_collateral_balance=10 * E18, collateral_price=100 * E8, total_collateral_base=1_000 * E8,
              health_factor=10**17)
    assert q.collateral_seized == 10 * E18
    # debt repaid = percentDiv(1000e6, 10500) = 952.380952 USDC (half-up)
    assert q.debt_to_repay == 952_380_952
    assert q.has_no_collateral_left and q.disables_collateral


def test_dust_rule_refuses_small_leftovers():
    # covering 16,500 of 17,000 leaves $500 of debt: refused unless all is cleared
    with pytest.raises(DustError):
        quote(debt_to_cover=16_500 * E6, health_factor=9 * 10**17)
    assert quote(debt_to_cover=17_000 * E6, health_factor=9 * 10**17).debt_to_repay == 17_000 * E6


def test_quote_agrees_with_account_data():
    data = calculate_account_data([
        PositionValue("TSLAx", 18, 225 * E8, supplied=100 * E18, collateral=True, ltv_bps=7_000,
                      liquidation_threshold_bps=7_500),
        PositionValue("USDC", 6, E8, borrowed=17_000 * E6),
    ])
    assert quote(health_factor=data.health_factor, total_collateral_base=data.total_collateral_base,
                 total_debt_base=data.total_debt_base).debt_to_repay == 8_500 * E6
