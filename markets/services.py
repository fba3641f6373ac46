"""Writes for markets: risk parameters (validated, audited), reserve accrual, the default universe."""
from __future__ import annotations

import time
from dataclasses import asdict
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.errors import DomainError, ValidationFailed
from common.services import audit_record, audit_reverter, audit_unchanged_since
from core.aave.v3 import RateParams, ReserveState, update_rates_and_virtual_balance, update_state
from core.aave.wadray import PERCENTAGE_FACTOR, percent_mul

from .models import Asset, Reserve

# PoolConfigurator / ReserveConfiguration bounds
MAX_VALID_CAP = 68_719_476_735
MAX_BORROW_RATE_BPS = 100_000  # DefaultReserveInterestRateStrategyV2.MAX_BORROW_RATE (1000%)
MIN_OPTIMAL_BPS, MAX_OPTIMAL_BPS = 100, 9_900
MAX_BPS_FIELD = 65_535


def now_seconds() -> int:
    return int(time.time())


def validate_reserve_config(cfg: dict) -> dict[str, str]:
    """PoolConfigurator's checks, applied to the whole configuration that a change would produce."""
    errors: dict[str, str] = {}
    ltv, lt, bonus = cfg["ltv_bps"], cfg["liquidation_threshold_bps"], cfg["liquidation_bonus_bps"]
    for name in ("ltv_bps", "liquidation_threshold_bps", "liquidation_bonus_bps", "liquidation_protocol_fee_bps",
                 "reserve_factor_bps", "optimal_usage_bps", "base_rate_bps", "slope1_bps", "slope2_bps"):
        if not 0 <= cfg[name] <= MAX_BPS_FIELD:
            errors[name] = f"{name} must be between 0 and {MAX_BPS_FIELD} bps."
    if errors:
        return errors
    if ltv > lt:
        errors["ltv_bps"] = f"LTV ({ltv} bps) cannot exceed the liquidation threshold ({lt} bps)."
    if lt > PERCENTAGE_FACTOR:
        errors["liquidation_threshold_bps"] = "The liquidation threshold cannot exceed 100% (10000 bps)."
    if lt != 0:
        if bonus <= PERCENTAGE_FACTOR:
            errors["liquidation_bonus_bps"] = (
                f"The liquidation bonus must be above 100% (10000 bps); {bonus} would pay liquidators nothing."
            )
        elif percent_mul(lt, bonus) > PERCENTAGE_FACTOR:
            errors["liquidation_bonus_bps"] = (
                f"Threshold x bonus is {percent_mul(lt, bonus)} bps, above 100%: a liquidation at the threshold "
                "could not pay the bonus. Lower the bonus or the threshold."
            )
    if cfg["reserve_factor_bps"] > PERCENTAGE_FACTOR:
        errors["reserve_factor_bps"] = "The reserve factor cannot exceed 100% (10000 bps)."
    if cfg["liquidation_protocol_fee_bps"] > PERCENTAGE_FACTOR:
        errors["liquidation_protocol_fee_bps"] = "The liquidation protocol fee cannot exceed 100% (10000 bps)."
    if not MIN_OPTIMAL_BPS <= cfg["optimal_usage_bps"] <= MAX_OPTIMAL_BPS:
        errors["optimal_usage_bps"] = "Optimal usage must be between 1% and 99% (100-9900 bps)."
    if cfg["slope1_bps"] > cfg["slope2_bps"]:
        errors["slope1_bps"] = "slope1 cannot exceed slope2: the curve must steepen past the kink."
    if cfg["base_rate_bps"] + cfg["slope1_bps"] + cfg["slope2_bps"] > MAX_BORROW_RATE_BPS:
        errors["slope2_bps"] = "base rate + slope1 + slope2 cannot exceed 1000% (100000 bps)."
    for cap in ("supply_cap", "borrow_cap"):
        if not 0 <= cfg[cap] <= MAX_VALID_CAP:
            errors[cap] = f"{cap} must be between 0 (no cap) and {MAX_VALID_CAP} whole tokens."
    return errors


def reserve_state(reserve: Reserve) -> ReserveState:
    return ReserveState(
        liquidity_index=reserve.liquidity_index,
        variable_borrow_index=reserve.variable_borrow_index,
        liquidity_rate=reserve.liquidity_rate,
        variable_borrow_rate=reserve.variable_borrow_rate,
        last_update=reserve.last_update,
        total_scaled_supply=reserve.total_scaled_supply,
        total_scaled_debt=reserve.total_scaled_debt,
        accrued_to_treasury=reserve.accrued_to_treasury,
        virtual_balance=reserve.virtual_balance,
        deficit=reserve.deficit,
    )


def reserve_apply_state(reserve: Reserve, state: ReserveState) -> None:
    for key, value in asdict(state).items():
        setattr(reserve, key, value)


def rate_params(reserve: Reserve) -> RateParams:
    return RateParams(reserve.optimal_usage_bps, reserve.base_rate_bps, reserve.slope1_bps, reserve.slope2_bps)


def reserve_accrue(*, reserve: Reserve, now: int | None = None) -> Reserve:
    """ReserveLogic.updateState on a locked reserve row; the caller saves it."""
    now = now_seconds() if now is None else now
    if reserve.last_update == 0:
        reserve.last_update = now
        return reserve
    if now > reserve.last_update:
        reserve_apply_state(reserve, update_state(reserve_state(reserve), now,
                                                  reserve_factor_bps=reserve.reserve_factor_bps))
    return reserve


def reserve_update_rates(*, reserve: Reserve, liquidity_added: int = 0, liquidity_taken: int = 0) -> Reserve:
    state = update_rates_and_virtual_balance(
        reserve_state(reserve), params=rate_params(reserve), reserve_factor_bps=reserve.reserve_factor_bps,
        liquidity_added=liquidity_added, liquidity_taken=liquidity_taken,
    )
    reserve_apply_state(reserve, state)
    return reserve


def reserves_accrue_all(*, now: int | None = None) -> int:
    """Accrue every reserve: O(number of reserves), never O(positions)."""
    now = now_seconds() if now is None else now
    count = 0
    with transaction.atomic():
        for reserve in Reserve.objects.select_for_update().order_by("pk"):
            reserve_accrue(reserve=reserve, now=now)
            reserve.save()
            count += 1
    return count


@transaction.atomic
def reserve_update_parameters(*, symbol: str, actor, changes: dict, reason: str) -> Reserve:
    """The one path for a risk-parameter change: validate the resulting config, write, audit."""
    if not (reason or "").strip():
        raise ValidationFailed({"reason": "A reason is required for every parameter change."})
    unknown = set(changes) - set(Reserve.PARAMETER_FIELDS)
    if unknown:
        raise ValidationFailed({sorted(unknown)[0]: f"Unknown parameter: {sorted(unknown)[0]}."})
    reserve = Reserve.objects.select_for_update().select_related("asset").get(asset__symbol=symbol)
    cfg = {f: getattr(reserve, f) for f in Reserve.PARAMETER_FIELDS}
    new_cfg = {**cfg, **changes}
    errors = validate_reserve_config(new_cfg)
    if errors:
        raise ValidationFailed(errors)
    changed = {f: v for f, v in changes.items() if cfg[f] != v}
    if not changed:
        return reserve
    # Like PoolConfigurator: settle interest under the old parameters before rates change.
    reserve_accrue(reserve=reserve)
    was_paused = reserve.paused
    for field, value in changed.items():
        setattr(reserve, field, value)
        audit_record(actor=actor, target=f"reserve:{symbol}", field=field, old=cfg[field], new=value,
                     reason=reason.strip())
    if was_paused and not reserve.paused:
        # Aave v3.1: liquidations wait a grace period (at most 4 h) after an unpause.
        grace = min(settings.UNPAUSE_GRACE_SECONDS, 4 * 3600)
        reserve.grace_until = timezone.now() + timedelta(seconds=grace) if grace else None
    reserve_update_rates(reserve=reserve)
    reserve.save()
    return reserve


STABLE = dict(kind=Asset.Kind.STABLECOIN, decimals=6, issuer_profile=Asset.IssuerProfile.STABLECOIN, calendar="24/7",
              volatility_bps=0)
STABLE_RESERVE = dict(ltv_bps=7_500, liquidation_threshold_bps=7_800, liquidation_bonus_bps=10_450,
                      reserve_factor_bps=1_000, borrowing_enabled=True, supply_cap=2_000_000_000,
                      borrow_cap=1_800_000_000, optimal_usage_bps=9_000, base_rate_bps=0, slope1_bps=550,
                      slope2_bps=6_000)

# (symbol, name, kind, issuer, underlying, calendar, ltv, lt, bonus, daily vol bps)
# LTV/LT from Kamino's xStocks market (DESIGN.md section 3).
STOCKS = [
    ("SPYx", "SP500 xStock", "etf_token", "xstocks", "SPY", "XNYS", 7_300, 7_500, 10_500, 110),
    ("QQQx", "Nasdaq xStock", "etf_token", "xstocks", "QQQ", "XNYS", 7_000, 7_200, 10_500, 140),
    ("AAPLx", "Apple xStock", "stock_token", "xstocks", "AAPL", "XNYS", 4_000, 5_000, 10_750, 170),
    ("TSLAx", "Tesla xStock", "stock_token", "xstocks", "TSLA", "XNYS", 5_500, 6_500, 10_750, 350),
    ("NVDAx", "NVIDIA xStock", "stock_token", "xstocks", "NVDA", "XNYS", 5_500, 6_500, 10_750, 300),
    ("GOOGLx", "Alphabet xStock", "stock_token", "xstocks", "GOOGL", "XNYS", 6_000, 7_000, 10_750, 180),
    ("HOODx", "Robinhood xStock", "stock_token", "xstocks", "HOOD", "XNYS", 3_000, 4_000, 11_000, 420),
    ("MSTRx", "Strategy xStock", "stock_token", "xstocks", "MSTR", "XNYS", 3_000, 4_000, 11_000, 480),
    ("AAPLon", "Apple (Ondo Global Markets)", "stock_token", "ondo_global_markets", "AAPL", "XNYS", 4_000, 5_000,
     10_750, 170),
    ("TSLAon", "Tesla (Ondo Global Markets)", "stock_token", "ondo_global_markets", "TSLA", "XNYS", 5_500, 6_500,
     10_750, 350),
    ("AMZNrh", "Amazon (Robinhood stock token, 24/5)", "stock_token", "robinhood", "AMZN", "XNYS", 5_000, 6_000,
     10_750, 200),
    ("SPACEXpre", "SpaceX pre-IPO (valuation oracle)", "pre_ipo", "pre_ipo", "SPACEX", "ALWAYS_CLOSED", 2_000,
     3_000, 11_500, 250),
]
STOCK_RESERVE = dict(reserve_factor_bps=1_000, liquidation_protocol_fee_bps=1_000, borrowing_enabled=False,
                     supply_cap=10_000_000, borrow_cap=0, optimal_usage_bps=4_500, base_rate_bps=0,
                     slope1_bps=700, slope2_bps=30_000)


@transaction.atomic
def universe_load() -> list[Asset]:
    """Create the default assets and reserves; existing rows are left as admins tuned them."""
    assets = []
    specs = [("USDC", "USD Coin", STABLE, STABLE_RESERVE), ("USDT", "Tether USD", STABLE, STABLE_RESERVE)]
    for sym, name, kind, issuer, underlying, cal, ltv, lt, bonus, vol in STOCKS:
        specs.append((sym, name, dict(kind=kind, decimals=18, issuer_profile=issuer, underlying=underlying,
                                      calendar=cal, volatility_bps=vol),
                      dict(STOCK_RESERVE, ltv_bps=ltv, liquidation_threshold_bps=lt, liquidation_bonus_bps=bonus)))
    for sym, name, asset_fields, reserve_fields in specs:
        asset, _ = Asset.objects.get_or_create(symbol=sym, defaults=dict(name=name, **asset_fields))
        reserve, created = Reserve.objects.get_or_create(asset=asset, defaults=reserve_fields)
        if created:
            errors = validate_reserve_config({f: getattr(reserve, f) for f in Reserve.PARAMETER_FIELDS})
            assert not errors, (sym, errors)
            reserve.last_update = now_seconds()
            reserve_update_rates(reserve=reserve)
            reserve.save()
        assets.append(asset)
    return assets


@audit_reverter("reserve")
def _revert_reserve_parameter(entry, *, symbol: str, actor, note: str) -> None:
    reserve = Reserve.objects.select_for_update().get(asset__symbol=symbol)
    audit_unchanged_since(entry, getattr(reserve, entry.field))
    try:
        reserve_update_parameters(symbol=symbol, actor=actor, changes={entry.field: entry.old_value}, reason=note)
    except ValidationFailed as exc:
        raise DomainError(f"The old value no longer fits the other parameters: {exc.message}", code="invalid",
                          field=exc.field) from None
