"""The keeper's machinery: liquidations (Aave v3.3 or v4 LiquidationLogic, the pool's engine) computed in memory,
written in one flush.

Prices (DESIGN.md s2, "Which prices a liquidation uses"): eligibility, the close factor or v4's target and
variable bonus use the health factor at the oracle's liquidation-threshold price (`lt_price`, haircut included
when the policy says so); the collateral seized for the debt repaid is counted at `OracleRead.seize_price`
(the reference price), so a haircut decides whether and how much debt, never how many tokens.

One `LiquidationBook` is one transaction:
1. it locks the accounts (pk order) and reads their positions, which nobody else can now change;
2. it reads the reserves *without* locking them and accrues them in memory to `now`;
3. it runs exact liquidation steps on that state (the integers Aave would compute);
4. `flush` locks the reserves the accounts use (pk order), checks that their indexes at `now` and their
   parameters are still the ones the book computed with, applies the book's changes as deltas (scaled
   totals, virtual balance, deficit, the treasury's fee), and recomputes the rates from the final state.

Step 4 is what lets two keepers work at once: they contend only for the short flush. Within one second two
books see the same indexes, so their amounts are exactly what running them one after the other would give;
a reserve's rates depend only on its final balances (ReserveLogic.updateInterestRatesAndVirtualBalance is
path-independent within one timestamp). If a reserve moved under a book (another second's accrual, an admin's
parameter change), the book is discarded and recomputed with the reserves locked from the start.
"""
from __future__ import annotations

import json
import time
from collections import defaultdict
from typing import NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from common.errors import Conflict
from core.aave import engines
from core.aave.v3 import (
    HEALTH_FACTOR_LIQUIDATION_THRESHOLD,
    AccountData,
    DustError,
    LiquidationQuote,
    PositionValue,
    calculate_account_data,
    update_state,
)
from core.aave.v4 import PoolConfigError, PoolParameters
from core.aave.wadray import ray_div, ray_mul
from markets.models import Reserve
from markets.selectors import pool_engine
from markets.services import now_seconds, reserve_accrue, reserve_state, reserve_update_rates
from oracles.selectors import OracleRead, oracle_reads

from .models import Account, LedgerEntry, LiquidationEvent, Position, WalletBalance
from .positions import position_save, positions_write

MAX = "max"
MAX_STEPS = 20
# A price the keeper must not act on: no round yet, the market halted, or a suspect print.
UNTRUSTED_FLAGS = frozenset({"unknown", "halted", "outlier"})
# Reserve fields a book computes with; a change to any of them under the book means recomputing it.
_VERSION_FIELDS = ("liquidity_index", "variable_borrow_index", "liquidity_rate", "variable_borrow_rate",
                   "last_update", "grace_until", *Reserve.PARAMETER_FIELDS)


class NotLiquidatable(Conflict):
    code = "not_liquidatable"


class ReservesMoved(Exception):
    """A reserve changed between the book's unlocked read and its flush: recompute under lock."""


def _version(reserve: Reserve) -> tuple:
    return tuple(getattr(reserve, f) for f in _VERSION_FIELDS)


class _Position:
    """A position row of a locked account, as the book needs it (a model instance costs ~10x more to build)."""

    __slots__ = ("pk", "account_id", "reserve_id", "reserve", "scaled_supply", "scaled_debt", "collateral_enabled")

    def __init__(self, pk, account_id, reserve_id, scaled_supply, scaled_debt, collateral_enabled, reserve):
        self.pk, self.account_id, self.reserve_id, self.reserve = pk, account_id, reserve_id, reserve
        self.scaled_supply, self.scaled_debt = int(scaled_supply), int(scaled_debt)
        self.collateral_enabled = collateral_enabled


class _Entry(NamedTuple):
    """A ledger row to write; `event` is filled in with the event's id at flush."""

    event: LiquidationEvent | None
    account_id: int
    asset_id: int
    kind: str
    amount: int
    scaled_amount: int = 0
    index: int = 0
    detail: dict | None = None


class LiquidationBook:
    def __init__(self, *, account_ids: list[int], liquidator: Account | None, treasury: Account | None,
                 reads: dict[str, OracleRead] | None, now: int | None = None, lock_reserves: bool = False,
                 lock_accounts: bool = True, engine: tuple[str, PoolParameters] | None = None):
        """lock_accounts=False reads without locking: a what-if that computes and never flushes.
        `engine` = (name, v4 pool parameters); default: the pool's, as an admin set it."""
        self.liquidator, self.treasury = liquidator, treasury
        self.engine, self.pool = engine if engine is not None else pool_engine()
        self.locked_reserves = lock_reserves
        ids = sorted(set(account_ids))
        accounts = Account.objects.filter(pk__in=ids).order_by("pk")
        self.accounts = list((accounts.select_for_update() if lock_accounts else accounts).values_list("pk", flat=True))
        rows = Reserve.objects.select_related("asset").order_by("pk")
        if lock_reserves:
            rows = rows.select_for_update(of=("self",))
        self.reserves = {r.pk: r for r in rows}
        # Never accrue backwards: a reserve written in a later second than our clock read sets `now`.
        now = now_seconds() if now is None else now
        self.now = max([now, *(r.last_update for r in self.reserves.values())])
        self.versions = {pk: _version(r) for pk, r in self.reserves.items()}
        for reserve in self.reserves.values():
            reserve_accrue(reserve=reserve, now=self.now)
        # What the book's deltas are measured from (accrual moves none of these).
        self.base = {pk: (r.total_scaled_supply, r.total_scaled_debt, r.virtual_balance, r.deficit)
                     for pk, r in self.reserves.items()}
        self.by_symbol = {r.asset.symbol: r for r in self.reserves.values()}
        self.reads = dict(reads) if reads else oracle_reads([r.asset for r in self.reserves.values()])
        self.positions: dict[int, dict[int, _Position]] = defaultdict(dict)
        rows = Position.objects.filter(account_id__in=self.accounts).order_by("pk").values_list(
            "pk", "account_id", "reserve_id", "scaled_supply", "scaled_debt", "collateral_enabled")
        for row in rows:
            self.positions[row[1]][row[2]] = _Position(*row, reserve=self.reserves[row[2]])
        self.fee_scaled: dict[int, int] = defaultdict(int)  # reserve id -> aTokens (scaled) to the treasury
        self.keeper_delta: dict[int, int] = defaultdict(int)  # asset id -> change in the liquidator's wallet
        self.dirty: dict[int, _Position] = {}
        self.events: list[LiquidationEvent] = []
        self.ledger: list[_Entry] = []
        self._health: dict[int, tuple[AccountData, tuple[PositionValue, ...]]] = {}
        self._blocked: dict[str, str | None] = {}
        self._wall_now = timezone.now()

    # --- reads -------------------------------------------------------------------------------------------

    def _prices(self, reserve: Reserve) -> tuple[int, int]:
        """(collateral price, debt price) for the health factor: the liquidation-threshold price (haircut lower
        band when the policy applies it while closed); a borrowed stock token at the upper band, a stablecoin at
        par. Never the price seized collateral is counted at: that is `seize_price`."""
        read = self.reads[reserve.asset.symbol]
        return read.lt_price, read.debt_price

    def seize_price(self, symbol: str) -> int:
        return self.reads[symbol].seize_price

    def health(self, account_id: int) -> tuple[AccountData, tuple[PositionValue, ...]]:
        """GenericLogic.calculateUserAccountData on the book's state (reserves accrued to `now`, so the
        stored indexes are the normalized ones); cached until a step changes the account."""
        cached = self._health.get(account_id)
        if cached is None:
            values = []
            for reserve_id in sorted(self.positions[account_id]):
                p = self.positions[account_id][reserve_id]
                if not (p.scaled_supply or p.scaled_debt):
                    continue
                r = p.reserve
                coll_price, debt_price = self._prices(r)
                values.append(PositionValue(
                    symbol=r.asset.symbol, decimals=r.asset.decimals, price=coll_price,
                    supplied=ray_mul(p.scaled_supply, r.liquidity_index) if p.scaled_supply else 0,
                    borrowed=ray_mul(p.scaled_debt, r.variable_borrow_index) if p.scaled_debt else 0,
                    collateral=p.collateral_enabled, ltv_bps=r.ltv_bps,
                    liquidation_threshold_bps=r.liquidation_threshold_bps, debt_price=debt_price))
            cached = self._health[account_id] = (calculate_account_data(values), tuple(values))
        return cached

    def health_factor(self, account_id: int) -> int | None:
        data, _ = self.health(account_id)
        return data.health_factor if data.has_debt else None

    def blocked(self, symbol: str) -> str | None:
        """Why the keeper may not touch this reserve now (Aave's paused reserve and v3.1 grace period, the
        oracle policy's pause while closed and reopen grace, an untrusted price), or None."""
        if symbol not in self._blocked:
            reserve, read = self.by_symbol[symbol], self.reads[symbol]
            reason = None
            if reserve.paused:
                reason = "reserve_paused"
            elif reserve.grace_until and reserve.grace_until > self._wall_now:
                reason = "grace_period"
            elif read.liquidations_paused:
                reason = "liquidations_paused"
            elif read.grace_until and read.grace_until > self._wall_now:
                reason = "grace_period"
            elif UNTRUSTED_FLAGS.intersection(read.flags) or read.reference_price <= 0:
                reason = "price_untrusted"
            self._blocked[symbol] = reason
        return self._blocked[symbol]

    # --- choosing and quoting ----------------------------------------------------------------------------

    def _quote(self, account_id: int, debt: PositionValue, coll: PositionValue, debt_to_cover) -> LiquidationQuote:
        data, _ = self.health(account_id)
        reserve = self.by_symbol[coll.symbol]
        return engines.quote(
            self.engine, pool=self.pool,
            debt_to_cover=debt.borrowed if debt_to_cover == MAX else debt_to_cover, user_reserve_debt=debt.borrowed,
            debt_price=debt.debt_price, debt_decimals=debt.decimals, user_collateral_balance=coll.supplied,
            collateral_price=coll.price, collateral_decimals=coll.decimals, seize_price=self.seize_price(coll.symbol),
            liquidation_bonus_bps=reserve.liquidation_bonus_bps,
            liquidation_threshold_bps=reserve.liquidation_threshold_bps,
            protocol_fee_bps=reserve.liquidation_protocol_fee_bps, total_collateral_base=data.total_collateral_base,
            total_debt_base=data.total_debt_base, health_factor=data.health_factor)

    def best_pair(self, account_id: int) -> tuple[str, str] | None:
        """A rational keeper's liquidationCall: of every allowed (debt, collateral) pair at the largest amount
        the engine allows, the one that pays the keeper most (collateral received at its seize price minus debt
        repaid, in USD); ties go to the larger repayment. None when nothing is liquidatable."""
        data, values = self.health(account_id)
        if not data.has_debt or data.health_factor >= HEALTH_FACTOR_LIQUIDATION_THRESHOLD:
            return None
        best, best_key = None, None
        for debt in values:
            if not debt.borrowed or self.blocked(debt.symbol):
                continue
            for coll in values:
                if not (coll.collateral and coll.supplied and coll.liquidation_threshold_bps) or \
                        self.blocked(coll.symbol):
                    continue
                try:
                    quote = self._quote(account_id, debt, coll, MAX)
                except (DustError, PoolConfigError):
                    continue
                repaid = quote.debt_to_repay * debt.debt_price // 10**debt.decimals
                profit = quote.collateral_to_liquidator * self.seize_price(coll.symbol) // 10**coll.decimals - repaid
                key = (profit, repaid, debt.symbol, coll.symbol)
                if best_key is None or key > best_key:
                    best, best_key = (debt.symbol, coll.symbol), key
        return best

    def keep(self, account_ids, *, round_key: str, oracle_round_id: int | None = None,
             started_at: float | None = None) -> list[LiquidationEvent]:
        """The keeper's loop: per account, the best pair while HF < 1 and a pair is liquidatable."""
        for account_id in account_ids:
            for step in range(1, MAX_STEPS + 1):
                pair = self.best_pair(account_id)
                if pair is None:
                    break
                self.liquidate(account_id=account_id, debt_symbol=pair[0], collateral_symbol=pair[1],
                               round_key=round_key, step=step, oracle_round_id=oracle_round_id,
                               started_at=started_at)
        return self.events

    # --- one liquidation step -------------------------------------------------------------------------

    def liquidate(self, *, account_id: int, debt_symbol: str, collateral_symbol: str, debt_to_cover=MAX,
                  round_key: str, step: int, oracle_round_id: int | None = None,
                  started_at: float | None = None) -> LiquidationEvent:
        """LiquidationLogic.executeLiquidationCall (the book's engine), receiveAToken = false, on its state."""
        d_res, c_res = self.by_symbol[debt_symbol], self.by_symbol[collateral_symbol]
        data, values = self.health(account_id)
        hf = data.health_factor
        if not data.has_debt or hf >= HEALTH_FACTOR_LIQUIDATION_THRESHOLD:
            raise NotLiquidatable("Health factor is not below 1.")
        for symbol in (debt_symbol, collateral_symbol):
            reason = self.blocked(symbol)
            if reason:
                raise NotLiquidatable(f"{symbol} cannot be liquidated now ({reason.replace('_', ' ')}).",
                                      code=reason)
        by_symbol = {v.symbol: v for v in values}
        coll, debt = by_symbol.get(collateral_symbol), by_symbol.get(debt_symbol)
        if not (coll and coll.collateral and coll.supplied and coll.liquidation_threshold_bps):
            raise NotLiquidatable(f"{collateral_symbol} is not collateral of this account.", code="no_collateral")
        if not (debt and debt.borrowed):
            raise NotLiquidatable(f"The account has no {debt_symbol} debt.", code="no_debt")
        try:
            quote = self._quote(account_id, debt, coll, debt_to_cover)
        except DustError as exc:
            raise NotLiquidatable(str(exc), code="dust") from None
        except PoolConfigError as exc:  # unreachable while pool and reserve changes are validated; never a 5xx
            raise NotLiquidatable(str(exc), code="invalid_configuration") from None
        d_pos, c_pos = self.positions[account_id][d_res.pk], self.positions[account_id][c_res.pk]
        user_debt = debt.borrowed
        if quote.disables_collateral:
            c_pos.collateral_enabled = False
        # _burnDebtTokens: all of it when no collateral is left (the rest becomes deficit). Burning the whole
        # scaled balance avoids the 1-wei dust a rayDiv round trip can leave (as Aave v3.4 does).
        full = quote.has_no_collateral_left or quote.debt_to_repay == user_debt
        burn = d_pos.scaled_debt if full else ray_div(quote.debt_to_repay, d_res.variable_borrow_index)
        d_pos.scaled_debt -= burn
        d_res.total_scaled_debt -= burn
        d_res.virtual_balance += quote.debt_to_repay
        outstanding = user_debt - quote.debt_to_repay
        deficit = outstanding if quote.has_no_collateral_left else 0
        d_res.deficit += deficit
        # _burnCollateralATokens, then the protocol fee moves to the treasury as aTokens
        c_burn = min(ray_div(quote.collateral_to_liquidator, c_res.liquidity_index), c_pos.scaled_supply)
        c_pos.scaled_supply -= c_burn
        c_res.total_scaled_supply -= c_burn
        c_res.virtual_balance -= quote.collateral_to_liquidator
        fee = quote.protocol_fee
        if fee:
            fee_scaled = ray_div(fee, c_res.liquidity_index)
            if fee_scaled > c_pos.scaled_supply:  # Aave: never send more aTokens than the balance (1-wei)
                fee_scaled = c_pos.scaled_supply
                fee = ray_mul(fee_scaled, c_res.liquidity_index)
            c_pos.scaled_supply -= fee_scaled
            self.fee_scaled[c_res.pk] += fee_scaled
        self.dirty[d_pos.pk], self.dirty[c_pos.pk] = d_pos, c_pos
        self.keeper_delta[d_res.asset_id] -= quote.debt_to_repay
        self.keeper_delta[c_res.asset_id] += quote.collateral_to_liquidator
        bad_debt = self._burn_bad_debt(account_id, exclude=d_res.pk) if quote.has_no_collateral_left else []
        self._health.pop(account_id, None)
        seized = quote.collateral_to_liquidator + fee
        event = LiquidationEvent(
            account_id=account_id, oracle_round_id=oracle_round_id, round_key=round_key, step=step,
            debt_asset=d_res.asset, collateral_asset=c_res.asset, debt_repaid=quote.debt_to_repay,
            collateral_seized=seized, protocol_fee=fee, deficit=deficit + sum(e.amount for e in bad_debt),
            health_factor_before=hf, health_factor_after=self.health_factor(account_id),
            debt_price=debt.debt_price, collateral_price=self.seize_price(collateral_symbol),  # what seized counts at
            session=self.reads[collateral_symbol].session,
            latency_ms=max(0, int((time.time() - started_at) * 1000)) if started_at else 0,
        )
        self.events.append(event)
        detail = dict(debt_asset=debt_symbol, collateral_asset=collateral_symbol)
        liquidation = LedgerEntry.Kind.LIQUIDATION
        self.ledger.append(_Entry(event, account_id, d_res.asset_id, liquidation, quote.debt_to_repay, burn,
                                  d_res.variable_borrow_index, dict(detail, side="debt_repaid")))
        self.ledger.append(_Entry(event, account_id, c_res.asset_id, liquidation, seized, c_burn, c_res.liquidity_index,
                                  dict(detail, side="collateral_seized", protocol_fee=str(fee))))
        if deficit:
            self.ledger.append(_Entry(event, account_id, d_res.asset_id, LedgerEntry.Kind.DEFICIT, deficit,
                                      detail=detail))
        self.ledger.extend(entry._replace(event=event) for entry in bad_debt)
        return event

    def _burn_bad_debt(self, account_id: int, *, exclude: int) -> list[_Entry]:
        """LiquidationLogic._burnBadDebt: with no collateral left, every other debt becomes deficit."""
        entries = []
        for reserve_id, p in sorted(self.positions[account_id].items()):
            if reserve_id == exclude or not p.scaled_debt:
                continue
            res = self.reserves[reserve_id]
            debt = ray_mul(p.scaled_debt, res.variable_borrow_index)
            res.total_scaled_debt -= p.scaled_debt
            p.scaled_debt = 0
            res.deficit += debt
            self.dirty[p.pk] = p
            entries.append(_Entry(None, account_id, res.asset_id, LedgerEntry.Kind.DEFICIT, debt,
                                  detail={"reason": "bad debt: no collateral left"}))
        return entries

    # --- writing -------------------------------------------------------------------------------------------

    def _lock_and_check_reserves(self) -> dict[int, Reserve]:
        """Lock the reserves the book's accounts use (pk order) and make sure they are the ones it computed
        with: same parameters, and the same indexes at `now`. Raise ReservesMoved otherwise."""
        used = sorted({rid for positions in self.positions.values() for rid in positions} | set(self.fee_scaled))
        if self.locked_reserves:
            return {pk: self.reserves[pk] for pk in used}
        locked = {r.pk: r for r in Reserve.objects.select_for_update().select_related("asset")
                  .filter(pk__in=used).order_by("pk")}
        for pk, row in locked.items():
            if _version(row) == self.versions[pk]:
                continue
            mine = self.reserves[pk]
            if row.last_update > self.now or any(getattr(row, f) != getattr(mine, f)
                                                 for f in ("grace_until", *Reserve.PARAMETER_FIELDS)):
                raise ReservesMoved(pk)
            at_now = update_state(reserve_state(row), self.now, reserve_factor_bps=row.reserve_factor_bps)
            if (at_now.liquidity_index, at_now.variable_borrow_index) != \
                    (mine.liquidity_index, mine.variable_borrow_index):
                raise ReservesMoved(pk)
        return locked

    def flush(self) -> list[LiquidationEvent]:
        if not self.events and not self.dirty:
            return []
        if self.liquidator is None or self.treasury is None:
            raise RuntimeError("a book without a liquidator and a treasury is a what-if: it never flushes")
        locked = self._lock_and_check_reserves()
        for pk, row in locked.items():
            mine, base = self.reserves[pk], self.base[pk]
            delta = (mine.total_scaled_supply - base[0], mine.total_scaled_debt - base[1],
                     mine.virtual_balance - base[2], mine.deficit - base[3])
            if not any(delta):
                continue
            if row is not mine:  # the row as committed by others, accrued to the same indexes
                reserve_accrue(reserve=row, now=self.now)
                row.total_scaled_supply += delta[0]
                row.total_scaled_debt += delta[1]
                row.virtual_balance += delta[2]
                row.deficit += delta[3]
            reserve_update_rates(reserve=row)  # the rates of the final balances (see the module docstring)
            row.save(update_fields=["liquidity_index", "variable_borrow_index", "liquidity_rate",
                                    "variable_borrow_rate", "last_update", "total_scaled_supply",
                                    "total_scaled_debt", "accrued_to_treasury", "virtual_balance", "deficit"])
        positions_write(list(self.dirty.values()))
        self._credit_treasury(locked)
        self._settle_liquidator()
        _insert_events(self.events, self.ledger)
        return self.events

    def _credit_treasury(self, locked: dict[int, Reserve]) -> None:
        """The protocol fee, as aTokens, to the treasury's positions (locked rows: other books credit them too)."""
        for reserve_id, scaled in sorted(self.fee_scaled.items()):
            if not scaled:
                continue
            Position.objects.get_or_create(account=self.treasury, reserve_id=reserve_id)
            position = Position.objects.select_for_update().get(account=self.treasury, reserve_id=reserve_id)
            position.scaled_supply += scaled
            position_save(position, decimals=locked[reserve_id].asset.decimals, update_fields=["scaled_supply"])

    def _settle_liquidator(self) -> None:
        """The liquidator pays the debt and receives the collateral. The keeper is funded with what it repays,
        recorded as minted, so token conservation still checks out."""
        for asset_id, delta in sorted(self.keeper_delta.items()):
            if not delta:
                continue
            WalletBalance.objects.get_or_create(account=self.liquidator, asset_id=asset_id)
            wallet = WalletBalance.objects.select_for_update().get(account=self.liquidator, asset_id=asset_id)
            if wallet.amount + delta < 0:
                need = -(wallet.amount + delta)
                LedgerEntry.objects.create(account=self.liquidator, asset_id=asset_id, kind=LedgerEntry.Kind.MINT,
                                           amount=need, detail={"reason": "keeper funding"})
                wallet.amount += need
            wallet.amount += delta
            wallet.save(update_fields=["amount"])


_EVENT_COLUMNS = ("id", "account_id", "oracle_round_id", "round_key", "step", "debt_asset_id", "collateral_asset_id",
                  "debt_repaid", "collateral_seized", "protocol_fee", "deficit", "health_factor_before",
                  "health_factor_after", "debt_price", "collateral_price", "session", "latency_ms", "created_at")
_LEDGER_COLUMNS = ("account_id", "asset_id", "kind", "amount", "scaled_amount", "index", "detail", "created_at")


def _insert_events(events: list[LiquidationEvent], ledger: list[_Entry]) -> None:
    """Events, then ledger rows that name their event. On PostgreSQL: ids from the sequence, then COPY (Django's
    bulk_create spends more time building SQL than the database spends writing)."""
    def detail(entry: _Entry) -> dict:
        return dict(entry.detail or {}, event=entry.event.pk) if entry.event is not None else entry.detail or {}

    if connection.vendor != "postgresql":
        LiquidationEvent.objects.bulk_create(events)
        LedgerEntry.objects.bulk_create([
            LedgerEntry(account_id=e.account_id, asset_id=e.asset_id, kind=e.kind, amount=e.amount,
                        scaled_amount=e.scaled_amount, index=e.index, detail=detail(e)) for e in ledger])
        return
    now = timezone.now()
    with connection.cursor() as cursor:
        if events:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                           [LiquidationEvent._meta.db_table, len(events)])
            for event, (pk,) in zip(events, sorted(cursor.fetchall())):
                event.pk, event.created_at = pk, now
            with cursor.cursor.copy(f"COPY {LiquidationEvent._meta.db_table} ({', '.join(_EVENT_COLUMNS)}) "
                                    "FROM STDIN") as copy:
                for e in events:
                    copy.write_row((e.pk, e.account_id, e.oracle_round_id, e.round_key, e.step, e.debt_asset_id,
                                    e.collateral_asset_id, e.debt_repaid, e.collateral_seized, e.protocol_fee,
                                    e.deficit, e.health_factor_before, e.health_factor_after, e.debt_price,
                                    e.collateral_price, e.session, e.latency_ms, now))
        with cursor.cursor.copy(f"COPY {LedgerEntry._meta.db_table} ({', '.join(_LEDGER_COLUMNS)}) FROM STDIN") as copy:
            for e in ledger:
                copy.write_row((e.account_id, e.asset_id, e.kind, e.amount, e.scaled_amount, e.index,
                                json.dumps(detail(e)), now))


# --- the two ways in: one step here, or the keeper over a chunk (lending.keeper.keeper_run) ------------------

def book_run(run, *, account_ids: list[int], liquidator: Account, treasury: Account,
             reads: dict[str, OracleRead] | None, now: int | None = None):
    """Inside the caller's transaction, run `run(book)` and flush; if a reserve moved under the unlocked book,
    do it again with the reserves locked from the start (the accounts stay locked, nothing was written)."""
    book = LiquidationBook(account_ids=account_ids, liquidator=liquidator, treasury=treasury, reads=reads, now=now)
    result = run(book)
    try:
        book.flush()
        return result
    except ReservesMoved:
        book = LiquidationBook(account_ids=account_ids, liquidator=liquidator, treasury=treasury, reads=reads,
                               now=now, lock_reserves=True)
        result = run(book)
        book.flush()
        return result


def account_liquidate(*, account_id: int, debt_symbol: str, collateral_symbol: str, debt_to_cover=MAX,
                      round_key: str, step: int, oracle_round_id: int | None = None, liquidator: Account,
                      treasury: Account, started_at: float | None = None, now: int | None = None,
                      reads: dict[str, OracleRead] | None = None) -> LiquidationEvent:
    """One liquidationCall, unique per (account, round_key, step): a repeat returns the existing event."""
    for symbol in (debt_symbol, collateral_symbol):
        if not Reserve.objects.filter(asset__symbol=symbol).exists():
            raise NotLiquidatable(f"Unknown asset {symbol!r}.", code="unknown_asset")
    if debt_to_cover != MAX and (isinstance(debt_to_cover, bool) or not isinstance(debt_to_cover, int)
                                 or debt_to_cover <= 0):
        raise NotLiquidatable("debt_to_cover must be a positive integer of base units, or \"max\".",
                              code="invalid_amount")
    with transaction.atomic():
        existing = LiquidationEvent.objects.filter(account_id=account_id, round_key=round_key, step=step).first()
        if existing:
            return existing
        if not Account.objects.select_for_update().filter(pk=account_id).exists():
            raise NotLiquidatable(f"No account {account_id}.", code="unknown_account")
        # another worker may have done this step while we waited for the lock
        existing = LiquidationEvent.objects.filter(account_id=account_id, round_key=round_key, step=step).first()
        if existing:
            return existing
        return book_run(
            lambda book: book.liquidate(account_id=account_id, debt_symbol=debt_symbol,
                                        collateral_symbol=collateral_symbol, debt_to_cover=debt_to_cover,
                                        round_key=round_key, step=step, oracle_round_id=oracle_round_id,
                                        started_at=started_at),
            account_ids=[account_id], liquidator=liquidator, treasury=treasury, reads=reads, now=now)
