import json

from django.core.management.base import BaseCommand
from django_celery_beat.models import IntervalSchedule, PeriodicTask

# Declared once here; admins tune intervals in Django admin (django-celery-beat's database scheduler).
SCHEDULES = [
    {"name": "worker heartbeat", "task": "markets.heartbeat", "every_seconds": 15, "queue": "default"},
    {"name": "accrue reserves", "task": "lending.accrue_reserves", "every_seconds": 60, "queue": "accrual"},
]


def all_schedules() -> list[dict]:
    schedules = list(SCHEDULES)
    for module in ("oracles.tasks", "lending.scanner"):  # each app declares its own schedules
        try:
            schedules += list(getattr(__import__(module, fromlist=["BEAT_SCHEDULES"]), "BEAT_SCHEDULES", []))
        except ImportError:
            pass
    return schedules


class Command(BaseCommand):
    help = "Create the beat schedules if missing (idempotent; existing intervals keep an admin's tuning)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        created = []
        for spec in all_schedules():
            interval, _ = IntervalSchedule.objects.get_or_create(every=spec["every_seconds"],
                                                                 period=IntervalSchedule.SECONDS)
            _, was_created = PeriodicTask.objects.get_or_create(
                name=spec["name"],
                defaults={"task": spec["task"], "interval": interval, "queue": spec.get("queue"),
                          "kwargs": json.dumps(spec.get("kwargs", {}))},
            )
            if was_created:
                created.append(spec["name"])
        if options["json"]:
            self.stdout.write(json.dumps({"created": created}))
        else:
            self.stdout.write(f"Schedules created: {', '.join(created) or 'none (all present)'}")
