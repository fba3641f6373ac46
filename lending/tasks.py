"""Thin Celery tasks (Sentry style): explicit names, JSON ids in, one service call each.

Liquidation work is idempotent (events are unique per account, round key and step), so every task acks late
and is redelivered if its worker dies. A transient database error (a deadlock, a dropped connection) is
retried a few times with jittered backoff; anything else is a bug and fails loudly.
"""
import logging
import time

from celery import shared_task
from django.db import OperationalError

from markets.services import reserves_accrue_all

from . import keeper

logger = logging.getLogger(__name__)

# Backoffs and hard limits stay below the Redis visibility timeout (30 s in tests, 1 h otherwise), so a slow
# or retrying task is never redelivered to a second worker while the first still holds it.
RETRY = dict(autoretry_for=(OperationalError,), retry_backoff=1, retry_backoff_max=15, retry_jitter=True,
             max_retries=4)
LIMITS = dict(soft_time_limit=20, time_limit=25)
TASK = dict(ignore_result=True, acks_late=True, reject_on_worker_lost=True, **LIMITS, **RETRY)

BEAT_SCHEDULES = [
    {"name": "accrue reserves", "task": "lending.accrue_reserves", "every_seconds": 60, "queue": "accrual"},
    {"name": "liquidation safety-net scan", "task": "lending.scan_accounts", "every_seconds": 60,
     "queue": "liquidations"},
]


@shared_task(name="lending.accrue_reserves", **TASK)
def accrue_reserves() -> int:
    """Accrue every reserve's indexes: the cost grows with reserves, not positions."""
    return reserves_accrue_all()


@shared_task(name="lending.scan_accounts", **TASK)
def scan_accounts(round_key: str | None = None, oracle_round_id: int | None = None) -> int:
    """Screen every account in one set-based pass; send the candidates, in chunks, to the liquidations queue."""
    return keeper.liquidation_scan(round_key=round_key, oracle_round_id=oracle_round_id)


@shared_task(name="lending.liquidate_accounts", **TASK)
def liquidate_accounts(account_ids: list[int], round_key: str, oracle_round_id: int | None = None,
                       enqueued_at: float | None = None) -> int:
    """The keeper for one chunk: exact checks under lock, idempotent per (account, round_key, step)."""
    started = time.perf_counter()
    events = keeper.keeper_run(account_ids=account_ids, round_key=round_key, oracle_round_id=oracle_round_id,
                               started_at=enqueued_at)
    logger.info("keeper: %d accounts, %d liquidations (round %s) in %.3f s", len(account_ids), len(events),
                round_key, time.perf_counter() - started)
    return len(events)
