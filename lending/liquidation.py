"""Liquidations (Aave v3.3 LiquidationLogic) done in memory on locked rows, then written in one flush.

One `LiquidationBook` is one transaction: it locks the accounts (pk order) and then every reserve (pk order),
accrues the reserves, runs as many exact liquidation steps as asked, and writes positions, reserves, wallets,
events and ledger rows in a handful of bulk statements. `account_liquidate` is one step on one account; the
keeper runs whole chunks of accounts through one book, which is what makes it fast.
"""
from __future__ import annotations

import time
from collections import defaultdict

from django.db import connection, transaction
from django.utils import timezone

from markets.errors import Conflict
from markets.models import Asset, Reserve
from markets.services import now_seconds, reserve_accrue, reserve_update_rates
from oracles.selectors import OracleRead, oracle_reads
from protocol.core import HEALTH_FACTOR_LIQUIDATION_THRESHOLD, DustError, quote_liquidation
from protocol.wadray import ray_div, ray_mul

from .models import Account, LedgerEntry, LiquidationEvent, Position, WalletBalance
from .selectors import Health, health_of, position_amounts

MAX = "max"
MAX_STEPS = 20


class NotLiquidatable(Conflict):
    code = "not_liquidatable"


def _shadow(position: Position) -> None:
    unit = 10**position.reserve.asset.decimals
    position.supply_shadow = position.scaled_supply / unit
    position.debt_shadow = position.scaled_debt / unit


def _write_positions(positions: list[Position]) -> None:
    """One prepared UPDATE run for every row (Django's bulk_update builds a CASE per field, far slower)."""
    if not positions:
        return
    field = Position._meta.get_field("scaled_supply")
    rows = [(field.get_db_prep_value(p.scaled_supply, connection), field.get_db_prep_value(p.scaled_debt, connection),
             p.collateral_enabled, p.supply_shadow, p.debt_shadow, p.pk) for p in positions]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {Position._meta.db_table} SET scaled_supply = %s, scaled_debt = %s, collateral_enabled = %s, "
            "supply_shadow = %s, debt_shadow = %s WHERE id = %s", rows)


class LiquidationBook:
    def __init__(self, *, account_ids: list[int], liquidator: Account, treasury: Account,
                 reads: dict[str, OracleRead] | None, now: int | None = None):
        self.now = now_seconds() if now is None else now
        self.liquidator, self.treasury = liquidator, treasury
        ids = sorted(set(account_ids) | {liquidator.pk})
        self.accounts = {a.pk: a for a in Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
        self.reserves = {r.pk: r for r in Reserve.objects.select_for_update().select_related("asset").order_by("pk")}
        for reserve in self.reserves.values():
            reserve_accrue(reserve=reserve, now=self.now)
        self.by_symbol = {r.asset.symbol: r for r in self.reserves.values()}
        self.reads = dict(reads) if reads else oracle_reads([r.asset for r in self.reserves.values()])
        self.positions: dict[int, dict[int, Position]] = defaultdict(dict)
        for p in Position.objects.filter(account_id__in=account_ids).order_by("pk"):
            p.reserve = self.reserves[p.reserve_id]
            self.positions[p.account_id][p.reserve_id] = p
        self.treasury_positions: dict[int, Position] = {}
        self.keeper_delta: dict[int, int] = defaultdict(int)  # asset id -> change in the keeper's wallet
        self.dirty: set[int] = set()
        self.events: list[LiquidationEvent] = []
        self.ledger: list[tuple[LiquidationEvent | None, LedgerEntry]] = []
        self._health: dict[int, Health] = {}

    # --- reads -------------------------------------------------------------------------------------------

    def health(self, account_id: int) -> Health:
        """Exact health on the book's state; cached until a step changes the account."""
        if account_id not in self._health:
            positions = [self.positions[account_id][rid] for rid in sorted(self.positions[account_id])]
            self._health[account_id] = health_of(positions, self.reads, self.now)
        return self._health[account_id]

    def pairs(self, account_id: int) -> list[tuple[str, str]]:
        """A rational keeper's order: the largest debt first, against the collateral worth the most."""
        values = self.health(account_id).lt_values
        debts = sorted((v for v in values if v.borrowed),
                       key=lambda v: -(v.borrowed * (v.debt_price or v.price) // 10**v.decimals))
        colls = sorted((v for v in values if v.collateral and v.supplied and v.liquidation_threshold_bps),
                       key=lambda v: -(v.supplied * v.price // 10**v.decimals))
        return [(d.symbol, c.symbol) for d in debts for c in colls]

    # --- one liquidation step -------------------------------------------------------------------------

    def liquidate(self, *, account_id: int, debt_symbol: str, collateral_symbol: str, debt_to_cover=MAX,
                  round_key: str, step: int, oracle_round_id: int | None = None,
                  started_at: float | None = None) -> LiquidationEvent:
        d_res, c_res = self.by_symbol[debt_symbol], self.by_symbol[collateral_symbol]
        account = self.accounts[account_id]
        health = self.health(account_id)
        hf = health.by_lt.health_factor
        if not health.by_lt.has_debt or hf >= HEALTH_FACTOR_LIQUIDATION_THRESHOLD:
            raise NotLiquidatable("Health factor is not below 1.")
        wall_now = timezone.now()
        for res in (d_res, c_res):
            if res.paused:
                raise NotLiquidatable(f"The {res.asset.symbol} reserve is paused.", code="reserve_paused")
            if res.grace_until and res.grace_until > wall_now:
                raise NotLiquidatable(f"{res.asset.symbol} is in its grace period.", code="grace_period")
        c_read, d_read = self.reads[collateral_symbol], self.reads[debt_symbol]
        for read in (c_read, d_read):
            if read.liquidations_paused:
                raise NotLiquidatable(f"Liquidations of {read.symbol} are paused.", code="liquidations_paused")
            if read.grace_until and read.grace_until > wall_now:
                raise NotLiquidatable(f"{read.symbol} is in its reopen grace period.", code="grace_period")
        c_pos, d_pos = self.positions[account_id].get(c_res.pk), self.positions[account_id].get(d_res.pk)
        user_coll = position_amounts(c_pos, c_res, self.now)[0] if c_pos else 0
        user_debt = position_amounts(d_pos, d_res, self.now)[1] if d_pos else 0
        if not (c_pos and c_pos.collateral_enabled and user_coll and c_res.liquidation_threshold_bps):
            raise NotLiquidatable(f"{collateral_symbol} is not collateral of this account.", code="no_collateral")
        if user_debt == 0:
            raise NotLiquidatable(f"The account has no {debt_symbol} debt.", code="no_debt")
        debt_asset, coll_asset = d_res.asset, c_res.asset
        debt_price = d_read.reference_price if debt_asset.kind == Asset.Kind.STABLECOIN else d_read.upper_price
        coll_price = c_read.lt_price
        try:
            quote = quote_liquidation(
                debt_to_cover=user_debt if debt_to_cover == MAX else debt_to_cover, user_reserve_debt=user_debt,
                debt_price=debt_price, debt_decimals=debt_asset.decimals, user_collateral_balance=user_coll,
                collateral_price=coll_price, collateral_decimals=coll_asset.decimals,
                liquidation_bonus_bps=c_res.liquidation_bonus_bps,
                protocol_fee_bps=c_res.liquidation_protocol_fee_bps,
                total_collateral_base=health.by_lt.total_collateral_base,
                total_debt_base=health.by_lt.total_debt_base, health_factor=hf,
            )
        except DustError as exc:
            raise NotLiquidatable(str(exc), code="dust") from None
        if quote.disables_collateral:
            c_pos.collateral_enabled = False
        # _burnDebtTokens
        full = quote.has_no_collateral_left or quote.debt_to_repay == user_debt
        burn = d_pos.scaled_debt if full else ray_div(quote.debt_to_repay, d_res.variable_borrow_index)
        d_pos.scaled_debt -= burn
        d_res.total_scaled_debt -= burn
        deficit = 0
        outstanding = user_debt - quote.debt_to_repay
        if quote.has_no_collateral_left and outstanding:
            deficit = outstanding
            d_res.deficit += outstanding
        reserve_update_rates(reserve=d_res, liquidity_added=quote.debt_to_repay)
        # _burnCollateralATokens, then the protocol fee to the treasury as aTokens
        reserve_update_rates(reserve=c_res, liquidity_taken=quote.collateral_to_liquidator)
        c_burn = min(ray_div(quote.collateral_to_liquidator, c_res.liquidity_index), c_pos.scaled_supply)
        c_pos.scaled_supply -= c_burn
        c_res.total_scaled_supply -= c_burn
        fee = quote.protocol_fee
        if fee:
            fee_scaled = ray_div(fee, c_res.liquidity_index)
            if fee_scaled > c_pos.scaled_supply:  # Aave: avoid sending more aTokens than the balance
                fee_scaled = c_pos.scaled_supply
                fee = ray_mul(fee_scaled, c_res.liquidity_index)
            c_pos.scaled_supply -= fee_scaled
            self._treasury_position(c_res).scaled_supply += fee_scaled
        self.dirty.update({d_pos.pk, c_pos.pk})
        self.keeper_delta[debt_asset.pk] -= quote.debt_to_repay
        self.keeper_delta[coll_asset.pk] += quote.collateral_to_liquidator
        if quote.has_no_collateral_left:
            deficit += self._burn_bad_debt(account, exclude=d_res.pk)
        self._health.pop(account_id, None)
        after = self.health(account_id)
        seized = quote.collateral_to_liquidator + fee
        event = LiquidationEvent(
            account=account, oracle_round_id=oracle_round_id, round_key=round_key, step=step, debt_asset=debt_asset,
            collateral_asset=coll_asset, debt_repaid=quote.debt_to_repay, collateral_seized=seized,
            protocol_fee=fee, deficit=deficit, health_factor_before=hf,
            health_factor_after=after.by_lt.health_factor if after.by_lt.has_debt else None,
            debt_price=debt_price, collateral_price=coll_price, session=c_read.session,
            latency_ms=int((time.time() - started_at) * 1000) if started_at else 0,
        )
        self.events.append(event)
        detail = dict(debt_asset=debt_symbol, collateral_asset=collateral_symbol)
        self.ledger.append((event, LedgerEntry(account=account, asset=debt_asset, kind=LedgerEntry.Kind.LIQUIDATION,
                                               amount=quote.debt_to_repay, scaled_amount=burn,
                                               index=d_res.variable_borrow_index,
                                               detail=dict(detail, side="debt_repaid"))))
        self.ledger.append((event, LedgerEntry(account=account, asset=coll_asset, kind=LedgerEntry.Kind.LIQUIDATION,
                                               amount=seized, scaled_amount=c_burn, index=c_res.liquidity_index,
                                               detail=dict(detail, side="collateral_seized",
                                                           protocol_fee=str(fee)))))
        if quote.has_no_collateral_left and outstanding:  # other reserves' bad debt has its own rows
            self.ledger.append((event, LedgerEntry(account=account, asset=debt_asset, kind=LedgerEntry.Kind.DEFICIT,
                                                   amount=outstanding, detail=detail)))
        return event

    def _treasury_position(self, reserve: Reserve) -> Position:
        if reserve.pk not in self.treasury_positions:
            position, _ = Position.objects.get_or_create(account=self.treasury, reserve=reserve)
            position.reserve = reserve
            self.treasury_positions[reserve.pk] = position
        return self.treasury_positions[reserve.pk]

    def _burn_bad_debt(self, account: Account, *, exclude: int) -> int:
        """LiquidationLogic._burnBadDebt: with no collateral left, every other debt becomes deficit."""
        total = 0
        for reserve_id, p in sorted(self.positions[account.pk].items()):
            if reserve_id == exclude or not p.scaled_debt:
                continue
            res = self.reserves[reserve_id]
            debt = ray_mul(p.scaled_debt, res.variable_borrow_index)
            res.total_scaled_debt -= p.scaled_debt
            p.scaled_debt = 0
            res.deficit += debt
            reserve_update_rates(reserve=res)
            self.dirty.add(p.pk)
            self.ledger.append((None, LedgerEntry(account=account, asset=res.asset, kind=LedgerEntry.Kind.DEFICIT,
                                                  amount=debt)))
            total += debt
        return total

    # --- writing -------------------------------------------------------------------------------------------

    def flush(self) -> list[LiquidationEvent]:
        if not self.events and not self.dirty:
            return []
        changed = [p for acc in self.positions.values() for p in acc.values() if p.pk in self.dirty]
        changed += list(self.treasury_positions.values())
        for p in changed:
            _shadow(p)
        _write_positions(changed)
        for reserve in self.reserves.values():
            reserve.save()
        for asset_id, delta in sorted(self.keeper_delta.items()):
            wallet, _ = WalletBalance.objects.get_or_create(account=self.liquidator, asset_id=asset_id)
            if wallet.amount + delta < 0:  # the keeper is funded with what it repays (recorded as minted)
                need = -(wallet.amount + delta)
                LedgerEntry.objects.create(account=self.liquidator, asset_id=asset_id, kind=LedgerEntry.Kind.MINT,
                                           amount=need, detail={"reason": "keeper funding"})
                wallet.amount += need
            wallet.amount += delta
            wallet.save()
        LiquidationEvent.objects.bulk_create(self.events)
        rows = []
        for event, entry in self.ledger:
            if event is not None:
                entry.detail = dict(entry.detail, event=event.pk)
            rows.append(entry)
        LedgerEntry.objects.bulk_create(rows)
        return self.events


def account_liquidate(*, account_id: int, debt_symbol: str, collateral_symbol: str, debt_to_cover=MAX,
                      round_key: str, step: int, oracle_round_id: int | None = None, liquidator: Account,
                      treasury: Account, started_at: float | None = None, now: int | None = None,
                      reads: dict[str, OracleRead] | None = None) -> LiquidationEvent:
    """One liquidationCall, unique per (account, round_key, step): a repeat returns the existing event."""
    for symbol in (debt_symbol, collateral_symbol):
        if not Asset.objects.filter(symbol=symbol).exists():
            raise NotLiquidatable(f"Unknown asset {symbol!r}.", code="unknown_asset")
    with transaction.atomic():
        existing = LiquidationEvent.objects.filter(account_id=account_id, round_key=round_key, step=step).first()
        if existing:
            return existing
        book = LiquidationBook(account_ids=[account_id], liquidator=liquidator, treasury=treasury, reads=reads,
                               now=now)
        existing = LiquidationEvent.objects.filter(account_id=account_id, round_key=round_key, step=step).first()
        if existing:  # another worker did this step while we waited for the locks
            return existing
        event = book.liquidate(account_id=account_id, debt_symbol=debt_symbol, collateral_symbol=collateral_symbol,
                               debt_to_cover=debt_to_cover, round_key=round_key, step=step,
                               oracle_round_id=oracle_round_id, started_at=started_at)
        book.flush()
        return event


def keep_accounts(*, account_ids: list[int], round_key: str, liquidator: Account, treasury: Account,
                  oracle_round_id: int | None = None, reads: dict[str, OracleRead] | None = None,
                  started_at: float | None = None) -> list[LiquidationEvent]:
    """The keeper for a chunk: per account, liquidate while HF < 1 and a pair is liquidatable.

    Accounts that already have events for this round_key were done by an earlier delivery of the same task
    (a chunk commits as one transaction), so a redelivered task acts once."""
    with transaction.atomic():
        book = LiquidationBook(account_ids=account_ids, liquidator=liquidator, treasury=treasury, reads=reads)
        done = set(LiquidationEvent.objects.filter(account_id__in=account_ids, round_key=round_key)
                   .values_list("account_id", flat=True))
        for account_id in sorted(set(account_ids) - done):
            if account_id not in book.accounts:
                continue
            for step in range(1, MAX_STEPS + 1):
                acted = False
                for debt_symbol, coll_symbol in book.pairs(account_id):
                    try:
                        book.liquidate(account_id=account_id, debt_symbol=debt_symbol,
                                       collateral_symbol=coll_symbol, round_key=round_key, step=step,
                                       oracle_round_id=oracle_round_id, started_at=started_at)
                        acted = True
                        break
                    except NotLiquidatable as exc:
                        if exc.code in ("dust", "no_collateral", "no_debt"):
                            continue  # try the next pair
                        break
                if not acted:
                    break
        return book.flush()
