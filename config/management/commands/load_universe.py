import json
import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from lending.services import treasury_seed_liquidity
from markets.services import universe_load
from oracles.services import feeds_ensure, rounds_backfill


class Command(BaseCommand):
    help = "Load the default asset universe, oracle feeds and protocol liquidity (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        assets = universe_load()
        history = rounds_backfill()  # days of chart history first, so the live rounds follow it in id and time
        feeds_ensure()
        treasury_seed_liquidity()
        created_superuser = False
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME")
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        if username and password:
            User = get_user_model()
            if not User.objects.filter(username=username).exists():
                User.objects.create_superuser(username=username, password=password,
                                              email=os.environ.get("DJANGO_SUPERUSER_EMAIL", ""))
                created_superuser = True
        result = {"assets": [a.symbol for a in assets], "superuser_created": created_superuser,
                  "history_rounds": history}
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(f"Loaded {len(assets)} assets: {', '.join(result['assets'])}")
