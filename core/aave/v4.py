"""Aave v4 liquidations (spoke LiquidationLogic, 2025) on plain integers, beside v3.3 (no Django).

What differs from v3.3 (DESIGN.md s2, "Liquidation as Aave v4 does it"):
- no close factor: the debt repaid is the least of the offer, the debt balance and the debt that brings the
  health factor back to the pool's target T;
- a variable bonus: B_max at HF <= h_max, falling linearly to B_min = 100% + (B_max - 100%) * f at HF = 1;
- dust: a debt leftover under $1,000 is repaid in full; a collateral leftover under $1,000 (while debt remains)
  is seized in full and the debt recomputed; an offer too small for that is refused (MustNotLeaveDust);
- the protocol fee is fee * (bonus - 100%) / bonus of the collateral seized.

Rounding is the source's: mulDivDown / mulDivUp and percentMulDown / percentMulUp, never half-up.
Units as in core.aave.v3: base units, 8-decimal prices, wad health factors, bps. Aave v4 values debt in
26 decimals (price.toWad()); our account data is v3's 8-decimal base, so `total_debt_base * 1e18` stands in for
v4's `totalDebtValue` and the 1e18 factors cancel in the target formula.
"""
from __future__ import annotations

from dataclasses import dataclass

from .v3 import HEALTH_FACTOR_LIQUIDATION_THRESHOLD, DustError, LiquidationQuote
from .wadray import PERCENTAGE_FACTOR, WAD

# LiquidationLogic.DUST_LIQUIDATION_THRESHOLD: $1,000 in 26 decimals (8-decimal price x wad)
DUST_LIQUIDATION_THRESHOLD = 1_000 * 10**26
BPS_TO_WAD = 10**14  # WadRayMath.bpsToWad


class PoolConfigError(ValueError):
    """A pool or reserve configuration Aave v4 refuses (SpokeConfigurator / Spoke validation)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class InsufficientDebtToCover(DustError):
    """LiquidationLogic's MustNotLeaveDust: the offer covers less than the debt the dust rules require.

    A keeper always offers the whole debt and never meets it; an API liquidator who offers too little does."""

    def __init__(self, message: str, *, required: int):
        super().__init__(message)
        self.required = required


@dataclass(frozen=True)
class PoolParameters:
    """Spoke LiquidationConfig. The simulator's defaults (Aave publishes none): T = 1.05, f = 50%, h_max = 0.95."""

    target_health_factor: int = 105 * 10**16  # wad
    liquidation_bonus_factor_bps: int = 5_000
    health_factor_for_max_bonus: int = 95 * 10**16  # wad

    def __post_init__(self):
        validate_pool_parameters(self)

    @classmethod
    def from_bps(cls, *, target_health_factor_bps: int, liquidation_bonus_factor_bps: int,
                 health_factor_for_max_bonus_bps: int) -> PoolParameters:
        """From the pool row's bps (10500 = 1.05): health factors widen to wad as bps * 1e14."""
        return cls(target_health_factor=target_health_factor_bps * BPS_TO_WAD,
                   liquidation_bonus_factor_bps=liquidation_bonus_factor_bps,
                   health_factor_for_max_bonus=health_factor_for_max_bonus_bps * BPS_TO_WAD)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_pool_parameters(pool: PoolParameters) -> None:
    """SpokeConfigurator's liquidation config checks: T >= 1, h_max < 1, 0 <= f <= 100%."""
    checks = (
        ("target_health_factor", pool.target_health_factor >= HEALTH_FACTOR_LIQUIDATION_THRESHOLD
         if _is_int(pool.target_health_factor) else False, "The target health factor must be at least 1."),
        ("health_factor_for_max_bonus", 0 <= pool.health_factor_for_max_bonus < HEALTH_FACTOR_LIQUIDATION_THRESHOLD
         if _is_int(pool.health_factor_for_max_bonus) else False,
         "The health factor for the maximum bonus must be below 1."),
        ("liquidation_bonus_factor_bps", 0 <= pool.liquidation_bonus_factor_bps <= PERCENTAGE_FACTOR
         if _is_int(pool.liquidation_bonus_factor_bps) else False,
         "The liquidation bonus factor must be between 0% and 100%."),
    )
    for field, ok, message in checks:
        if not ok:
            raise PoolConfigError(message, field)


def percent_mul_up(value: int, percentage: int) -> int:
    """PercentageMath.percentMulUp."""
    return -(-value * percentage // PERCENTAGE_FACTOR)


def _mul_div_up(x: int, y: int, d: int) -> int:
    return -(-x * y // d)


def validate_collateral(*, max_bonus_bps: int, collateral_factor_bps: int) -> None:
    """Spoke._validateDynamicReserveConfig: B_max >= 100% and percentMulUp(B_max, CF) < 100% strictly (v3.3
    allows equality; v4's target formula would divide by zero)."""
    if max_bonus_bps < PERCENTAGE_FACTOR:
        raise PoolConfigError("The maximum liquidation bonus must be at least 100%.", "liquidation_bonus_bps")
    if percent_mul_up(max_bonus_bps, collateral_factor_bps) >= PERCENTAGE_FACTOR:
        raise PoolConfigError(
            "Under Aave v4 the liquidation bonus times the liquidation threshold must stay below 100% "
            f"(it is {max_bonus_bps} x {collateral_factor_bps} bps).", "liquidation_threshold_bps")


def variable_bonus_bps(*, max_bonus_bps: int, health_factor: int, pool: PoolParameters) -> int:
    """LiquidationLogic.calculateLiquidationBonus: B_max at HF <= h_max, else linear from B_min at HF = 1
    (both rounded down). At HF >= 1 (not liquidatable; Solidity would underflow) this gives B_min."""
    if health_factor <= pool.health_factor_for_max_bonus:
        return max_bonus_bps
    min_bonus = (max_bonus_bps - PERCENTAGE_FACTOR) * pool.liquidation_bonus_factor_bps // PERCENTAGE_FACTOR \
        + PERCENTAGE_FACTOR
    if health_factor >= HEALTH_FACTOR_LIQUIDATION_THRESHOLD:
        return min_bonus
    return min_bonus + (max_bonus_bps - min_bonus) * (HEALTH_FACTOR_LIQUIDATION_THRESHOLD - health_factor) // (
        HEALTH_FACTOR_LIQUIDATION_THRESHOLD - pool.health_factor_for_max_bonus)


def debt_to_target(*, total_debt_base: int, health_factor: int, bonus_bps: int, collateral_factor_bps: int,
                   debt_price: int, debt_decimals: int, pool: PoolParameters) -> int:
    """LiquidationLogic._calculateDebtToTargetHealthFactor (rounded up):
    totalDebt * (T - HF) / ((T - percentMulUp(bonus in wad, CF)) * debtPrice), in debt base units."""
    penalty = percent_mul_up(bonus_bps * BPS_TO_WAD, collateral_factor_bps)
    target = pool.target_health_factor
    return _mul_div_up(total_debt_base * 10**debt_decimals, target - health_factor, (target - penalty) * debt_price)


def _value_26(amount: int, price: int, decimals: int) -> int:
    # amount.mulDivDown(price.toWad(), unit): value in 26 decimals, as v4 compares against the dust threshold
    return amount * price * WAD // 10**decimals


def _debt_to_liquidate(*, debt_to_cover: int, user_reserve_debt: int, to_target: int, debt_price: int,
                       debt_decimals: int) -> int:
    """LiquidationLogic._calculateDebtToLiquidate: min(offer, balance, debt to target); the whole balance if
    what is left would be dust (the target is bypassed)."""
    debt = min(debt_to_cover, user_reserve_debt, to_target)
    if debt < user_reserve_debt and \
            _value_26(user_reserve_debt - debt, debt_price, debt_decimals) < DUST_LIQUIDATION_THRESHOLD:
        debt = user_reserve_debt
    return debt


def quote_liquidation(
    *,
    debt_to_cover: int,
    user_reserve_debt: int,
    debt_price: int,
    debt_decimals: int,
    user_collateral_balance: int,
    collateral_price: int,
    collateral_decimals: int,
    max_bonus_bps: int,
    collateral_factor_bps: int,
    protocol_fee_bps: int,
    total_collateral_base: int,
    total_debt_base: int,
    health_factor: int,
    pool: PoolParameters,
    seize_price: int | None = None,
) -> LiquidationQuote:
    """LiquidationLogic._calculateLiquidationAmounts (Aave v4), without moving anything.

    `health_factor`, `total_debt_base` and `total_collateral_base` are at the oracle's effective prices: they
    set the bonus and the debt to the target. `seize_price` (default: `collateral_price`) converts debt into
    collateral and values the collateral leftover (DESIGN.md s2, "Which prices a liquidation uses").
    `collateral_factor_bps` is the reserve's liquidation threshold. Raises InsufficientDebtToCover when the
    offer is below what the dust rules require."""
    if health_factor >= HEALTH_FACTOR_LIQUIDATION_THRESHOLD:
        raise ValueError("health factor is not below 1")  # HealthFactorNotBelowThreshold
    validate_collateral(max_bonus_bps=max_bonus_bps, collateral_factor_bps=collateral_factor_bps)
    if seize_price is None:
        seize_price = collateral_price
    c_unit, d_unit = 10**collateral_decimals, 10**debt_decimals
    bonus = variable_bonus_bps(max_bonus_bps=max_bonus_bps, health_factor=health_factor, pool=pool)
    to_target = debt_to_target(total_debt_base=total_debt_base, health_factor=health_factor, bonus_bps=bonus,
                               collateral_factor_bps=collateral_factor_bps, debt_price=debt_price,
                               debt_decimals=debt_decimals, pool=pool)
    cap = _debt_to_liquidate(debt_to_cover=user_reserve_debt, user_reserve_debt=user_reserve_debt,
                             to_target=to_target, debt_price=debt_price, debt_decimals=debt_decimals)
    debt = _debt_to_liquidate(debt_to_cover=debt_to_cover, user_reserve_debt=user_reserve_debt,
                              to_target=to_target, debt_price=debt_price, debt_decimals=debt_decimals)
    # collateral = debt * debtPrice * cUnit * bonus / (dUnit * collPrice * 100%), down
    collateral = debt * debt_price * c_unit * bonus // (d_unit * seize_price * PERCENTAGE_FACTOR)
    leaves_collateral_dust = collateral < user_collateral_balance and _value_26(
        user_collateral_balance - collateral, seize_price, collateral_decimals) < DUST_LIQUIDATION_THRESHOLD
    if collateral > user_collateral_balance or (leaves_collateral_dust and debt < user_reserve_debt):
        # seize it all and recompute the debt for it, up
        collateral = user_collateral_balance
        debt = _mul_div_up(collateral, seize_price * d_unit * PERCENTAGE_FACTOR, debt_price * c_unit * bonus)
    if debt_to_cover < debt:
        raise InsufficientDebtToCover(
            f"This liquidation must repay at least {debt} base units so as not to leave dust.", required=debt)
    # the protocol's share of the bonus: collateral * fee * (bonus - 100%) / (bonus * 100%), down
    fee = collateral * protocol_fee_bps * (bonus - PERCENTAGE_FACTOR) // (bonus * PERCENTAGE_FACTOR)
    collateral_base = collateral * collateral_price // c_unit
    return LiquidationQuote(
        debt_to_repay=debt,
        collateral_to_liquidator=collateral - fee,
        protocol_fee=fee,
        collateral_in_base=collateral_base,
        max_liquidatable_debt=cap,
        # _evaluateDeficit: the account's only collateral is emptied (compared at the effective price, as
        # total_collateral_base is)
        has_no_collateral_left=collateral == user_collateral_balance and total_collateral_base == collateral_base,
        disables_collateral=collateral == user_collateral_balance,
        bonus_bps=bonus,
    )
