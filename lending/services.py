"""Writes for lending, each one atomic: faucet, supply, withdraw, borrow, repay, collateral, liquidate.

Lock order, everywhere: account rows (pk order), then reserve rows (pk order). Positions and wallets
belong to a locked account, so they need no lock of their own.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from common.errors import DomainError, Unprocessable
from common.prepared import insert_row, prepared, update_columns
from common.queue import enqueue_on_commit
from core.aave.v3 import (
    HEALTH_FACTOR_LIQUIDATION_THRESHOLD,
    borrow_allowed,
)
from core.aave.wadray import ray_div, ray_mul
from core.amounts import format_amount, format_wad
from markets import selectors as market_selectors
from markets.models import Asset, Reserve, is_symbol
from markets.services import now_seconds, reserve_accrue, reserve_save_state, reserve_update_rates
from oracles.selectors import OracleRead, oracle_reads

from . import identity, liquidation
from .liquidation import NotLiquidatable  # noqa: F401 - part of this module's interface
from .models import Account, FaucetPolicy, LedgerEntry, LiquidationEvent, Position, WalletBalance
from .positions import position_save
from .selectors import Health, account_positions, faucet_taken_today, health_of

MAX = "max"


# --- helpers --------------------------------------------------------------------------------------

_account_of = prepared(lambda user_id: Account.objects.filter(user_id=user_id))


def account_for_user(user) -> Account:
    """The user's account, made on first use (the lookup's SQL compiled once a process)."""
    found = _account_of.first(user.pk)
    if found is not None:
        return found
    account, _ = Account.objects.get_or_create(user=user)
    return account


def system_account(role: Account.SystemRole) -> Account:
    """A system account, found by its role only (the migrations make them; a username proves nothing)."""
    account = Account.objects.filter(system_role=role).first()
    if account is None:
        raise RuntimeError(f"No {role} system account: run `manage.py migrate`.")
    return account


def treasury_account() -> Account:
    return system_account(Account.SystemRole.TREASURY)


# --- identity: usernames and wallets ----------------------------------------------------------------

def username_available(username: str) -> str:
    """The username as it would be stored, or a DomainError: refused outright (identity.username_clean), or
    equal to an existing one once case and Unicode forms are folded."""
    name = identity.username_clean(username)
    taken = Q(username__iexact=name) | Q(username__iexact=identity.username_key(name))
    if get_user_model().objects.filter(taken).exists():
        raise DomainError("That username is taken.", code="username_taken", field="username", status=409)
    return name


@transaction.atomic
def user_register(*, username: str, password: str):
    """A password account. Registrations of one folded name queue on a lock, so "Bob" and "bob" cannot both
    pass the check at once (SQLite's immediate transactions already run one writer at a time)."""
    name = identity.username_clean(username)
    if connection.vendor == "postgresql":
        digest = hashlib.blake2b(identity.username_key(name).encode(), digest_size=8).digest()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)])
    name = username_available(name)
    user = get_user_model().objects.create_user(username=name, password=password)
    Account.objects.create(user=user)
    return user


def _active_user(account: Account):
    if not account.user.is_active:
        raise DomainError("This account is disabled.", code="account_disabled", status=403)
    return account.user


@transaction.atomic
def wallet_sign_in(address: str):
    """The user a verified SIWE signature of `address` signs in: the one whose account holds the address, else
    a new user "wallet-<random>" (registration refuses that prefix and anything like an address)."""
    address = identity.address_normal(address)
    account = Account.objects.select_related("user").filter(eth_address=address).first()
    if account is not None:
        return _active_user(account)
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user(
                username=identity.WALLET_USERNAME_PREFIX + secrets.token_hex(10), password=None)
            Account.objects.create(user=user, eth_address=address)
            return user
    except IntegrityError:  # a concurrent first sign-in of the same address made it
        return _active_user(Account.objects.select_related("user").get(eth_address=address))


@transaction.atomic
def wallet_link(*, user, address: str) -> Account:
    """Link a wallet to the signed-in user's account after a verified SIWE signature of it (it replaces any
    wallet linked before). 409 if another account holds the address."""
    address = identity.address_normal(address)
    account = Account.objects.select_for_update().get(pk=account_for_user(user).pk)
    if account.system_role is not None:
        raise DomainError("System accounts have no wallet.", code="account_disabled", status=403)
    if account.eth_address == address:
        return account
    conflict = DomainError("That wallet is linked to another account.", code="address_linked_elsewhere",
                           field="message", status=409)
    if Account.objects.filter(eth_address=address).exists():
        raise conflict
    account.eth_address = address
    try:
        with transaction.atomic():
            account.save(update_fields=["eth_address"])
    except IntegrityError:  # linked elsewhere in the meantime
        raise conflict from None
    return account


def asset_by_symbol(symbol) -> Asset:
    """The asset a request names; an Asset the caller has already resolved (the API's serializers do) as is."""
    if isinstance(symbol, Asset):
        return symbol
    if not isinstance(symbol, str) or not symbol:
        raise DomainError("asset must be a symbol such as \"USDC\".", code="invalid_asset", field="asset")
    if not is_symbol(symbol):
        raise DomainError("Unknown asset: symbols are 1-20 letters, digits, dots, dashes or underscores.",
                          code="unknown_asset", field="asset")
    found = market_selectors.asset_by_symbol(symbol)
    if found is None:
        raise DomainError(f"Unknown asset {symbol!r}.", code="unknown_asset", field="asset")
    return found


# The accounts' and reserves' locks (in pk order, as ever), and the account's rows for an asset: every action's
# statements, their SQL compiled once a process (common.prepared).
_lock_accounts_in = prepared(lambda pks: Account.objects.select_for_update().filter(pk__in=pks).order_by("pk"))
_lock_reserves_in = prepared(lambda asset_ids: Reserve.objects.select_for_update().select_related("asset")
                             .filter(asset_id__in=asset_ids).order_by("pk"))
_position_of = prepared(lambda account_id, reserve_id: Position.objects.filter(account_id=account_id,
                                                                               reserve_id=reserve_id))
_wallet_of = prepared(lambda account_id, asset_id: WalletBalance.objects.filter(account_id=account_id,
                                                                                asset_id=asset_id))


def _lock_accounts(*account_ids: int) -> dict[int, Account]:
    return {a.pk: a for a in _lock_accounts_in(sorted(set(account_ids)))}


def _lock_reserves(*assets: Asset) -> dict[str, Reserve]:
    return {r.asset.symbol: r for r in _lock_reserves_in(sorted({a.pk for a in assets}))}


def _wallet(account: Account, asset: Asset) -> WalletBalance:
    found = _wallet_of.first(account.pk, asset.pk)
    if found is not None:
        found.account, found.asset = account, asset
        return found
    wallet, _ = WalletBalance.objects.get_or_create(account=account, asset=asset)
    return wallet


def _position(account: Account, reserve_id: int) -> Position:
    found = _position_of.first(account.pk, reserve_id)
    if found is not None:
        found.account = account
        return found
    position, _ = Position.objects.get_or_create(account=account, reserve_id=reserve_id)
    return position


def _ledger(account, asset, kind, amount, *, scaled=0, index=0, **detail) -> LedgerEntry:
    return insert_row(LedgerEntry(account=account, asset=asset, kind=kind, amount=amount, scaled_amount=scaled,
                                  index=index, detail=detail))


def _check_active(reserve: Reserve, *, frozen_blocks: bool = False) -> None:
    symbol = reserve.asset.symbol
    if reserve.paused:
        raise Unprocessable(f"The {symbol} reserve is paused: no action is possible until an admin unpauses it.",
                            code="reserve_paused", field="asset")
    if frozen_blocks and reserve.frozen:
        raise Unprocessable(f"The {symbol} reserve is frozen: you can withdraw and repay, but not supply or borrow.",
                            code="reserve_frozen", field="asset")


def _amount_error(message: str) -> DomainError:
    return DomainError(message, code="invalid_amount", field="amount")


def _check_amount(amount, *, allow_max: bool = False) -> None:
    if amount == MAX:
        if not allow_max:
            raise _amount_error("\"max\" is only accepted on withdraw and repay.")
        return
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise _amount_error("Amount must be an integer number of base units.")
    if amount <= 0:
        raise _amount_error("Amount must be greater than zero.")


def _fmt(amount: int, asset: Asset) -> str:
    return f"{format_amount(amount, asset.decimals)} {asset.symbol}"


def _hf_text(hf: int) -> str:
    return format_wad(hf)[:6]


def _health(account: Account, now: int, reads: dict[str, OracleRead] | None = None,
            overrides: dict[int, Position] | None = None) -> tuple[Health, dict[str, OracleRead]]:
    positions = account_positions(account)
    if overrides:
        positions = [overrides.get(p.pk, p) for p in positions]
        # fresh reserve objects carry this transaction's accrued indexes
    reads = dict(reads or {})
    missing = {p.reserve.asset.symbol: p.reserve.asset for p in positions if p.reserve.asset.symbol not in reads}
    if missing:  # one batch (two queries), not two queries an asset: this runs under the reserve's lock
        reads.update(oracle_reads(missing.values()))
    return health_of(positions, reads, now), reads


@dataclass
class _Ctx:
    account: Account
    asset: Asset
    reserve: Reserve
    position: Position
    wallet: WalletBalance
    now: int


def _open(account: Account, symbol: str, now: int | None) -> _Ctx:
    asset = asset_by_symbol(symbol)
    account = _lock_accounts(account.pk)[account.pk]
    # The account's own rows first (its lock guards them): every account's actions on an asset queue on that
    # reserve's row, so the row is locked only for the action itself.
    position = _position(account, asset.reserve.pk)
    wallet = _wallet(account, asset)
    reserve = _lock_reserves(asset)[asset.symbol]
    position.reserve = reserve
    now = now_seconds() if now is None else now
    reserve_accrue(reserve=reserve, now=now)
    return _Ctx(account, asset, reserve, position, wallet, now)


def _finish(ctx: _Ctx, kind: str, amount: int, *, wallet_change: int, scaled: int, index: int) -> LedgerEntry:
    """The end of every amount action: the wallet, position and reserve saved, then one ledger row."""
    ctx.wallet.amount += wallet_change
    update_columns(ctx.wallet, ["amount"])
    position_save(ctx.position, update_fields=["scaled_supply", "scaled_debt", "collateral_enabled"])
    reserve_save_state(ctx.reserve)
    return _ledger(ctx.account, ctx.asset, kind, amount, scaled=scaled, index=index)


def _with_reserve(ctx: _Ctx) -> dict[int, Position]:
    """The acted-on position, carrying the locked, accrued reserve, for health checks."""
    ctx.position.reserve = ctx.reserve
    return {ctx.position.pk: ctx.position}


# --- actions ----------------------------------------------------------------------------------------

_faucet_policy_of = prepared(lambda asset_id: FaucetPolicy.objects.filter(asset_id=asset_id))


def faucet_limit(asset: Asset) -> int:
    policy = _faucet_policy_of.first(asset.pk)
    if policy:
        return policy.daily_limit * asset.unit
    limits = settings.FAUCET_DAILY_LIMITS
    return limits.get(asset.kind, limits["default"]) * asset.unit


@transaction.atomic
def account_faucet(*, account: Account, symbol: str, amount: int) -> LedgerEntry:
    """Test tokens into the wallet, bounded per account per UTC day."""
    _check_amount(amount)
    asset = asset_by_symbol(symbol)
    account = _lock_accounts(account.pk)[account.pk]  # the daily limit is per account: one faucet at a time
    # Only the wallet changes: the reserve is read, not locked nor accrued, so faucets never queue behind the
    # pool's actions on the reserve row (the load run's profile: they did, for seconds).
    _check_active(asset.reserve)
    taken = faucet_taken_today(account, asset)
    limit = faucet_limit(asset)
    if taken + amount > limit:
        left = max(0, limit - taken)
        raise Unprocessable(
            f"The faucet gives at most {_fmt(limit, asset)} a day; you can still take {_fmt(left, asset)} "
            f"today.", code="faucet_limit_exceeded", field="amount")
    wallet = _wallet(account, asset)
    wallet.amount += amount
    update_columns(wallet, ["amount"])
    return _ledger(account, asset, LedgerEntry.Kind.FAUCET, amount)


def mint_to(*, account: Account, asset: Asset, amount: int, reason: str) -> None:
    """Treasury seeding and keeper funding: new tokens, recorded so conservation can be checked."""
    wallet = _wallet(account, asset)
    wallet.amount += amount
    wallet.save()
    _ledger(account, asset, LedgerEntry.Kind.MINT, amount, reason=reason)


@transaction.atomic
def account_supply(*, account: Account, symbol: str, amount: int, now: int | None = None) -> LedgerEntry:
    _check_amount(amount)
    ctx = _open(account, symbol, now)
    r, asset = ctx.reserve, ctx.asset
    _check_active(r, frozen_blocks=True)
    if ctx.wallet.amount < amount:
        raise Unprocessable(f"Your wallet holds {_fmt(ctx.wallet.amount, asset)}; you cannot supply "
                            f"{_fmt(amount, asset)}. Use the faucet first.", code="insufficient_balance",
                            field="amount")
    if r.supply_cap:
        supplied = ray_mul(r.total_scaled_supply + r.accrued_to_treasury, r.liquidity_index)
        if supplied + amount > r.supply_cap * asset.unit:
            room = max(0, r.supply_cap * asset.unit - supplied)
            raise Unprocessable(f"Supply cap of {r.supply_cap} {asset.symbol} reached; at most "
                                f"{_fmt(room, asset)} more can be supplied.", code="supply_cap_exceeded",
                                field="amount")
    scaled = ray_div(amount, r.liquidity_index)
    if scaled == 0:
        raise _amount_error("Amount is too small to mint any balance at the current index.")
    reserve_update_rates(reserve=r, liquidity_added=amount)
    first = ctx.position.scaled_supply == 0
    ctx.position.scaled_supply += scaled
    r.total_scaled_supply += scaled
    # Aave: a first supply switches collateral on when the asset can be collateral (LTV != 0).
    if first and r.ltv_bps != 0 and r.collateral_enabled and ctx.account.system_role != Account.SystemRole.TREASURY:
        ctx.position.collateral_enabled = True
    return _finish(ctx, LedgerEntry.Kind.SUPPLY, amount, wallet_change=-amount, scaled=scaled,
                   index=r.liquidity_index)


@transaction.atomic
def account_withdraw(*, account: Account, symbol: str, amount, now: int | None = None) -> LedgerEntry:
    _check_amount(amount, allow_max=True)
    ctx = _open(account, symbol, now)
    r, asset, pos = ctx.reserve, ctx.asset, ctx.position
    _check_active(r)
    balance = ray_mul(pos.scaled_supply, r.liquidity_index)
    if balance == 0:
        raise Unprocessable(f"You have no {asset.symbol} supplied.", code="insufficient_balance", field="amount")
    amount = balance if amount == MAX else amount
    if amount > balance:
        raise Unprocessable(f"You can withdraw at most {_fmt(balance, asset)}.", code="insufficient_balance",
                            field="amount")
    if amount > r.virtual_balance:
        raise Unprocessable(f"The pool holds only {_fmt(r.virtual_balance, asset)} of idle liquidity.",
                            code="insufficient_liquidity", field="amount")
    scaled = pos.scaled_supply if amount == balance else ray_div(amount, r.liquidity_index)
    if scaled == 0:
        raise _amount_error("Amount is too small to burn any balance at the current index.")
    was_collateral = pos.collateral_enabled
    reserve_update_rates(reserve=r, liquidity_taken=amount)
    pos.scaled_supply -= scaled
    r.total_scaled_supply -= scaled
    if was_collateral and amount == balance:
        pos.collateral_enabled = False
    if was_collateral:
        health, _ = _health(ctx.account, ctx.now, overrides=_with_reserve(ctx))
        hf = health.by_lt.health_factor
        if health.by_lt.has_debt and hf < HEALTH_FACTOR_LIQUIDATION_THRESHOLD:
            raise Unprocessable(f"Withdrawing {_fmt(amount, asset)} would drop your health factor to "
                                f"{_hf_text(hf)}, below 1. Repay some debt first.", code="health_factor_too_low",
                                field="amount")
    return _finish(ctx, LedgerEntry.Kind.WITHDRAW, amount, wallet_change=amount, scaled=scaled,
                   index=r.liquidity_index)


@transaction.atomic
def account_borrow(*, account: Account, symbol: str, amount: int, now: int | None = None) -> LedgerEntry:
    _check_amount(amount)
    ctx = _open(account, symbol, now)
    r, asset, pos = ctx.reserve, ctx.asset, ctx.position
    _check_active(r, frozen_blocks=True)
    if not r.borrowing_enabled:
        raise Unprocessable(f"Borrowing {asset.symbol} is not enabled.", code="borrowing_disabled", field="asset")
    if amount > r.virtual_balance:
        raise Unprocessable(f"The pool holds only {_fmt(r.virtual_balance, asset)} to lend.",
                            code="insufficient_liquidity", field="amount")
    if r.borrow_cap:
        debt = ray_mul(r.total_scaled_debt, r.variable_borrow_index)
        if debt + amount > r.borrow_cap * asset.unit:
            room = max(0, r.borrow_cap * asset.unit - debt)
            raise Unprocessable(f"Borrow cap of {r.borrow_cap} {asset.symbol} reached; at most "
                                f"{_fmt(room, asset)} more can be borrowed.", code="borrow_cap_exceeded",
                                field="amount")
    # the borrowed asset's position exists (_open made it), so its price is read with the others
    health, reads = _health(ctx.account, ctx.now, overrides=_with_reserve(ctx))
    for value in health.lt_values:
        flag = reads[value.symbol].blocks_borrowing
        if flag and (value.collateral and value.supplied or value.symbol == asset.symbol):
            raise Unprocessable(f"The {value.symbol} price is {flag}; borrowing against it is refused until the "
                                f"oracle recovers.", code=f"price_{flag}", field="asset")
    if health.by_ltv.total_collateral_base == 0:
        raise Unprocessable("You have no collateral. Supply a stock token first.", code="no_collateral",
                            field="amount")
    if health.by_lt.has_debt and health.by_lt.health_factor < HEALTH_FACTOR_LIQUIDATION_THRESHOLD:
        raise Unprocessable("Your health factor is below 1; repay before borrowing more.",
                            code="health_factor_too_low", field="amount")
    read = reads[asset.symbol]
    if not borrow_allowed(health.by_ltv, amount=amount, price=read.reference_price, decimals=asset.decimals):
        power = health.by_ltv.available_borrows_base
        can = power * asset.unit // read.reference_price if read.reference_price else 0
        raise Unprocessable(f"Borrowing {_fmt(amount, asset)} exceeds your borrowing power; you can borrow at most "
                            f"about {_fmt(can, asset)}.", code="borrowing_power_exceeded", field="amount")
    scaled = ray_div(amount, r.variable_borrow_index)
    if scaled == 0:
        raise _amount_error("Amount is too small to mint any debt at the current index.")
    pos.scaled_debt += scaled
    r.total_scaled_debt += scaled
    reserve_update_rates(reserve=r, liquidity_taken=amount)
    return _finish(ctx, LedgerEntry.Kind.BORROW, amount, wallet_change=amount, scaled=scaled,
                   index=r.variable_borrow_index)


@transaction.atomic
def account_repay(*, account: Account, symbol: str, amount, now: int | None = None) -> LedgerEntry:
    _check_amount(amount, allow_max=True)
    ctx = _open(account, symbol, now)
    r, asset, pos = ctx.reserve, ctx.asset, ctx.position
    _check_active(r)
    debt = ray_mul(pos.scaled_debt, r.variable_borrow_index)
    if debt == 0:
        raise Unprocessable(f"You have no {asset.symbol} debt to repay.", code="no_debt", field="asset")
    payback = debt if amount == MAX else min(amount, debt)
    if ctx.wallet.amount < payback:
        raise Unprocessable(f"Repaying {_fmt(payback, asset)} needs that much in your wallet; it holds "
                            f"{_fmt(ctx.wallet.amount, asset)}.", code="insufficient_balance", field="amount")
    scaled = pos.scaled_debt if payback == debt else ray_div(payback, r.variable_borrow_index)
    if scaled == 0:
        raise _amount_error("Amount is too small to burn any debt at the current index.")
    pos.scaled_debt -= scaled
    r.total_scaled_debt -= scaled
    reserve_update_rates(reserve=r, liquidity_added=payback)
    return _finish(ctx, LedgerEntry.Kind.REPAY, payback, wallet_change=-payback, scaled=scaled,
                   index=r.variable_borrow_index)


@transaction.atomic
def account_set_collateral(*, account: Account, symbol: str, enabled, now: int | None = None) -> LedgerEntry:
    if not isinstance(enabled, bool):
        raise DomainError("enabled must be a JSON boolean.", code="invalid", field="enabled")
    ctx = _open(account, symbol, now)
    r, asset, pos = ctx.reserve, ctx.asset, ctx.position
    _check_active(r)
    if pos.scaled_supply == 0:
        raise Unprocessable(f"Supply {asset.symbol} before using it as collateral.", code="no_supply",
                            field="asset")
    if enabled and (r.ltv_bps == 0 or not r.collateral_enabled):
        raise Unprocessable(f"{asset.symbol} cannot be used as collateral.", code="collateral_disabled",
                            field="asset")
    if pos.collateral_enabled != enabled:
        pos.collateral_enabled = enabled
        if not enabled:
            health, _ = _health(ctx.account, ctx.now, overrides=_with_reserve(ctx))
            if health.by_lt.has_debt and health.by_lt.health_factor < HEALTH_FACTOR_LIQUIDATION_THRESHOLD:
                raise Unprocessable(f"Turning off {asset.symbol} as collateral would drop your health factor to "
                                    f"{_hf_text(health.by_lt.health_factor)}, below 1.",
                                    code="health_factor_too_low", field="enabled")
        position_save(pos)
    reserve_save_state(r)
    return _ledger(ctx.account, asset, LedgerEntry.Kind.COLLATERAL, 0, enabled=enabled)


@dataclass(frozen=True)
class DryRun:
    """What an action would do: the service's own refusal (the error the API would give), or the account's
    health after it."""

    refusal: DomainError | None
    after: Health | None


def account_action_dry_run(*, account: Account, action: str, symbol: str, amount, now: int | None = None) -> DryRun:
    """The real action in a transaction that is always rolled back: the borrower's preview runs the very checks
    the action runs (one validation path, no twin to drift), and reads the health it would leave from inside the
    transaction. It takes the action's row locks for that moment; nothing is kept (a ledger id may be skipped)."""
    actions = {"faucet": account_faucet, "supply": account_supply, "withdraw": account_withdraw,
               "borrow": account_borrow, "repay": account_repay}
    if action not in actions:
        raise ValueError(f"unknown action {action!r}")
    now = now_seconds() if now is None else now
    timing = {} if action == "faucet" else {"now": now}
    try:
        with transaction.atomic():
            actions[action](account=account, symbol=symbol, amount=amount, **timing)
            after, _ = _health(account, now)
            # last, never first: an inner atomic block exiting with the flag set rolls back only itself and
            # clears it. An exception above rolls everything back anyway.
            transaction.set_rollback(True)
    except DomainError as exc:
        return DryRun(exc, None)
    return DryRun(None, after)


# --- liquidation (the book: lending/liquidation.py; the scan and the keeper: lending/keeper.py) -------

def keeper_account() -> Account:
    return system_account(Account.SystemRole.KEEPER)


def account_liquidate(*, account_id: int, debt_symbol: str, collateral_symbol: str, debt_to_cover=MAX,
                      round_key: str, step: int, oracle_round_id: int | None = None,
                      started_at: float | None = None, now: int | None = None,
                      reads: dict[str, OracleRead] | None = None) -> LiquidationEvent:
    """LiquidationLogic.executeLiquidationCall (the pool's engine, v3.3 or v4) for one (debt, collateral) pair,
    recorded as one event. The proceeds go to the keeper and the fee to the treasury, always: no caller names
    another account."""
    return liquidation.account_liquidate(
        account_id=account_id, debt_symbol=debt_symbol, collateral_symbol=collateral_symbol,
        debt_to_cover=debt_to_cover, round_key=round_key, step=step, oracle_round_id=oracle_round_id,
        liquidator=keeper_account(), treasury=treasury_account(), started_at=started_at, now=now, reads=reads)


def liquidation_scan_enqueue(*, round_key: str, oracle_round_id: int | None = None, quiet: bool = False) -> None:
    """Ask a worker for a scan (lending.keeper.liquidation_scan) once the current transaction commits: the admin
    endpoint, an oracle write.

    A broker outage raises BrokerUnavailable (503). With quiet=True it is logged instead: a price write must not
    fail for it, and the beat scan catches up once the broker is back."""
    enqueue_on_commit("lending.scan_accounts", kwargs={"round_key": round_key, "oracle_round_id": oracle_round_id},
                      queue="liquidations", quiet=quiet, what=f"the scan {round_key}",
                      message="The task broker is unreachable; the beat scan will run when it is back.")


# --- seeding ------------------------------------------------------------------------------------------

SEED_LIQUIDITY = {"USDC": 50_000_000, "USDT": 50_000_000}


@transaction.atomic
def treasury_seed_liquidity() -> None:
    """The treasury supplies USDC and USDT once, so a newcomer can borrow at once."""
    treasury = treasury_account()
    for symbol, whole in SEED_LIQUIDITY.items():
        asset = Asset.objects.filter(symbol=symbol).first()
        if asset is None or LedgerEntry.objects.filter(account=treasury, asset=asset, kind="supply").exists():
            continue
        amount = whole * asset.unit
        mint_to(account=treasury, asset=asset, amount=amount, reason="protocol liquidity")
        account_supply(account=treasury, symbol=symbol, amount=amount)
