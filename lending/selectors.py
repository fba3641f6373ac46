"""Reads: positions un-scaled at the current indexes, and account health under the oracle's prices."""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from common.prepared import prepared
from core.aave.v3 import (
    AccountData,
    PositionValue,
    calculate_account_data,
    liquidation_price,
    normalized_debt,
    normalized_income,
)
from core.aave.wadray import ray_mul
from markets.models import Asset, Reserve
from markets.services import now_seconds, reserve_state
from oracles.selectors import OracleRead, oracle_reads

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
        values.append(PositionValue(
            symbol=asset.symbol, decimals=asset.decimals, price=price, supplied=supplied, borrowed=borrowed,
            collateral=p.collateral_enabled, ltv_bps=reserve.ltv_bps,
            liquidation_threshold_bps=reserve.liquidation_threshold_bps, debt_price=read.debt_price,
        ))
    return values


def health_of(positions, reads: dict[str, OracleRead], now: int) -> Health:
    lt_values = position_values(positions, reads, now, basis="lt")
    ltv_values = position_values(positions, reads, now, basis="ltv")
    return Health(calculate_account_data(lt_values), calculate_account_data(ltv_values), tuple(lt_values),
                  tuple(ltv_values))


_positions = prepared(lambda account_id: Position.objects.filter(account_id=account_id)
                     .select_related("reserve__asset").order_by("reserve_id"))
_wallet = prepared(lambda account_id: WalletBalance.objects.filter(account_id=account_id)
                   .select_related("asset").order_by("asset_id"))


def account_positions(account: Account) -> list[Position]:
    """The account's positions with their reserves and assets, in reserve order (SQL compiled once a process)."""
    positions = _positions(account.pk)
    for p in positions:
        p.account = account
    return positions


def reads_for(positions, extra_assets=(), *, at=None, shared: bool = False) -> dict[str, OracleRead]:
    """The oracle reads of the positions' assets, now or at instant `at` (each asset's latest price, with the
    session, closure kind and therefore the haircut of that instant); `shared` as oracle_reads."""
    assets = {p.reserve.asset.symbol: p.reserve.asset for p in positions}
    for a in extra_assets:
        assets[a.symbol] = a
    return oracle_reads(assets.values(), at=at, shared=shared)


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
    """What the account's page and the API show; a read outside any transaction (its prices are shared reads)."""
    now = now_seconds() if now is None else now
    positions = account_positions(account)
    health = health_of(positions, reads_for(positions, shared=True), now)
    rows, liq = [], {}
    for value in health.lt_values[:len(positions)]:
        if not (value.supplied or value.borrowed):
            continue
        rows.append({"asset": value.symbol, "decimals": value.decimals, "supplied": value.supplied,
                     "borrowed": value.borrowed, "collateral": value.collateral})
        price = liquidation_price(health.by_lt, value)
        if price is not None:
            liq[value.symbol] = price
    held = [w for w in _wallet(account.pk) if w.amount]
    wallet = {w.asset.symbol: w.amount for w in held}
    decimals = {w.asset.symbol: w.asset.decimals for w in held}  # the wallet's formatting; rows carry their own
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


def _just_after(moment):
    """A minute into the session (or closure) that begins at `moment`: the instant whose policy we want."""
    from datetime import timedelta

    return moment + timedelta(minutes=1)


def account_outlook(account: Account, *, now=None) -> list[dict]:
    """The health factor at the next NYSE close and the next open, at today's prices and positions: a borrower
    sees before the weekend what the closed-market haircut will do to them (nothing else moving)."""
    from django.utils import timezone

    from core.clock import MarketClock

    now = now or timezone.now()
    positions = [p for p in account_positions(account) if p.scaled_supply or p.scaled_debt]
    if not any(p.scaled_debt for p in positions):
        return []
    state = MarketClock.get("XNYS").state(now)
    moments = [("next NYSE close", state.next_close), ("next NYSE open", state.next_open)]
    outlook = []
    for label, at in sorted((m for m in moments if m[1] is not None), key=lambda m: m[1]):
        after = _just_after(at)
        reads = reads_for(positions, at=after)
        health = health_of(positions, reads, int(after.timestamp()))
        haircuts = {s: r.haircut_bps for s, r in reads.items() if r.haircut_bps}
        outlook.append({"label": label, "at": at, "closure_kind": MarketClock.get("XNYS").state(after).closure_kind,
                        "health_factor": health.health_factor, "haircuts": haircuts,
                        "borrowing_power": health.by_ltv.available_borrows_base})
    return outlook


def account_health_history(account: Account, *, hours: int = 96, points: int = 400, now=None) -> dict:
    """HF over the last `hours` at today's positions, priced by the oracle rounds of the time and the haircut
    policy in force now (each instant's closure kind): how this position fared through closes and reopens.
    Floats here are for drawing only."""
    import dataclasses
    from bisect import bisect_right
    from datetime import timedelta

    from django.utils import timezone

    from core.clock import MarketClock
    from oracles.models import HaircutPolicy, OracleRound
    from oracles.selectors import policy_haircut_bps

    now = now or timezone.now()
    start = now - timedelta(hours=hours)
    positions = [p for p in account_positions(account) if p.scaled_supply or p.scaled_debt]
    empty = {"t": [], "hf": [], "closed": []}
    if not any(p.scaled_debt for p in positions):
        return empty
    current = reads_for(positions)
    rounds, policies = {}, {}
    for p in positions:
        asset = p.reserve.asset
        in_window = OracleRound.objects.filter(asset=asset, created_at__gte=start, created_at__lte=now)
        standing = OracleRound.objects.filter(asset=asset, created_at__lt=start).order_by("-created_at")[:1]
        rows = [*standing.values_list("created_at", "reference_price"),  # the price standing at `start`
                *in_window.order_by("created_at").values_list("created_at", "reference_price")]
        rounds[asset.symbol] = ([r[0] for r in rows], [r[1] for r in rows])
        policies[asset.symbol] = HaircutPolicy.objects.filter(asset=asset).first()
    first = max((times[0] for times, _ in rounds.values() if times), default=None)
    if first is None:
        return empty
    start = max(start, first)
    step = max((now - start) / points, timedelta(seconds=1))
    t_out, hf_out = [], []
    at = start
    while at <= now:
        reads = {}
        for p in positions:
            asset, read = p.reserve.asset, current[p.reserve.asset.symbol]
            times, prices = rounds[asset.symbol]
            i = bisect_right(times, at) - 1
            if i < 0:
                reads = None
                break
            state = MarketClock.get(asset.calendar).state(at)
            policy = policies[asset.symbol]
            haircut = 0 if asset.kind == Asset.Kind.STABLECOIN or policy is None else \
                policy_haircut_bps(policy, asset, state.closure_kind)
            reads[asset.symbol] = dataclasses.replace(read, reference_price=prices[i], token_price=prices[i],
                                                      haircut_bps=haircut, session=state.session,
                                                      is_open=state.is_open, closure_kind=state.closure_kind)
        if reads:
            hf = health_of(positions, reads, int(at.timestamp())).health_factor
            if hf is not None:
                t_out.append(int(at.timestamp()))
                hf_out.append(round(hf / 10**18, 6))
        at += step
    closed = [[int(a.timestamp()), int(b.timestamp())] for a, b in MarketClock.get("XNYS").closed_spans(start, now)]
    return {"t": t_out, "hf": hf_out, "closed": closed}


WHAT_IF_MAX_ACCOUNTS = 20_000  # accounts checked exactly per what-if (in memory); the screen counts every one
WHAT_IF_MAX_LISTED = 1_000  # liquidated accounts listed one by one (deepest first); the totals count them all


WHAT_IF_WHEN = ("now", "next_close")


def what_if_shock(*, shocks_bps: dict[str, int], when: str = "now") -> dict:
    """Price shocks on today's oracle reads, now or just after the next NYSE close (so that instant's haircut
    policy and pauses apply): which accounts go under water and what the keeper would do to them under the pool's
    liquidation engine, with the exact amounts (seized collateral at its seize price), computed in memory and
    never written. `liquidated_accounts` lists them one by one, deepest first."""
    from collections import Counter, defaultdict

    from django.utils import timezone

    from core.amounts import format_amount, format_price, format_wad
    from core.clock import MarketClock
    from oracles.selectors import shocked_read

    from .liquidation import LiquidationBook
    from .scanner import reserve_factors, screen_accounts

    at = _just_after(MarketClock.get("XNYS").state(timezone.now()).next_close) if when == "next_close" else None
    assets = {a.symbol: a for a in Asset.objects.order_by("id")}
    reads = oracle_reads(assets.values(), at=at)
    for symbol, bps in shocks_bps.items():
        # the stock moves (the reference); the token keeps its depeg, band and market hours relative to it
        reads[symbol] = shocked_read(reads[symbol], bps)
    now = int(at.timestamp()) if at else now_seconds()
    candidates = screen_accounts(reserve_factors(reads, now))
    book = LiquidationBook(account_ids=candidates[:WHAT_IF_MAX_ACCOUNTS], liquidator=None, treasury=None, reads=reads,
                           now=now, lock_accounts=False)
    before = {a: hf for a in book.accounts if (hf := book.health_factor(a)) is not None and hf < 10**18}
    debt_at_risk = sum(book.health(a)[0].total_debt_base for a in before)
    events = book.keep(sorted(before), round_key="what-if")
    totals, by_asset = Counter(), defaultdict(Counter)
    deficit_by_account, per_account = Counter(), defaultdict(Counter)
    for e in events:
        d, c = e.debt_asset, e.collateral_asset
        repaid_usd = e.debt_repaid * e.debt_price // 10**d.decimals
        seized_usd = e.collateral_seized * e.collateral_price // 10**c.decimals  # the event's price: seize price
        totals["debt_repaid"] += repaid_usd
        totals["collateral_seized"] += seized_usd
        totals["deficit"] += e.deficit * e.debt_price // 10**d.decimals
        deficit_by_account[e.account_id] += e.deficit * e.debt_price // 10**d.decimals
        per_account[e.account_id].update(debt_repaid=repaid_usd, collateral_seized=seized_usd, steps=1)
        by_asset[d.symbol]["debt_repaid"] += e.debt_repaid
        by_asset[d.symbol]["deficit"] += e.deficit
        by_asset[c.symbol]["collateral_seized"] += e.collateral_seized
    left = [a for a in before if (hf := book.health_factor(a)) is not None and hf < 10**18]
    blocked = Counter(reason for symbol in assets if (reason := book.blocked(symbol)) and any(
        p.reserve.asset.symbol == symbol for a in left for p in book.positions[a].values()))
    worst = sorted(before, key=lambda a: (-deficit_by_account[a], before[a]))[:10]
    listed = sorted(per_account, key=lambda a: (before[a], a))[:WHAT_IF_MAX_LISTED]
    usernames = dict(Account.objects.filter(pk__in=listed).values_list("pk", "user__username"))
    return {
        "engine": book.engine,
        "at": (at.isoformat() if at else None),
        "shocks_bps": dict(shocks_bps),
        "accounts_screened": len(candidates),
        "accounts_checked": len(book.accounts),
        "truncated": len(candidates) > WHAT_IF_MAX_ACCOUNTS,
        "underwater": len(before),
        "debt_at_risk_usd": format_price(debt_at_risk),
        "liquidations": len(events),
        "accounts_liquidated": len({e.account_id for e in events}),
        "debt_repaid_usd": format_price(totals["debt_repaid"]),
        "collateral_seized_usd": format_price(totals["collateral_seized"]),
        "bad_debt_usd": format_price(totals["deficit"]),
        "left_underwater": len(left),
        "blocked": dict(blocked),
        "by_asset": {s: {k: format_amount(v, assets[s].decimals) for k, v in sorted(c.items())}
                     for s, c in sorted(by_asset.items())},
        "worst_accounts": [{"account": a, "health_factor_before": format_wad(before[a]),
                            "health_factor_after": (format_wad(hf) if (hf := book.health_factor(a)) is not None
                                                    else None),
                            "bad_debt_usd": format_price(deficit_by_account[a])} for a in worst],
        "liquidated_accounts": [
            {"account": a, "username": usernames.get(a), "health_factor_before": format_wad(before[a]),
             "health_factor_after": (format_wad(hf) if (hf := book.health_factor(a)) is not None else None),
             "debt_repaid_usd": format_price(per_account[a]["debt_repaid"]),
             "collateral_seized_usd": format_price(per_account[a]["collateral_seized"]),
             "bad_debt_usd": format_price(deficit_by_account[a]), "liquidations": per_account[a]["steps"]}
            for a in listed],
        "liquidated_accounts_truncated": len(per_account) > WHAT_IF_MAX_LISTED,
    }


# --- action preview (the borrower's form: before -> after as they type) ---------------------------------

@dataclass(frozen=True)
class ActionPreview:
    """What an action's form shows before anything is submitted. `limit` is the most the action allows now
    ("Max"); `all_of_it` says whether that is the whole balance or debt, so the service's own "max" is exact at
    execution time; `submit` is the amount the form would send for what was typed. `refusal` and `after` come
    from lending.services.account_action_dry_run (the real action, rolled back); this module only reads."""

    action: str
    symbol: str
    decimals: int
    before: Health
    limit: int
    all_of_it: bool
    wallet: int
    supplied: int
    borrowed: int
    submit: int | str | None = None
    after: Health | None = None
    refusal: str | None = None


def faucet_taken_today(account: Account, asset: Asset) -> int:
    from django.utils import timezone

    day_start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    # summed here, not by SQL: SQLite's SUM of these big integers comes back as a float ('1e+19')
    return sum(LedgerEntry.objects.filter(account=account, asset=asset, kind=LedgerEntry.Kind.FAUCET,
                                          created_at__gte=day_start).values_list("amount", flat=True))


def action_preview(*, account: Account, action: str, asset: Asset, amount: int | str | None,
                   faucet_room: int = 0, now: int | None = None) -> ActionPreview:
    """The health factor and borrowing power before, the most `action` allows now (the Max button), and what the
    form would submit for `amount` ("max": the service's own "max" where that is all of it, else the limit; None:
    nothing typed). Whether the action passes, and the after-state, are the dry run's to say."""
    from core.aave.v3 import borrow_allowed

    now = now_seconds() if now is None else now
    positions = account_positions(account)
    reads = reads_for(positions, [asset])
    read = reads[asset.symbol]
    before = health_of(positions, reads, now)
    reserve = Reserve.objects.select_related("asset").get(asset=asset)
    position = next((p for p in positions if p.reserve_id == reserve.pk), None)
    if position is None:
        position = Position(account=account, reserve=reserve)
    wallet = WalletBalance.objects.filter(account=account, asset=asset).values_list("amount", flat=True).first() or 0
    supplied, borrowed = position_amounts(position, reserve, now)
    state = reserve_state(reserve)

    all_of_it = False
    if action == "faucet":
        limit = faucet_room
    elif action == "supply":
        limit = wallet
        if reserve.supply_cap:
            total = ray_mul(reserve.total_scaled_supply + reserve.accrued_to_treasury, normalized_income(state, now))
            limit = min(limit, max(0, reserve.supply_cap * asset.unit - total))
    elif action == "withdraw":
        limit, all_of_it = min(supplied, reserve.virtual_balance), supplied <= reserve.virtual_balance
        if position.collateral_enabled and before.by_lt.has_debt and read.lt_price:
            # Keep HF >= 1: sum(collateral x LT) - debt is the threshold-weighted room (Aave GenericLogic).
            room_base = (before.by_lt.total_collateral_base * before.by_lt.avg_liquidation_threshold_bps // 10_000
                         - before.by_lt.total_debt_base)
            safe = max(0, room_base) * 10_000 // reserve.liquidation_threshold_bps * asset.unit // read.lt_price
            safe = safe * 999 // 1000  # rounding margin: the service's exact check must pass
            if safe < limit:
                limit, all_of_it = safe, False
    elif action == "borrow":
        price = read.reference_price
        power = before.by_ltv.available_borrows_base
        limit = min(power * asset.unit // price if price else 0, reserve.virtual_balance)
        if reserve.borrow_cap:
            total = ray_mul(reserve.total_scaled_debt, normalized_debt(state, now))
            limit = min(limit, max(0, reserve.borrow_cap * asset.unit - total))
        for _ in range(8):  # the floor above passes at once but for rounding; step down a little if not
            if not limit or borrow_allowed(before.by_ltv, amount=limit, price=price, decimals=asset.decimals):
                break
            limit -= max(1, limit // 10**6)
    elif action == "repay":
        limit, all_of_it = min(borrowed, wallet), wallet >= borrowed
    else:
        raise ValueError(f"unknown action {action!r}")

    submit = amount
    if amount == "max":
        # the service's "max" on withdraw and repay when that is everything; otherwise the number. Nothing
        # allowed: the smallest amount, so the dry run says why.
        submit = "max" if all_of_it and action in ("withdraw", "repay") else (limit or 1)
    return ActionPreview(action, asset.symbol, asset.decimals, before, limit, all_of_it, wallet, supplied, borrowed,
                         submit)
