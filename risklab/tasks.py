"""Thin Celery tasks for the risk lab (explicit names): ids in, one service call each."""
from celery import shared_task
from django.db import OperationalError

from .services import montecarlo_chunk_execute, montecarlo_requeue_stale

BUSY_RETRIES = 30
# the dead-worker sweep runs on the default queue: a light query that must not wait behind long chunks
BEAT_SCHEDULES = [
    {"name": "Monte Carlo: requeue chunks of dead workers", "task": "risklab.requeue_stale_chunks",
     "every_seconds": 60, "queue": "default"},
]


@shared_task(name="risklab.run_montecarlo_chunk", bind=True, ignore_result=True, acks_late=True,
             reject_on_worker_lost=True, soft_time_limit=240, time_limit=300, autoretry_for=(OperationalError,),
             retry_backoff=2, retry_jitter=True, max_retries=BUSY_RETRIES)
def run_montecarlo_chunk(self, chunk_id: int) -> str:
    """One chunk of a Monte Carlo run, claimed by a conditional UPDATE: a redelivered chunk already done does
    nothing; one whose claimant still holds a live lease is tried again when that lease runs out."""
    outcome, wait = montecarlo_chunk_execute(chunk_id=chunk_id)
    if outcome == "busy":
        raise self.retry(countdown=wait)
    return outcome


@shared_task(name="risklab.requeue_stale_chunks", ignore_result=True, soft_time_limit=30, time_limit=60)
def requeue_stale_chunks() -> int:
    """Chunks whose claimant died go back on the simulations queue once their lease runs out."""
    return montecarlo_requeue_stale()
