"""Reads for markets: reserves with their live totals, rates and APYs."""
from __future__ import annotations

import math
from dataclasses import dataclass

from core.aave.v3 import normalized_debt, normalized_income, utilization_ray
from core.aave.wadray import RAY, SECONDS_PER_YEAR, ray_mul

from .models import Asset, Reserve
from .services import now_seconds, reserve_state


@dataclass(frozen=True)
class MarketView:
    reserve: Reserve
    total_supplied: int
    total_borrowed: int
    utilization_ray: int
    borrow_apy: str
    supply_apy: str


def apy_from_rate(rate_ray: int) -> str:
    """Display only (never used for money): (1 + r/n)^n - 1 compounded per second, percent, 4 decimals.

    Floats here on purpose: the decimal module's global context can be locked by other libraries (vyper)."""
    r = rate_ray / RAY
    apy = math.expm1(SECONDS_PER_YEAR * math.log1p(r / SECONDS_PER_YEAR))
    return f"{apy * 100:.4f}"


def market_view(reserve: Reserve, now: int | None = None) -> MarketView:
    now = now_seconds() if now is None else now
    state = reserve_state(reserve)
    supplied = ray_mul(reserve.total_scaled_supply + reserve.accrued_to_treasury, normalized_income(state, now))
    borrowed = ray_mul(reserve.total_scaled_debt, normalized_debt(state, now))
    return MarketView(reserve, supplied, borrowed,
                      utilization_ray(virtual_balance=reserve.virtual_balance,
                                      total_debt=ray_mul(reserve.total_scaled_debt, reserve.variable_borrow_index)),
                      apy_from_rate(reserve.variable_borrow_rate), apy_from_rate(reserve.liquidity_rate))


def market_list() -> list[MarketView]:
    now = now_seconds()
    return [market_view(r, now) for r in Reserve.objects.select_related("asset").order_by("asset_id")]


def asset_list():
    return Asset.objects.order_by("id")
