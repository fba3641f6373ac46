import json
import sys

from django.core.management.base import BaseCommand

from lending.books import ledger_problems


class Command(BaseCommand):
    help = ("Check that the books balance: tokens conserved per asset (wallets + pool == minted) and every "
            "reserve's scaled totals equal to the sum of its positions. Exit status 1 when they do not.")

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help='print {"balanced", "problems"}')

    def handle(self, *args, **options):
        problems = ledger_problems()
        if options["json"]:
            self.stdout.write(json.dumps({"balanced": not problems, "problems": problems}))
        else:
            for line in problems:
                self.stderr.write(line)
            self.stderr.write("balanced" if not problems else f"{len(problems)} problem(s)")
        if problems:
            sys.exit(1)
