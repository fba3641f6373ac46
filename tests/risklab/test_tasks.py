"""risklab.tasks: the dead-worker sweep is a beat schedule, and the task is one service call."""
import json

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from risklab import tasks

pytestmark = pytest.mark.django_db


def test_setup_schedules_creates_the_dead_worker_sweep(capsys):
    call_command("setup_schedules", "--json")
    assert "Monte Carlo: requeue chunks of dead workers" in json.loads(capsys.readouterr().out)["created"]
    sweep = PeriodicTask.objects.get(task="risklab.requeue_stale_chunks")
    assert sweep.enabled and sweep.interval.every == 60 and sweep.interval.period == "seconds"
    assert sweep.queue == "default"  # not behind long chunks on the simulations queue
    call_command("setup_schedules", "--json")  # idempotent
    assert PeriodicTask.objects.filter(task="risklab.requeue_stale_chunks").count() == 1


def test_the_sweep_task_calls_the_service(monkeypatch):
    monkeypatch.setattr(tasks, "montecarlo_requeue_stale", lambda: 3)
    assert tasks.requeue_stale_chunks.apply().get() == 3
