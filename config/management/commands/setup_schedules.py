import json

from django.core.management.base import BaseCommand
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from common.tasks import BEAT_SCHEDULES as COMMON
from lending.tasks import BEAT_SCHEDULES as LENDING
from oracles.tasks import BEAT_SCHEDULES as ORACLES
from risklab.tasks import BEAT_SCHEDULES as RISKLAB

# Each app declares its own schedules beside its tasks; admins tune intervals in Django admin
# (django-celery-beat's database scheduler).
SCHEDULES = [*COMMON, *ORACLES, *LENDING, *RISKLAB]


class Command(BaseCommand):
    help = "Create the beat schedules if missing (idempotent; existing intervals keep an admin's tuning)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        created = []
        for spec in SCHEDULES:
            interval, _ = IntervalSchedule.objects.get_or_create(every=spec["every_seconds"],
                                                                 period=IntervalSchedule.SECONDS)
            task, was_created = PeriodicTask.objects.get_or_create(
                name=spec["name"],
                defaults={"task": spec["task"], "interval": interval, "queue": spec.get("queue"),
                          "kwargs": json.dumps(spec.get("kwargs", {}))},
            )
            if was_created:
                created.append(spec["name"])
            elif (task.task, task.queue) != (spec["task"], spec.get("queue")):  # a task renamed or re-queued
                task.task, task.queue = spec["task"], spec.get("queue")
                task.save(update_fields=["task", "queue"])
        if options["json"]:
            self.stdout.write(json.dumps({"created": created}))
        else:
            self.stdout.write(f"Schedules created: {', '.join(created) or 'none (all present)'}")
