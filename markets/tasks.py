from celery import shared_task
from django.utils import timezone

from .models import Heartbeat


@shared_task(name="markets.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """The worker reports in; /healthz shows the age of the last report."""
    Heartbeat.objects.update_or_create(name="worker", defaults={"at": timezone.now()})
