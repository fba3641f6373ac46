"""Lending's half of a price update: the scan (one per oracle write, the beat scan as safety net) and the keeper
that runs over its chunks. Tasks call these; these send the next task by name (common.queue), never import it.

    oracle write -> signal -> services.liquidation_scan_enqueue -> task lending.scan_accounts -> liquidation_scan
    -> chunks -> task lending.liquidate_accounts -> keeper_run -> LiquidationBook -> positions.positions_write
"""
from __future__ import annotations

import time

from django.db import transaction

from common.queue import enqueue_on_commit
from oracles.models import OracleRound
from oracles.selectors import OracleRead, prices_moved_since

from .liquidation import LiquidationBook, book_run
from .models import LiquidationEvent
from .scanner import chunks, screen_accounts
from .services import keeper_account, treasury_account


def liquidation_scan(*, round_key: str | None = None, oracle_round_id: int | None = None) -> int:
    """Screen every account in one set-based pass and send the candidates, in chunks, to the keeper.

    A scan for an oracle round stands aside when a later round moved a price: that round's scan is queued behind
    this one and reads newer prices. The beat scan is the safety net if that later scan is lost. Returns the
    number of candidates."""
    started_at = time.time()
    if oracle_round_id is not None:
        if prices_moved_since(oracle_round_id):
            return 0
        published = OracleRound.objects.filter(pk=oracle_round_id).values_list("created_at", flat=True).first()
        if published is not None:  # latency counts from the price, not from the scan
            started_at = min(started_at, published.timestamp())
    round_key = round_key or f"scan-{int(started_at)}"
    candidates = screen_accounts()
    for chunk in chunks(candidates):
        enqueue_on_commit("lending.liquidate_accounts", args=[chunk, round_key, oracle_round_id, started_at],
                          queue="liquidations")
    return len(candidates)


def keeper_run(*, account_ids: list[int], round_key: str, oracle_round_id: int | None = None,
               reads: dict[str, OracleRead] | None = None, started_at: float | None = None) -> list[LiquidationEvent]:
    """The keeper over a chunk of accounts, in one transaction: lock them (pk order), recompute each one's exact
    HF under the oracle's policy, and liquidate the most profitable allowed pair while HF < 1 and a pair is
    liquidatable; deficits are recorded when the collateral runs out.

    Idempotent per (account, round_key, step): an account that already has events for this round_key was done by
    an earlier delivery of the same chunk, and is skipped. Returns the round's events for these accounts (those
    of the earlier delivery when this one found them done)."""
    def run(book: LiquidationBook) -> list[LiquidationEvent]:
        done = set(LiquidationEvent.objects.filter(account_id__in=book.accounts, round_key=round_key)
                   .values_list("account_id", flat=True))
        return book.keep([a for a in book.accounts if a not in done], round_key=round_key,
                         oracle_round_id=oracle_round_id, started_at=started_at)

    with transaction.atomic():
        events = book_run(run, account_ids=account_ids, liquidator=keeper_account(), treasury=treasury_account(),
                          reads=reads)
    if events:
        return events
    return list(LiquidationEvent.objects.filter(account_id__in=account_ids, round_key=round_key).order_by("pk"))
