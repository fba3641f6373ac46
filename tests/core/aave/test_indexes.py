"""MathUtils interest and ReserveLogic.updateState, worked by hand."""
from hypothesis import given
from hypothesis import strategies as st

from core.aave.v3 import (
    ReserveState,
    compounded_interest,
    linear_interest,
    normalized_debt,
    normalized_income,
    update_state,
)
from core.aave.wadray import RAY, SECONDS_PER_YEAR, percent_mul, ray_div, ray_mul

TEN_PCT = RAY // 10


def test_linear_interest_one_year_at_ten_percent():
    assert linear_interest(TEN_PCT, 0, SECONDS_PER_YEAR) == RAY + TEN_PCT


def test_linear_interest_floors():
    # 1 second at 10%: 1e26 / 31536000 = 3170979198376458650.431... -> floor
    assert linear_interest(TEN_PCT, 0, 1) == RAY + 3170979198376458650


def test_compounded_interest_one_year_by_hand():
    r, t, year = TEN_PCT, SECONDS_PER_YEAR, SECONDS_PER_YEAR
    p2 = ray_mul(r, r) // (year * year)
    p3 = ray_mul(p2, r) // year
    expected = RAY + r * t // year + t * (t - 1) * p2 // 2 + t * (t - 1) * (t - 2) * p3 // 6
    assert compounded_interest(r, 0, t) == expected
    # Binomial approximation of e^0.1 (1.10517...): 1 + 0.1 + 0.005 + third term, where Aave's integer
    # division truncates basePowerThree from 31.88 to 31, so the third term is 0.000162, not 0.000167.
    assert expected == 1_105_162_042_821_782_412_575_504_000


def test_compounded_interest_zero_and_small_exponents():
    assert compounded_interest(TEN_PCT, 5, 5) == RAY
    assert compounded_interest(TEN_PCT, 0, 1) == RAY + TEN_PCT // SECONDS_PER_YEAR
    # exp = 2: third term is zero (expMinusTwo = 0)
    r = TEN_PCT
    p2 = ray_mul(r, r) // (SECONDS_PER_YEAR**2)
    assert compounded_interest(r, 0, 2) == RAY + r * 2 // SECONDS_PER_YEAR + 2 * 1 * p2 // 2


def test_update_state_accrues_indexes_and_treasury():
    state = ReserveState(liquidity_rate=TEN_PCT // 2, variable_borrow_rate=TEN_PCT, last_update=0,
                         total_scaled_supply=2_000 * 10**6, total_scaled_debt=1_000 * 10**6,
                         virtual_balance=1_000 * 10**6)
    new = update_state(state, SECONDS_PER_YEAR, reserve_factor_bps=1_000)
    assert new.liquidity_index == ray_mul(linear_interest(TEN_PCT // 2, 0, SECONDS_PER_YEAR), RAY)
    assert new.variable_borrow_index == ray_mul(compounded_interest(TEN_PCT, 0, SECONDS_PER_YEAR), RAY)
    interest = ray_mul(1_000 * 10**6, new.variable_borrow_index) - 1_000 * 10**6
    assert new.accrued_to_treasury == ray_div(percent_mul(interest, 1_000), new.liquidity_index)
    assert new.last_update == SECONDS_PER_YEAR
    # same timestamp: nothing changes
    assert update_state(new, SECONDS_PER_YEAR, reserve_factor_bps=1_000) is new


def test_no_debt_leaves_borrow_index_alone():
    state = ReserveState(variable_borrow_rate=TEN_PCT, last_update=0)
    assert update_state(state, 1000, reserve_factor_bps=1_000).variable_borrow_index == RAY


@given(st.integers(0, 10 * RAY), st.integers(0, 10 * RAY), st.integers(1, 10 * SECONDS_PER_YEAR))
def test_indexes_never_decrease(liquidity_rate, borrow_rate, dt):
    state = ReserveState(liquidity_rate=liquidity_rate, variable_borrow_rate=borrow_rate, last_update=100,
                         total_scaled_debt=10**9)
    new = update_state(state, 100 + dt, reserve_factor_bps=1_000)
    assert new.liquidity_index >= state.liquidity_index
    assert new.variable_borrow_index >= state.variable_borrow_index
    assert normalized_income(state, 100 + dt) == new.liquidity_index
    assert normalized_debt(state, 100 + dt) == new.variable_borrow_index
