from celery import shared_task
from django.utils import timezone

from .models import Heartbeat

BEAT_SCHEDULES = [
    {"name": "worker heartbeat", "task": "common.heartbeat", "every_seconds": 15, "queue": "default"},
]


@shared_task(name="common.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """The worker reports in; /healthz shows the age of the last report."""
    Heartbeat.objects.update_or_create(name="worker", defaults={"at": timezone.now()})
