"""Reads for markets: reserves with their live totals, rates and APYs."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from common import readcache
from common.errors import NotFound
from common.memo import BoundedMemo
from common.prepared import prepared
from core.aave.v3 import normalized_debt, normalized_income, utilization_ray
from core.aave.v4 import PoolParameters
from core.aave.wadray import RAY, SECONDS_PER_YEAR, ray_mul

from .models import Asset, Pool, Reserve, is_symbol
from .services import POOL_PK, now_seconds, reserve_state

T = TypeVar("T")

POOL = "pool"  # common.readcache's namespace of the pool row (markets.receivers bumps it)


@dataclass(frozen=True)
class MarketView:
    reserve: Reserve
    total_supplied: int
    total_borrowed: int
    utilization_ray: int
    borrow_apy: str
    supply_apy: str
    liquidation_engine: str = "v3.3"  # the pool's, the same for every reserve
    # (raw reserve row, totals, engine) for a view market_list built from the database's row: everything the view
    # shows follows from it (rates and utilization from the row), so a renderer may key on it: a reserve whose
    # indexes stand still keeps its key from one second to the next (MarketSerializer.memo_key)
    key: tuple | None = field(default=None, compare=False, repr=False)


def apy_from_rate(rate_ray: int) -> str:
    """Display only (never used for money): (1 + r/n)^n - 1 compounded per second, percent, 4 decimals.

    Floats here on purpose: the decimal module's global context can be locked by other libraries (vyper)."""
    r = rate_ray / RAY
    apy = math.expm1(SECONDS_PER_YEAR * math.log1p(r / SECONDS_PER_YEAR))
    return f"{apy * 100:.4f}"


def market_view(reserve: Reserve, now: int | None = None, engine: str | None = None) -> MarketView:
    now = now_seconds() if now is None else now
    engine = pool_engine_name() if engine is None else engine
    state = reserve_state(reserve)
    supplied = ray_mul(reserve.total_scaled_supply + reserve.accrued_to_treasury, normalized_income(state, now))
    borrowed = ray_mul(reserve.total_scaled_debt, normalized_debt(state, now))
    return MarketView(reserve, supplied, borrowed,
                      utilization_ray(virtual_balance=reserve.virtual_balance,
                                      total_debt=ray_mul(reserve.total_scaled_debt, reserve.variable_borrow_index)),
                      apy_from_rate(reserve.variable_borrow_rate), apy_from_rate(reserve.liquidity_rate), engine)


_reserves = prepared(lambda: Reserve.objects.select_related("asset").order_by("asset_id"))
_reserve_named = prepared(lambda symbol: Reserve.objects.select_related("asset").filter(asset__symbol=symbol))
_built: BoundedMemo = BoundedMemo(512)  # raw row -> its Reserve (and asset), this process
_views: BoundedMemo = BoundedMemo(512)  # (raw row, second, engine) -> its view, this process


def _market_of(query, row: tuple, now: int, engine: str) -> MarketView:
    """The view of one of `query`'s raw rows (every reserve column and the asset's). Rows are compared whole, so a
    row that comes back unchanged (all but the one an action just wrote) is not built into a Reserve again, nor its
    totals recomputed within the same second: most of a market read's CPU. The views and their reserves are shared
    by this process's later reads: read them, never change them."""
    key = (row, now, engine)
    try:
        view = _views.get(key)
    except TypeError:  # a column the driver returns unhashable (none today): built afresh
        return market_view(query.instance(row), now, engine)
    if view is None:
        reserve = _built.get(row)
        if reserve is None:  # old states are never asked for again
            reserve = _built.keep(row, query.instance(row))
        computed = market_view(reserve, now, engine)
        view = _views.keep(key, MarketView(**{**computed.__dict__,
                                              "key": (row, computed.total_supplied, computed.total_borrowed, engine)}))
    return view


def reserve_by_symbol(symbol: str) -> Reserve | None:
    """The reserve of the asset with this symbol (and the asset), or None."""
    return _reserve_named.first(symbol)


def reserve_list() -> list[Reserve]:
    """Every reserve with its asset, in asset order (the SQL compiled once a process)."""
    return _reserves()


def market_list(reserves=None) -> list[MarketView]:
    """Every market now; of `reserves` (reserve_list's rows) when the caller has read them already."""
    now, engine = now_seconds(), pool_engine_name()
    if reserves is not None:
        return [market_view(r, now, engine) for r in reserves]
    return [_market_of(_reserves, row, now, engine) for row in _reserves.rows()]


def market_by_symbol(symbol: str) -> MarketView | None:
    """The market of the asset with this symbol now, or None."""
    rows = _reserve_named.rows(symbol)
    return _market_of(_reserve_named, rows[0], now_seconds(), pool_engine_name()) if rows else None


_asset_named = prepared(lambda symbol: Asset.objects.select_related("reserve").filter(symbol=symbol))


def asset_by_symbol(symbol: str) -> Asset | None:
    """The asset with this symbol (and its reserve: actions need its id), or None."""
    return _asset_named.first(symbol)


def known(symbol: str, read: Callable[[str], T | None]) -> T:
    """read(symbol)'s answer, or the unknown asset's NotFound (a malformed symbol never reaches the database): the
    one 404 of every view that names an asset in its path."""
    found = read(symbol) if is_symbol(symbol) else None
    if found is None:
        raise NotFound(f"Unknown asset {symbol!r}.", code="unknown_asset")
    return found


def asset_list():
    return Asset.objects.order_by("id")


def pool_get() -> Pool:
    """The pool's one row (its liquidation engine and v4 knobs), created with the defaults on first read."""
    pool, _ = Pool.objects.get_or_create(pk=POOL_PK)
    return pool


def pool_engine_name() -> str:
    """The pool's liquidation engine, for the market reads: this process's copy while the pool row is unchanged
    (common.readcache.memo), so a market read costs no pool query."""
    return readcache.memo(POOL, "liquidation_engine", lambda: pool_get().liquidation_engine)


def pool_engine() -> tuple[str, PoolParameters]:
    """(engine name, Aave v4 pool parameters in wad) for core.aave.engines.quote."""
    pool = pool_get()
    return pool.liquidation_engine, PoolParameters.from_bps(
        target_health_factor_bps=pool.target_health_factor_bps,
        liquidation_bonus_factor_bps=pool.liquidation_bonus_factor_bps,
        health_factor_for_max_bonus_bps=pool.health_factor_for_max_bonus_bps)


def asset_profile_params(asset: Asset, *, start_price: int | None = None):
    """The asset's issuer-profile parameters for core.profiles (the simulated feed and feed_replay).

    Daily volatility: the underlying's latest fitted sigma where prices ship, else the asset's volatility_bps."""
    from core import profiles
    from core.haircut import calibrated as haircut

    sigma = (haircut.default_sigma(asset.underlying) if asset.underlying else None) or asset.volatility_bps / 10_000
    return profiles.AssetParams(
        symbol=asset.symbol, profile=asset.issuer_profile, underlying=asset.underlying, calendar=asset.calendar,
        start_price=start_price or 100 * profiles.PRICE_UNIT, sigma_daily=sigma,
        multiplier_bps=asset.price_multiplier_bps, max_leverage=asset.max_leverage, band_bps=asset.band_bps,
        depth_usd=asset.depth_usd, valuation_interval_days=asset.valuation_interval_days,
        blend_bps=asset.oracle_blend_bps, resells=asset.resells_profile, venue_hours=asset.venue_hours or "24/7")
