"""Aave v3.3 reserve, account and liquidation logic on plain integers (no Django).

Amounts are token base units, prices have 8 decimals (Aave's base currency), rates and
indexes are rays, health factors are wads, risk parameters are basis points.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from .wadray import (
    PERCENTAGE_FACTOR,
    RAY,
    SECONDS_PER_YEAR,
    UINT256_MAX,
    bps_to_ray,
    percent_div,
    percent_mul,
    ray_div,
    ray_mul,
    wad_div,
)

BASE_UNIT = 10**8  # USD with 8 decimals
HEALTH_FACTOR_LIQUIDATION_THRESHOLD = 10**18
# LiquidationLogic constants (Aave v3.3)
DEFAULT_LIQUIDATION_CLOSE_FACTOR = 5_000
CLOSE_FACTOR_HF_THRESHOLD = 95 * 10**16
MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD = 2_000 * BASE_UNIT
MIN_LEFTOVER_BASE = MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD // 2


# --- MathUtils -------------------------------------------------------------------------

def linear_interest(rate: int, last_update: int, now: int) -> int:
    """MathUtils.calculateLinearInterest."""
    return RAY + (rate * (now - last_update)) // SECONDS_PER_YEAR


def compounded_interest(rate: int, last_update: int, now: int) -> int:
    """MathUtils.calculateCompoundedInterest: three-term binomial approximation."""
    exp = now - last_update
    if exp == 0:
        return RAY
    exp_minus_one = exp - 1
    exp_minus_two = exp - 2 if exp > 2 else 0
    base_power_two = ray_mul(rate, rate) // (SECONDS_PER_YEAR * SECONDS_PER_YEAR)
    base_power_three = ray_mul(base_power_two, rate) // SECONDS_PER_YEAR
    second_term = exp * exp_minus_one * base_power_two // 2
    third_term = exp * exp_minus_one * exp_minus_two * base_power_three // 6
    return RAY + (rate * exp) // SECONDS_PER_YEAR + second_term + third_term


# --- Interest rate strategy --------------------------------------------------------------

@dataclass(frozen=True)
class RateParams:
    optimal_usage_bps: int
    base_rate_bps: int
    slope1_bps: int
    slope2_bps: int


def calculate_interest_rates(
    *,
    params: RateParams,
    reserve_factor_bps: int,
    virtual_balance: int,
    total_debt: int,
    liquidity_added: int = 0,
    liquidity_taken: int = 0,
) -> tuple[int, int]:
    """DefaultReserveInterestRateStrategyV2.calculateInterestRates -> (liquidity rate, borrow rate)."""
    optimal = bps_to_ray(params.optimal_usage_bps)
    borrow_rate = bps_to_ray(params.base_rate_bps)
    liquidity_rate = 0
    usage = 0
    if total_debt != 0:
        available = virtual_balance + liquidity_added - liquidity_taken
        usage = ray_div(total_debt, available + total_debt)
    if usage > optimal:
        excess = ray_div(usage - optimal, RAY - optimal)
        borrow_rate += bps_to_ray(params.slope1_bps) + ray_mul(bps_to_ray(params.slope2_bps), excess)
    else:
        borrow_rate += ray_div(ray_mul(bps_to_ray(params.slope1_bps), usage), optimal)
    if total_debt != 0:
        liquidity_rate = percent_mul(ray_mul(borrow_rate, usage), PERCENTAGE_FACTOR - reserve_factor_bps)
    return liquidity_rate, borrow_rate


def utilization_ray(*, virtual_balance: int, total_debt: int) -> int:
    if total_debt == 0:
        return 0
    return ray_div(total_debt, virtual_balance + total_debt)


# --- Reserve state (ReserveLogic) ----------------------------------------------------------

@dataclass(frozen=True)
class ReserveState:
    liquidity_index: int = RAY
    variable_borrow_index: int = RAY
    liquidity_rate: int = 0
    variable_borrow_rate: int = 0
    last_update: int = 0
    total_scaled_supply: int = 0
    total_scaled_debt: int = 0
    accrued_to_treasury: int = 0  # scaled, as Aave's reserve.accruedToTreasury
    virtual_balance: int = 0
    deficit: int = 0


def normalized_income(state: ReserveState, now: int) -> int:
    """ReserveLogic.getNormalizedIncome."""
    if state.last_update >= now:
        return state.liquidity_index
    return ray_mul(linear_interest(state.liquidity_rate, state.last_update, now), state.liquidity_index)


def normalized_debt(state: ReserveState, now: int) -> int:
    """ReserveLogic.getNormalizedDebt."""
    if state.last_update >= now:
        return state.variable_borrow_index
    return ray_mul(
        compounded_interest(state.variable_borrow_rate, state.last_update, now), state.variable_borrow_index
    )


def update_state(state: ReserveState, now: int, *, reserve_factor_bps: int) -> ReserveState:
    """ReserveLogic.updateState: _updateIndexes then _accrueToTreasury."""
    if state.last_update == now:
        return state
    if now < state.last_update:
        raise ValueError("time went backwards")
    liquidity_index = state.liquidity_index
    if state.liquidity_rate != 0:
        liquidity_index = ray_mul(
            linear_interest(state.liquidity_rate, state.last_update, now), state.liquidity_index
        )
    borrow_index = state.variable_borrow_index
    if state.total_scaled_debt != 0:
        borrow_index = ray_mul(
            compounded_interest(state.variable_borrow_rate, state.last_update, now), state.variable_borrow_index
        )
    accrued = state.accrued_to_treasury
    if reserve_factor_bps != 0:
        prev_debt = ray_mul(state.total_scaled_debt, state.variable_borrow_index)
        curr_debt = ray_mul(state.total_scaled_debt, borrow_index)
        to_mint = percent_mul(curr_debt - prev_debt, reserve_factor_bps)
        if to_mint != 0:
            accrued += ray_div(to_mint, liquidity_index)
    return replace(
        state,
        liquidity_index=liquidity_index,
        variable_borrow_index=borrow_index,
        accrued_to_treasury=accrued,
        last_update=now,
    )


def update_rates_and_virtual_balance(
    state: ReserveState,
    *,
    params: RateParams,
    reserve_factor_bps: int,
    liquidity_added: int = 0,
    liquidity_taken: int = 0,
) -> ReserveState:
    """ReserveLogic.updateInterestRatesAndVirtualBalance (v3.1+ virtual accounting)."""
    total_debt = ray_mul(state.total_scaled_debt, state.variable_borrow_index)
    liquidity_rate, borrow_rate = calculate_interest_rates(
        params=params,
        reserve_factor_bps=reserve_factor_bps,
        virtual_balance=state.virtual_balance,
        total_debt=total_debt,
        liquidity_added=liquidity_added,
        liquidity_taken=liquidity_taken,
    )
    return replace(
        state,
        liquidity_rate=liquidity_rate,
        variable_borrow_rate=borrow_rate,
        virtual_balance=state.virtual_balance + liquidity_added - liquidity_taken,
    )


# --- Account data (GenericLogic) ------------------------------------------------------------

@dataclass(frozen=True)
class PositionValue:
    """One reserve of an account, with balances already un-scaled."""

    symbol: str
    decimals: int
    price: int  # 8 decimals
    supplied: int = 0
    borrowed: int = 0
    collateral: bool = False
    ltv_bps: int = 0
    liquidation_threshold_bps: int = 0
    debt_price: int | None = None  # upper band for a borrowed stock token; defaults to price


@dataclass(frozen=True)
class AccountData:
    total_collateral_base: int
    total_debt_base: int
    available_borrows_base: int
    avg_ltv_bps: int
    avg_liquidation_threshold_bps: int
    health_factor: int  # wad; UINT256_MAX with no debt

    @property
    def has_debt(self) -> bool:
        return self.total_debt_base != 0


def to_base(amount: int, price: int, decimals: int) -> int:
    # GenericLogic._getUserBalanceInBaseCurrency: (balance * price) / unit, floor
    return amount * price // 10**decimals


def calculate_account_data(positions: Iterable[PositionValue]) -> AccountData:
    """GenericLogic.calculateUserAccountData (no e-mode, no isolation)."""
    total_collateral = total_debt = avg_ltv = avg_lt = 0
    for p in positions:
        if p.collateral and p.liquidation_threshold_bps != 0 and p.supplied:
            value = to_base(p.supplied, p.price, p.decimals)
            total_collateral += value
            avg_ltv += value * p.ltv_bps
            avg_lt += value * p.liquidation_threshold_bps
        if p.borrowed:
            total_debt += to_base(p.borrowed, p.debt_price if p.debt_price is not None else p.price, p.decimals)
    avg_ltv = avg_ltv // total_collateral if total_collateral else 0
    avg_lt = avg_lt // total_collateral if total_collateral else 0
    hf = UINT256_MAX if total_debt == 0 else wad_div(percent_mul(total_collateral, avg_lt), total_debt)
    return AccountData(
        total_collateral_base=total_collateral,
        total_debt_base=total_debt,
        available_borrows_base=available_borrows(total_collateral, total_debt, avg_ltv),
        avg_ltv_bps=avg_ltv,
        avg_liquidation_threshold_bps=avg_lt,
        health_factor=hf,
    )


def available_borrows(total_collateral: int, total_debt: int, ltv_bps: int) -> int:
    """GenericLogic.calculateAvailableBorrows."""
    capacity = percent_mul(total_collateral, ltv_bps)
    return 0 if capacity < total_debt else capacity - total_debt


def borrow_allowed(data: AccountData, *, amount: int, price: int, decimals: int) -> bool:
    """ValidationLogic.validateBorrow: collateral needed for old + new debt at current LTV."""
    if data.total_collateral_base == 0 or data.avg_ltv_bps == 0:
        return False
    if data.health_factor < HEALTH_FACTOR_LIQUIDATION_THRESHOLD:
        return False
    amount_base = price * amount // 10**decimals
    needed = percent_div(data.total_debt_base + amount_base, data.avg_ltv_bps)
    return needed <= data.total_collateral_base


def liquidation_price(
    data: AccountData, position: PositionValue
) -> int | None:
    """Price of one collateral asset at which HF reaches 1, others fixed (8 decimals, floor)."""
    if not data.has_debt or not (position.collateral and position.supplied and position.liquidation_threshold_bps):
        return None
    own = to_base(position.supplied, position.price, position.decimals) * position.liquidation_threshold_bps
    others = data.total_collateral_base * data.avg_liquidation_threshold_bps - own
    need = data.total_debt_base * PERCENTAGE_FACTOR - others
    if need <= 0:
        return 0
    return need * 10**position.decimals // (position.supplied * position.liquidation_threshold_bps)


# --- Liquidation (LiquidationLogic, v3.3) ------------------------------------------------------

class DustError(ValueError):
    """MUST_NOT_LEAVE_DUST."""


@dataclass(frozen=True)
class LiquidationQuote:
    debt_to_repay: int
    collateral_to_liquidator: int
    protocol_fee: int
    collateral_in_base: int
    max_liquidatable_debt: int
    has_no_collateral_left: bool
    disables_collateral: bool
    bonus_bps: int | None = None  # the bonus actually applied (v4's varies with the health factor)

    @property
    def collateral_seized(self) -> int:
        """Everything taken from the account, fee included."""
        return self.collateral_to_liquidator + self.protocol_fee


def max_liquidatable_debt(
    *,
    user_reserve_debt: int,
    debt_price: int,
    debt_decimals: int,
    user_collateral_balance: int,
    collateral_price: int,
    collateral_decimals: int,
    total_debt_base: int,
    health_factor: int,
) -> int:
    """Close factor: 100%, or 50% of total debt when both sides are >= $2,000 and HF > 0.95."""
    debt_base = user_reserve_debt * debt_price // 10**debt_decimals
    coll_base = user_collateral_balance * collateral_price // 10**collateral_decimals
    cap = user_reserve_debt
    if (
        coll_base >= MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD
        and debt_base >= MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD
        and health_factor > CLOSE_FACTOR_HF_THRESHOLD
    ):
        default_base = percent_mul(total_debt_base, DEFAULT_LIQUIDATION_CLOSE_FACTOR)
        if debt_base > default_base:
            cap = default_base * 10**debt_decimals // debt_price
    return cap


def quote_liquidation(
    *,
    debt_to_cover: int,
    user_reserve_debt: int,
    debt_price: int,
    debt_decimals: int,
    user_collateral_balance: int,
    collateral_price: int,
    collateral_decimals: int,
    liquidation_bonus_bps: int,
    protocol_fee_bps: int,
    total_collateral_base: int,
    total_debt_base: int,
    health_factor: int,
    seize_price: int | None = None,
) -> LiquidationQuote:
    """LiquidationLogic.executeLiquidationCall's arithmetic, without moving anything.

    `collateral_price` is the oracle's effective price (haircut included), the one the health factor and
    `total_collateral_base` were computed with: it decides the close factor's $2,000 test and whether the
    account's collateral is all gone. `seize_price` (default: `collateral_price`) converts the debt repaid
    into collateral and values the dust leftovers, so a haircut never hands the liquidator extra tokens
    (DESIGN.md s2, "Which prices a liquidation uses")."""
    if seize_price is None:
        seize_price = collateral_price
    cap = max_liquidatable_debt(
        user_reserve_debt=user_reserve_debt,
        debt_price=debt_price,
        debt_decimals=debt_decimals,
        user_collateral_balance=user_collateral_balance,
        collateral_price=collateral_price,
        collateral_decimals=collateral_decimals,
        total_debt_base=total_debt_base,
        health_factor=health_factor,
    )
    debt = min(debt_to_cover, cap)
    c_unit, d_unit = 10**collateral_decimals, 10**debt_decimals
    # _calculateAvailableCollateralToLiquidate
    base_collateral = (debt_price * debt * c_unit) // (seize_price * d_unit)
    max_collateral = percent_mul(base_collateral, liquidation_bonus_bps)
    if max_collateral > user_collateral_balance:
        collateral = user_collateral_balance
        debt = percent_div(
            (seize_price * collateral * d_unit) // (debt_price * c_unit), liquidation_bonus_bps
        )
    else:
        collateral = max_collateral
    # at the price total_collateral_base was computed with: "all collateral gone" compares like with like
    collateral_base = collateral * collateral_price // c_unit
    fee = 0
    if protocol_fee_bps:
        bonus_collateral = collateral - percent_div(collateral, liquidation_bonus_bps)
        fee = percent_mul(bonus_collateral, protocol_fee_bps)
        collateral -= fee
    # Dust rule: clear the debt, or the collateral, or leave >= $1,000 of both.
    if debt < user_reserve_debt and collateral + fee < user_collateral_balance:
        debt_left = (user_reserve_debt - debt) * debt_price // d_unit
        coll_left = (user_collateral_balance - collateral - fee) * seize_price // c_unit
        if debt_left < MIN_LEFTOVER_BASE or coll_left < MIN_LEFTOVER_BASE:
            raise DustError("liquidation would leave less than $1,000 of debt or collateral")
    return LiquidationQuote(
        debt_to_repay=debt,
        collateral_to_liquidator=collateral,
        protocol_fee=fee,
        collateral_in_base=collateral_base,
        max_liquidatable_debt=cap,
        has_no_collateral_left=total_collateral_base == collateral_base,
        disables_collateral=collateral + fee == user_collateral_balance,
        bonus_bps=liquidation_bonus_bps,
    )

