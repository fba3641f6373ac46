"""Thin Celery tasks for the oracle (explicit names, queue `prices`)."""
from celery import shared_task
from django.db import OperationalError

from .services import feeds_tick

BEAT_SCHEDULES = [
    {"name": "oracle price tick", "task": "oracles.tick_prices", "every_seconds": 10, "queue": "prices"},
]


@shared_task(name="oracles.tick_prices", ignore_result=True, acks_late=True, soft_time_limit=30, time_limit=60,
             autoretry_for=(OperationalError,), retry_backoff=2, retry_jitter=True, max_retries=3)
def tick_prices() -> int:
    """Advance simulated and replayed feeds and publish their rounds (each round triggers a scan)."""
    return feeds_tick()
