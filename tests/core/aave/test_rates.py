"""DefaultReserveInterestRateStrategyV2, with DESIGN.md's worked table (optimal 80%, base 1%, 4%/60%, RF 10%)."""
import pytest

from core.aave.v3 import RateParams, calculate_interest_rates
from core.aave.wadray import RAY

PARAMS = RateParams(optimal_usage_bps=8_000, base_rate_bps=100, slope1_bps=400, slope2_bps=6_000)


def pct(value: str) -> int:
    """A percentage as an exact ray."""
    whole, _, frac = value.partition(".")
    return (int(whole) * 10**4 + int(frac.ljust(4, "0"))) * RAY // 10**6


@pytest.mark.parametrize(
    "usage_pct, borrow, supply",
    [(80, "5", "3.6"), (90, "35", "28.35"), (100, "65", "58.5"), (40, "3", "1.08"), (0, "1", "0")],
)
def test_worked_rates(usage_pct, borrow, supply):
    total = 1_000_000 * 10**6
    debt = total * usage_pct // 100
    liquidity_rate, borrow_rate = calculate_interest_rates(
        params=PARAMS, reserve_factor_bps=1_000, virtual_balance=total - debt, total_debt=debt
    )
    assert borrow_rate == pct(borrow)
    assert liquidity_rate == pct(supply)


def test_liquidity_added_and_taken_move_usage():
    # 800 borrowed of 1000; taking 100 more makes usage 900/1000 = 90%
    _, borrow_rate = calculate_interest_rates(
        params=PARAMS, reserve_factor_bps=1_000, virtual_balance=200, total_debt=900, liquidity_taken=100
    )
    assert borrow_rate == pct("35")


def test_no_debt_gives_base_rate_and_zero_supply_rate():
    liquidity_rate, borrow_rate = calculate_interest_rates(
        params=PARAMS, reserve_factor_bps=1_000, virtual_balance=10**12, total_debt=0
    )
    assert (liquidity_rate, borrow_rate) == (0, pct("1"))
