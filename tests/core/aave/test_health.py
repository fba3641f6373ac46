"""GenericLogic: health factor, average LT/LTV, borrowing power. Worked scenario from the foundation issue:
100 TSLAx at $250 (LTV 70%, LT 75%), 17,000 USDC borrowed, then TSLAx drops to $225."""
from core.aave.v3 import (
    PositionValue,
    available_borrows,
    borrow_allowed,
    calculate_account_data,
    liquidation_price,
)
from core.aave.wadray import UINT256_MAX

E18, E8, E6 = 10**18, 10**8, 10**6


def tsla(price_usd: int) -> PositionValue:
    return PositionValue("TSLAx", 18, price_usd * E8, supplied=100 * E18, collateral=True, ltv_bps=7_000,
                         liquidation_threshold_bps=7_500)


USDC_DEBT = PositionValue("USDC", 6, E8, borrowed=17_000 * E6, ltv_bps=7_500, liquidation_threshold_bps=7_800)


def test_health_factor_at_250():
    data = calculate_account_data([tsla(250), USDC_DEBT])
    assert data.total_collateral_base == 25_000 * E8
    assert data.total_debt_base == 17_000 * E8
    assert data.avg_liquidation_threshold_bps == 7_500
    # wadDiv(percentMul(25000e8, 7500), 17000e8) = 1.875/1.7 = 1.10294117647058823529 -> half-up
    assert data.health_factor == 1_102_941_176_470_588_235
    # borrowing power: 25,000 x 70% - 17,000 = 500 USD
    assert data.available_borrows_base == 500 * E8


def test_health_factor_at_225_is_below_one():
    data = calculate_account_data([tsla(225), USDC_DEBT])
    # 1.6875/1.7 = 0.992647058823529411764... -> rounds half-up to ...412
    assert data.health_factor == 992_647_058_823_529_412


def test_no_debt_is_unbounded():
    assert calculate_account_data([tsla(250)]).health_factor == UINT256_MAX


def test_average_threshold_is_value_weighted_and_floored():
    a = PositionValue("A", 18, 3 * E8, supplied=E18, collateral=True, ltv_bps=5_000, liquidation_threshold_bps=6_000)
    b = PositionValue("B", 18, 7 * E8, supplied=E18, collateral=True, ltv_bps=7_000, liquidation_threshold_bps=7_777)
    data = calculate_account_data([a, b])
    # (3*6000 + 7*7777) / 10 = 7243.9 -> 7243
    assert data.avg_liquidation_threshold_bps == 7_243
    assert data.avg_ltv_bps == 6_400


def test_collateral_off_or_zero_threshold_does_not_count():
    off = PositionValue("A", 18, E8, supplied=E18, collateral=False, ltv_bps=5_000, liquidation_threshold_bps=6_000)
    zero = PositionValue("B", 18, E8, supplied=E18, collateral=True, ltv_bps=0, liquidation_threshold_bps=0)
    assert calculate_account_data([off, zero]).total_collateral_base == 0


def test_borrow_allowed_uses_percent_div_of_old_plus_new_debt():
    data = calculate_account_data([tsla(250)])
    # 17,500 USDC needs percentDiv(17500e8, 7000) = 25,000e8 <= 25,000e8: allowed; one more unit is not
    assert borrow_allowed(data, amount=17_500 * E6, price=E8, decimals=6)
    assert not borrow_allowed(data, amount=17_500 * E6 + 1, price=E8, decimals=6)


def test_available_borrows_never_negative():
    assert available_borrows(100, 200, 5_000) == 0


def test_liquidation_price_brings_hf_to_one():
    data = calculate_account_data([tsla(250), USDC_DEBT])
    price = liquidation_price(data, tsla(250))
    # 17,000 / (100 x 0.75) = 226.6666 USD
    assert price == 22_666_666_666
    assert calculate_account_data([PositionValue("TSLAx", 18, price + 1, supplied=100 * E18, collateral=True,
                                                 ltv_bps=7_000, liquidation_threshold_bps=7_500),
                                   USDC_DEBT]).health_factor >= E18
