"""Thin Celery tasks: explicit names, ids in, one service call each (Sentry style)."""
from celery import shared_task
from django.db import OperationalError

from markets.services import reserves_accrue_all

RETRY = dict(autoretry_for=(OperationalError,), retry_backoff=2, retry_backoff_max=60, retry_jitter=True,
             max_retries=5)


@shared_task(name="lending.accrue_reserves", ignore_result=True, acks_late=True, soft_time_limit=60,
             time_limit=90, **RETRY)
def accrue_reserves() -> int:
    """Accrue every reserve's indexes: cost grows with reserves, not positions."""
    return reserves_accrue_all()


LIQUIDATION_TASK = dict(ignore_result=True, acks_late=True, reject_on_worker_lost=True, soft_time_limit=240,
                        time_limit=300, **RETRY)


@shared_task(name="lending.scan_accounts", **LIQUIDATION_TASK)
def scan_accounts(round_key: str | None = None, oracle_round_id: int | None = None) -> int:
    """Screen every account in one pass and send the candidates, in chunks, to the liquidations queue."""
    import time

    from .scanner import chunks, screen_accounts

    round_key = round_key or f"beat-{int(time.time()) // 60}"
    candidates = screen_accounts()
    for chunk in chunks(candidates):
        liquidate_accounts.apply_async(args=[chunk, round_key, oracle_round_id, time.time()],
                                       queue="liquidations")
    return len(candidates)


@shared_task(name="lending.liquidate_accounts", **LIQUIDATION_TASK)
def liquidate_accounts(account_ids: list[int], round_key: str, oracle_round_id: int | None = None,
                       enqueued_at: float | None = None) -> int:
    """The keeper for one chunk: exact checks under lock, idempotent per (account, round_key, step)."""
    from markets.models import Asset
    from oracles.selectors import oracle_reads

    from .services import keeper_liquidate_accounts

    reads = oracle_reads(Asset.objects.all())  # one oracle view for the whole chunk
    return len(keeper_liquidate_accounts(account_ids=account_ids, round_key=round_key,
                                         oracle_round_id=oracle_round_id, reads=reads, started_at=enqueued_at))
