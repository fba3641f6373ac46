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
