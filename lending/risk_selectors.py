"""Reads for the risk console: the pool at a glance, the accounts nearest liquidation, and who a parameter
change would put at risk before it is saved. Ranked set-based in SQL (lending.scanner), then exact (Aave v3.3
GenericLogic through lending.selectors.health_of) for the few accounts shown."""
from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from core.aave.v3 import calculate_account_data, liquidation_price, to_base
from markets.models import Asset, Reserve
from markets.selectors import market_list, reserve_list
from markets.services import now_seconds
from oracles.selectors import OracleRead, oracle_reads

from .models import Position
from .scanner import rank_accounts, reserve_factors
from .selectors import _just_after, health_of, position_values

AT_RISK_LIMIT = 50  # rows the console shows: the lowest health factors first
PREVIEW_LIMIT = 200  # accounts checked exactly for a parameter preview


@dataclass(frozen=True)
class AccountRisk:
    account_id: int
    username: str
    health_factor: int | None  # wad; None without debt
    collateral_base: int  # USD, 8 decimals, at the threshold prices
    debt_base: int
    liquidation_prices: dict[str, int]
    outlook: tuple[tuple[str, int | None], ...]  # (label, HF wad) at the next NYSE close and open
    borrowing_power_base: int = 0
    over_ltv: bool = False  # debt above the borrowing power the LTV gives (no new borrow, no withdrawal)
    health_factor_before: int | None = None  # for a preview: before the change


def _moments(now) -> list[tuple[str, object]]:
    """Just after the next NYSE close and the next open, in time order (as lending.selectors.account_outlook)."""
    from core.clock import MarketClock

    state = MarketClock.get("XNYS").state(now)
    moments = [("next NYSE close", state.next_close), ("next NYSE open", state.next_open)]
    return [(label, _just_after(at)) for label, at in sorted((m for m in moments if m[1]), key=lambda m: m[1])]


class _Held:
    """A position as lending.selectors.health_of reads it: its scaled balances and collateral flag, and the reserve
    (with its asset) from the request's one reserve query, shared by every account that uses it."""

    __slots__ = ("reserve", "scaled_supply", "scaled_debt", "collateral_enabled")

    def __init__(self, reserve: Reserve, scaled_supply: int, scaled_debt: int, collateral_enabled: bool):
        self.reserve, self.scaled_supply, self.scaled_debt = reserve, scaled_supply, scaled_debt
        self.collateral_enabled = collateral_enabled


def _reserves_by_pk() -> dict[int, Reserve]:
    """Every reserve with its asset by pk, in asset order (markets.selectors.reserve_list)."""
    return {r.pk: r for r in reserve_list()}


def _positions_of(account_ids: list[int], reserves: dict[int, Reserve]) -> tuple[dict[int, list[_Held]],
                                                                                   dict[int, str]]:
    """The accounts' non-empty positions in reserve order, and their usernames, in one query of plain columns:
    the reserves are the caller's, one instance each however many accounts hold them."""
    grouped: dict[int, list[_Held]] = defaultdict(list)
    usernames: dict[int, str] = {}
    for account_id, reserve_id, supply, debt, collateral, username in (
            Position.objects.filter(account_id__in=account_ids).order_by("account_id", "reserve_id")
            .values_list("account_id", "reserve_id", "scaled_supply", "scaled_debt", "collateral_enabled",
                         "account__user__username")):
        if supply or debt:
            grouped[account_id].append(_Held(reserves[reserve_id], supply, debt, collateral))
            usernames[account_id] = username
    return grouped, usernames


def _health_factor_at(positions, reads, at: int) -> int | None:
    """health_of(...).health_factor without the LTV half, which the outlook does not show."""
    data = calculate_account_data(position_values(positions, reads, at, basis="lt"))
    return data.health_factor if data.has_debt else None


def _risk_rows(account_ids: list[int], *, overrides: dict | None = None, symbol: str | None = None,
               reserves: dict[int, Reserve] | None = None, now=None, reads_now=None) -> list[AccountRisk]:
    """Exact health now and at the next close and open for these accounts; an oracle read per held asset and
    instant. `overrides` ({field: value}) replaces `symbol`'s reserve parameters in memory (a preview; nothing
    is saved). `reserves`, `now` and `reads_now` (every reserve's asset at `now`) when the caller has them."""
    if not account_ids:
        return []
    now = now or timezone.now()
    seconds = now_seconds()
    reserves = reserves if reserves is not None else _reserves_by_pk()
    grouped, usernames = _positions_of(account_ids, reserves)
    held = {h.reserve.pk: h.reserve.asset for positions in grouped.values() for h in positions}
    assets = [held[pk] for pk in sorted(held)]
    if reads_now is None:
        reads_now = oracle_reads(assets, at=now, shared=True)
    later = [(label, int(at.timestamp()), oracle_reads(assets, at=at, shared=True)) for label, at in _moments(now)]
    changed = None
    if overrides:  # the reserve as the change would leave it, a copy: the shared one stays as saved
        changed = {pk: copy.copy(r) for pk, r in reserves.items() if r.asset.symbol == symbol}
        for reserve in changed.values():
            for field, value in overrides.items():
                setattr(reserve, field, value)
    rows = []
    for account_id in account_ids:
        positions = grouped.get(account_id)
        if not positions:
            continue
        before = None
        if changed is not None:
            before = _health_factor_at(positions, reads_now, seconds)
            positions = [_Held(changed.get(p.reserve.pk, p.reserve), p.scaled_supply, p.scaled_debt,
                               p.collateral_enabled) for p in positions]
        health = health_of(positions, reads_now, seconds)
        liq = {v.symbol: price for v in health.lt_values
               if (price := liquidation_price(health.by_lt, v)) is not None}
        outlook = tuple((label, _health_factor_at(positions, reads, at)) for label, at, reads in later)
        ltv_debt = health.by_ltv.total_debt_base
        ltv_power = sum(to_base(v.supplied, v.price, v.decimals) * v.ltv_bps // 10_000
                        for v in health.ltv_values if v.collateral and v.supplied)
        rows.append(AccountRisk(
            account_id=account_id, username=usernames[account_id],
            health_factor=health.health_factor, collateral_base=health.by_lt.total_collateral_base,
            debt_base=health.by_lt.total_debt_base, liquidation_prices=liq, outlook=outlook,
            borrowing_power_base=health.by_ltv.available_borrows_base, over_ltv=ltv_debt > ltv_power,
            health_factor_before=before))
    return sorted(rows, key=lambda r: (r.health_factor is None, r.health_factor or 0, r.account_id))


@dataclass(frozen=True)
class Pricing:
    """One instant, every reserve (with its asset, by pk) and every asset's oracle read then: what the console's
    selectors share, so that its page reads them once (pricing_now)."""
    now: datetime
    reserves: dict[int, Reserve]
    reads: dict[str, OracleRead]


def pricing_now() -> Pricing:
    now = timezone.now()
    reserves = _reserves_by_pk()
    return Pricing(now, reserves, oracle_reads([r.asset for r in reserves.values()], at=now, shared=True))


def accounts_at_risk(*, limit: int = AT_RISK_LIMIT, pricing: Pricing | None = None) -> list[AccountRisk]:
    """The `limit` accounts with debt and the lowest health factors, lowest first: ranked and then valued on
    one reading of the reserves and the oracle (`pricing`, now unless given)."""
    pricing = pricing or pricing_now()
    ids = rank_accounts(reserve_factors(pricing.reads, reserves=list(pricing.reserves.values())), limit=limit)
    return _risk_rows(ids, reserves=pricing.reserves, now=pricing.now, reads_now=pricing.reads)


def reserve_change_preview(*, symbol: str, changes: dict, limit: int = PREVIEW_LIMIT) -> dict:
    """Who a change of `symbol`'s parameters would put at risk, before it is saved: the accounts using it as
    collateral, ranked under the new threshold, with exact HFs before and after and at the next close and
    open. Nothing is written."""
    from core.aave.v3 import HEALTH_FACTOR_LIQUIDATION_THRESHOLD

    reserve = Reserve.objects.select_related("asset").get(asset__symbol=symbol)
    factors = reserve_factors()
    lt = changes.get("liquidation_threshold_bps", reserve.liquidation_threshold_bps)
    if reserve.liquidation_threshold_bps:  # the screen's factor is price x index x LT: rescale this reserve's
        factors = [f if f.reserve_id != reserve.pk else type(f)(f.reserve_id, f.collateral * lt /
                                                                 reserve.liquidation_threshold_bps, f.debt)
                   for f in factors]
    ids = rank_accounts(factors, limit=limit, collateral_reserve_id=reserve.pk)
    overrides = {f: v for f, v in changes.items() if f in Reserve.PARAMETER_FIELDS}
    rows = _risk_rows(ids, overrides=overrides, symbol=symbol)
    one = HEALTH_FACTOR_LIQUIDATION_THRESHOLD
    liquidatable = [r for r in rows if r.health_factor is not None and r.health_factor < one]
    newly = [r for r in liquidatable if r.health_factor_before is None or r.health_factor_before >= one]
    at_risk = [r for r in rows if r in liquidatable or r.over_ltv or any(
        hf is not None and hf < one for _, hf in r.outlook)]
    return {"symbol": symbol, "changes": overrides, "checked": len(rows), "truncated": len(ids) >= limit,
            "liquidatable": len(liquidatable), "newly_liquidatable": len(newly),
            "over_ltv": sum(r.over_ltv for r in rows), "rows": at_risk}


def pool_overview(*, pricing: Pricing | None = None) -> dict:
    """Totals in USD (8 decimals) and per-asset exposure, utilisation and deficit (bad debt), the feeds that
    need attention (pinned, stale, depegged), and the market status of every calendar; at `pricing`'s instant
    and prices (now unless given)."""
    from core.clock import MarketClock

    pricing = pricing or pricing_now()
    views = market_list(pricing.reserves.values())
    assets = [v.reserve.asset for v in views]
    reads = pricing.reads
    rows, totals = [], defaultdict(int)
    for v in views:
        asset, read = v.reserve.asset, reads[v.reserve.asset.symbol]
        price = read.reference_price
        row = {"symbol": asset.symbol, "kind": asset.kind, "calendar": asset.calendar, "read": read,
               "reserve": v.reserve, "supplied": v.total_supplied, "borrowed": v.total_borrowed,
               "supplied_base": to_base(v.total_supplied, price, asset.decimals),
               "borrowed_base": to_base(v.total_borrowed, price, asset.decimals),
               "deficit": v.reserve.deficit, "deficit_base": to_base(v.reserve.deficit, price, asset.decimals),
               "utilization_bps": v.utilization_ray // 10**23, "borrow_apy": v.borrow_apy,
               "supply_apy": v.supply_apy,
               "pinned": read.source == "manual" and asset.kind != Asset.Kind.STABLECOIN,
               "stale": "stale" in read.flags, "depeg": "depeg" in read.flags,
               "pending_shock_bps": 0}
        for key in ("supplied_base", "borrowed_base", "deficit_base"):
            totals[key] += row[key]
        rows.append(row)
    from oracles.models import OracleFeed

    for symbol, config in OracleFeed.objects.filter(asset__in=assets).values_list("asset__symbol", "config"):
        for row in rows:
            if row["symbol"] == symbol:
                row["pending_shock_bps"] = int((config or {}).get("pending_shock_bps", 0))
    now = pricing.now
    calendars = []
    for name in dict.fromkeys(["XNYS", "XNAS", *(a.calendar for a in assets)]):
        state = MarketClock.get(name).state(now)
        calendars.append({"calendar": name, "state": state,
                          "assets": [a.symbol for a in assets if a.calendar == name]})
    return {"rows": rows, "totals": dict(totals), "calendars": calendars,
            "attention": [r for r in rows if r["pinned"] or r["stale"] or r["depeg"] or r["pending_shock_bps"]]}
