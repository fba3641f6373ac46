"""Writes for markets: risk parameters (validated, audited), reserve accrual, the default universe."""
from __future__ import annotations

import time
from dataclasses import asdict, fields
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.errors import DomainError, ValidationFailed
from common.prepared import update_columns
from common.services import audit_record, audit_reverter, audit_unchanged_since
from core.aave.engines import ENGINES, V4
from core.aave.v3 import RateParams, ReserveState, update_rates_and_virtual_balance, update_state
from core.aave.v4 import PoolConfigError, PoolParameters, validate_collateral
from core.aave.wadray import PERCENTAGE_FACTOR, percent_mul

from .models import Asset, Pool, Reserve

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


# What accrual and the actions change on a reserve (Aave's ReserveData); its risk parameters are an admin's
RESERVE_STATE_FIELDS = tuple(f.name for f in fields(ReserveState))


def reserve_save_state(reserve: Reserve) -> None:
    """Write a locked reserve's state back: only those columns, so the UPDATE is a third of the row."""
    update_columns(reserve, RESERVE_STATE_FIELDS)


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
            reserve_save_state(reserve)
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
    pool = _pool_lock()  # before the reserve, as pool_update_parameters: one lock order, and no race with it
    reserve = Reserve.objects.select_for_update().select_related("asset").get(asset__symbol=symbol)
    cfg = {f: getattr(reserve, f) for f in Reserve.PARAMETER_FIELDS}
    new_cfg = {**cfg, **changes}
    errors = validate_reserve_config(new_cfg)
    if not errors and pool.liquidation_engine == V4:
        errors = _v4_collateral_errors(symbol, new_cfg)
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


# --- the pool: its liquidation engine and Aave v4's pool-level knobs ------------------------------------------

POOL_TARGET = "pool:default"  # audit target; the reverter is registered as "pool"
MAX_POOL_HF_BPS = 65_535  # a target HF of 6.5 is already absurd; keeps the column in range


POOL_PK = 1  # the pool is one row


def _pool_lock() -> Pool:
    Pool.objects.get_or_create(pk=POOL_PK)  # created with the defaults (v3.3) on first use
    return Pool.objects.select_for_update().get(pk=POOL_PK)


def _v4_collateral_error(symbol: str, cfg: dict) -> str | None:
    """Aave v4 Spoke._validateDynamicReserveConfig on a collateral reserve: percentMulUp(B_max, LT) < 100%."""
    if not cfg["liquidation_threshold_bps"]:
        return None
    try:
        validate_collateral(max_bonus_bps=cfg["liquidation_bonus_bps"],
                            collateral_factor_bps=cfg["liquidation_threshold_bps"])
    except PoolConfigError:
        return (f"{symbol}: bonus {cfg['liquidation_bonus_bps']} x threshold {cfg['liquidation_threshold_bps']} bps "
                "reaches 100%; Aave v4 needs it strictly below (its target formula would divide by zero).")
    return None


def _v4_collateral_errors(symbol: str, cfg: dict) -> dict[str, str]:
    message = _v4_collateral_error(symbol, cfg)
    return {"liquidation_bonus_bps": f"{message} The pool runs the v4 engine."} if message else {}


_POOL_FIELD = {"target_health_factor": "target_health_factor_bps",
               "health_factor_for_max_bonus": "health_factor_for_max_bonus_bps",
               "liquidation_bonus_factor_bps": "liquidation_bonus_factor_bps"}


def validate_pool_config(cfg: dict) -> dict[str, str]:
    """The configuration a pool change would produce: a known engine, v4's LiquidationConfig bounds (T >= 1,
    h_max < 1, 0 <= f <= 100%), and under v4 every collateral reserve with bonus x LT strictly below 100%."""
    errors: dict[str, str] = {}
    if cfg["liquidation_engine"] not in ENGINES:
        errors["liquidation_engine"] = f"The liquidation engine must be one of {', '.join(ENGINES)}."
    for name in Pool.PARAMETER_FIELDS[1:]:
        value = cfg[name]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_POOL_HF_BPS:
            errors[name] = f"{name} must be an integer between 0 and {MAX_POOL_HF_BPS} bps."
    if errors:
        return errors
    try:
        PoolParameters.from_bps(**{f: cfg[f] for f in Pool.PARAMETER_FIELDS[1:]})
    except PoolConfigError as exc:
        return {_POOL_FIELD[exc.field]: f"{exc} (in bps: 10000 = 1.0)"}
    if cfg["liquidation_engine"] == V4:
        for reserve in Reserve.objects.select_related("asset").order_by("pk"):
            message = _v4_collateral_error(reserve.asset.symbol,
                                           {f: getattr(reserve, f) for f in Reserve.PARAMETER_FIELDS})
            if message:
                return {"liquidation_engine": f"Cannot switch to v4: {message} Lower its bonus or threshold first."}
    return errors


@transaction.atomic
def pool_update_parameters(*, actor, changes: dict, reason: str) -> Pool:
    """The one path for a pool change (the liquidation engine, v4's target HF, bonus factor, HF for max bonus):
    validate the resulting config, write, audit each field in the same transaction."""
    if not (reason or "").strip():
        raise ValidationFailed({"reason": "A reason is required for every parameter change."})
    unknown = sorted(set(changes) - set(Pool.PARAMETER_FIELDS))
    if unknown:
        raise ValidationFailed({unknown[0]: f"Unknown parameter: {unknown[0]}."})
    pool = _pool_lock()  # reserve changes take this lock first too: the v4 check sees every committed reserve
    cfg = {f: getattr(pool, f) for f in Pool.PARAMETER_FIELDS}
    new_cfg = {**cfg, **changes}
    errors = validate_pool_config(new_cfg)
    if errors:
        raise ValidationFailed(errors)
    changed = {f: v for f, v in changes.items() if cfg[f] != v}
    for field, value in changed.items():
        setattr(pool, field, value)
        audit_record(actor=actor, target=POOL_TARGET, field=field, old=cfg[field], new=value, reason=reason.strip())
    if changed:
        pool.save(update_fields=list(changed))
    return pool


@audit_reverter("pool")
def _revert_pool_parameter(entry, *, symbol: str, actor, note: str) -> None:
    pool = _pool_lock()
    audit_unchanged_since(entry, getattr(pool, entry.field))
    try:
        pool_update_parameters(actor=actor, changes={entry.field: entry.old_value}, reason=note)
    except ValidationFailed as exc:
        raise DomainError(f"The old value no longer fits: {exc.message}", code="invalid", field=exc.field) from None


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
    ("SPACEXpre", "SpaceX pre-IPO (Jarsy-style valuation token)", "pre_ipo", "jarsy", "SPACEX", "ALWAYS_CLOSED",
     2_000, 3_000, 11_500, 250),
    # one asset of every other issuer profile (core.profiles); the README's table gives the reasoning
    ("NVDAss", "NVIDIA (StableStock)", "stock_token", "stablestock", "NVDA", "XNYS", 4_500, 5_500, 10_750, 300),
    ("TSLAperp", "Tesla stock perp (Aster)", "stock_token", "aster_perp", "TSLA", "XNYS", 4_500, 5_500, 10_750, 350),
    ("NVDAxyz", "NVIDIA (Trade.xyz HIP-3)", "stock_token", "trade_xyz", "NVDA", "XNYS", 4_500, 5_500, 10_750, 300),
    ("OPENAIv", "OpenAI pre-IPO (Ventuals HIP-3)", "pre_ipo", "ventuals", "OPENAI", "ALWAYS_CLOSED", 1_500, 2_500,
     11_500, 500),
    ("AAPLbn", "Apple on Binance (via Ondo, 24/7)", "stock_token", "cex_wallet", "AAPL", "XNYS", 4_000, 5_000,
     10_750, 170),
    ("TSLAbb", "Tesla on Bybit (24/5 contract on xStocks)", "stock_token", "cex_wallet", "TSLA", "XNYS", 5_000,
     6_000, 10_750, 350),
]
# Profile parameters (markets.Asset fields) by symbol; reasoning in the README ("Issuer profiles").
PROFILE_FIELDS = {
    "SPACEXpre": dict(valuation_interval_days=90),
    "NVDAss": dict(depth_usd=500_000, supply_cap=20_000),
    "TSLAperp": dict(band_bps=300, depth_usd=200_000),
    "NVDAxyz": dict(max_leverage=10, depth_usd=100_000),
    "OPENAIv": dict(valuation_interval_days=60, oracle_blend_bps=5_000, depth_usd=50_000, supply_cap=50_000),
    "AAPLbn": dict(resells_profile="ondo_global_markets", venue_hours="24/7"),
    "TSLAbb": dict(resells_profile="xstocks", venue_hours="24/5"),
}
STOCK_RESERVE = dict(reserve_factor_bps=1_000, liquidation_protocol_fee_bps=1_000, borrowing_enabled=False,
                     supply_cap=10_000_000, borrow_cap=0, optimal_usage_bps=4_500, base_rate_bps=0,
                     slope1_bps=700, slope2_bps=30_000)


@transaction.atomic
def universe_load() -> list[Asset]:
    """Create the default assets and reserves; existing rows are left as admins tuned them."""
    assets = []
    specs = [("USDC", "USD Coin", STABLE, STABLE_RESERVE), ("USDT", "Tether USD", STABLE, STABLE_RESERVE)]
    for sym, name, kind, issuer, underlying, cal, ltv, lt, bonus, vol in STOCKS:
        extra = dict(PROFILE_FIELDS.get(sym, {}))
        caps = {"supply_cap": extra.pop("supply_cap")} if "supply_cap" in extra else {}
        specs.append((sym, name, dict(kind=kind, decimals=18, issuer_profile=issuer, underlying=underlying,
                                      calendar=cal, volatility_bps=vol, **extra),
                      dict(STOCK_RESERVE, ltv_bps=ltv, liquidation_threshold_bps=lt, liquidation_bonus_bps=bonus,
                           **caps)))
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
    _pool_lock()  # the lock order of reserve_update_parameters: pool, then reserve
    reserve = Reserve.objects.select_for_update().get(asset__symbol=symbol)
    audit_unchanged_since(entry, getattr(reserve, entry.field))
    try:
        reserve_update_parameters(symbol=symbol, actor=actor, changes={entry.field: entry.old_value}, reason=note)
    except ValidationFailed as exc:
        raise DomainError(f"The old value no longer fits the other parameters: {exc.message}", code="invalid",
                          field=exc.field) from None
