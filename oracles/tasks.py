"""Thin Celery tasks for the oracle (explicit names): ids in, one service call each."""
from celery import shared_task
from django.db import OperationalError

from .services import backtest_execute, feeds_tick

BEAT_SCHEDULES = [
    {"name": "oracle price tick", "task": "oracles.tick_prices", "every_seconds": 10, "queue": "prices"},
]


@shared_task(name="oracles.tick_prices", ignore_result=True, acks_late=True, soft_time_limit=30, time_limit=60,
             autoretry_for=(OperationalError,), retry_backoff=2, retry_jitter=True, max_retries=3)
def tick_prices() -> int:
    """Advance the feeds and publish their rounds in one transaction (one scan follows, if a price moved)."""
    return feeds_tick()


@shared_task(name="oracles.run_backtest", ignore_result=True, acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=240, time_limit=300, autoretry_for=(OperationalError,), retry_backoff=2,
             retry_jitter=True, max_retries=3)
def run_backtest(backtest_id: int) -> bool:
    """Run one queued backtest (claimed by a conditional UPDATE, so a redelivered message runs it once)."""
    return backtest_execute(backtest_id=backtest_id)
