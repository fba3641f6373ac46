"""Reads: positions un-scaled at the current indexes, and account health under the oracle's prices."""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from markets.models import Asset, Reserve
from markets.services import now_seconds, reserve_state
from oracles.selectors import OracleRead, oracle_read
from protocol.core import (
    AccountData,
    PositionValue,
    calculate_account_data,
    liquidation_price,
    normalized_debt,
    normalized_income,
)
from protocol.wadray import ray_mul

from .models import Account, LedgerEntry, LiquidationEvent, Position, WalletBalance


@dataclass(frozen=True)
class Health:
    """An account's standing: HF and values under the liquidation-threshold prices, power under LTV prices."""

    by_lt: AccountData
    by_ltv: AccountData
    lt_values: tuple[PositionValue, ...]
    ltv_values: tuple[PositionValue, ...]

    @property
    def health_factor(self) -> int | None:
        return self.by_lt.health_factor if self.by_lt.has_debt else None


def position_amounts(position: Position, reserve: Reserve, now: int) -> tuple[int, int]:
    """aToken and debt-token balanceOf: scaled x normalized index."""
    state = reserve_state(reserve)
    supplied = ray_mul(position.scaled_supply, normalized_income(state, now)) if position.scaled_supply else 0
    borrowed = ray_mul(position.scaled_debt, normalized_debt(state, now)) if position.scaled_debt else 0
    return supplied, borrowed


def position_values(positions, reads: dict[str, OracleRead], now: int, *, basis: str) -> list[PositionValue]:
    """basis 'lt' prices collateral for the threshold, 'ltv' for borrowing power (haircut lower band)."""
    values = []
    for p in positions:
        reserve, asset = p.reserve, p.reserve.asset
        read = reads[asset.symbol]
        supplied, borrowed = position_amounts(p, reserve, now)
        price = read.lt_price if basis == "lt" else read.ltv_price
        debt_price = read.reference_price if asset.kind == Asset.Kind.STABLECOIN else read.upper_price
        values.append(PositionValue(
            symbol=asset.symbol, decimals=asset.decimals, price=price, supplied=supplied, borrowed=borrowed,
            collateral=p.collateral_enabled, ltv_bps=reserve.ltv_bps,
            liquidation_threshold_bps=reserve.liquidation_threshold_bps, debt_price=debt_price,
        ))
    return values


def health_of(positions, reads: dict[str, OracleRead], now: int) -> Health:
    lt_values = position_values(positions, reads, now, basis="lt")
    ltv_values = position_values(positions, reads, now, basis="ltv")
    return Health(calculate_account_data(lt_values), calculate_account_data(ltv_values), tuple(lt_values),
                  tuple(ltv_values))


def account_positions(account: Account) -> list[Position]:
    return list(account.positions.select_related("reserve__asset").order_by("reserve_id"))


def reads_for(positions, extra_assets=()) -> dict[str, OracleRead]:
    assets = {p.reserve.asset.symbol: p.reserve.asset for p in positions}
    for a in extra_assets:
        assets[a.symbol] = a
    return {sym: oracle_read(a) for sym, a in assets.items()}


def account_health(account: Account, *, now: int | None = None) -> Health:
    positions = account_positions(account)
    return health_of(positions, reads_for(positions), now_seconds() if now is None else now)


@dataclass(frozen=True)
class AccountSummary:
    account: Account
    wallet: dict[str, int]
    positions: list[dict]
    health: Health
    liquidation_prices: dict[str, int]
    decimals: dict[str, int]


def account_summary(account: Account, *, now: int | None = None) -> AccountSummary:
    now = now_seconds() if now is None else now
    positions = account_positions(account)
    health = health_of(positions, reads_for(positions), now)
    rows, liq = [], {}
    for p, value in zip(positions, health.lt_values):
        if not (value.supplied or value.borrowed):
            continue
        rows.append({"asset": value.symbol, "decimals": value.decimals, "supplied": value.supplied,
                     "borrowed": value.borrowed, "collateral": value.collateral})
        price = liquidation_price(health.by_lt, value)
        if price is not None:
            liq[value.symbol] = price
    wallet = {
        w.asset.symbol: w.amount for w in WalletBalance.objects.filter(account=account).select_related("asset")
        .order_by("asset_id") if w.amount
    }
    decimals = dict(Asset.objects.values_list("symbol", "decimals"))
    return AccountSummary(account, wallet, rows, health, liq, decimals)


def account_history(account: Account):
    return LedgerEntry.objects.filter(account=account).select_related("asset").order_by("-id")


def liquidation_list(*, user, account: int | None = None, asset: str | None = None, since=None):
    qs = LiquidationEvent.objects.select_related("debt_asset", "collateral_asset", "oracle_round").order_by("-id")
    if not user.is_staff:
        qs = qs.filter(account__user=user)
    if account is not None:
        qs = qs.filter(account_id=account)
    if asset:
        qs = qs.filter(Q(debt_asset__symbol=asset) | Q(collateral_asset__symbol=asset))
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    return qs
