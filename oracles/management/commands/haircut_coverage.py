import json
import pathlib

from django.core.management.base import BaseCommand, CommandError

from core.clock import MarketClock
from core.haircut import calibrated as haircut
from oracles.management.arguments import fraction, parse_date


class Command(BaseCommand):
    help = ("Fit the calibrated haircut's k on bars before --from, then report how often it covered each "
            "down-gap at the next open in [--from, --to].")

    def add_arguments(self, parser):
        parser.add_argument("--prices", required=True, help="directory of <TICKER>.csv daily bars")
        parser.add_argument("--from", dest="start", required=True)
        parser.add_argument("--to", dest="end", required=True)
        parser.add_argument("--coverage", type=fraction, default=0.99)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        prices = pathlib.Path(options["prices"])
        start, end = parse_date(options["start"], "--from"), parse_date(options["end"], "--to")
        coverage = options["coverage"]
        if not prices.is_dir():
            raise CommandError(f"--prices {prices} is not a directory")
        if not any(prices.glob("*.csv")):
            raise CommandError(f"--prices {prices} holds no <TICKER>.csv files")
        if start > end:
            raise CommandError("--from must not be after --to")
        if not 0 < coverage < 1:
            raise CommandError("--coverage must be between 0 and 1, e.g. 0.99")
        clock = MarketClock.get("XNYS")  # compiled from 2000, so it covers the shipped data
        try:
            rows = haircut.load_closures(prices, clock.gap_kind)
        except (KeyError, ValueError) as exc:
            raise CommandError(f"could not read the price files: {exc}") from None
        train = [c for c in rows if c.date < start]
        if not train:
            raise CommandError("no bars before --from to fit on")
        k_table = haircut.fit_k(train, coverage)
        result = haircut.evaluate([c for c in rows if start <= c.date <= end], k_table)
        self.stderr.write(f"fitted k on {len(train)} closures before {start}: {k_table}")
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"{'ticker':8} {'closures':>9} {'coverage':>9} {'mean bps':>9}")
        for ticker in sorted({c["ticker"] for c in result["closures"]}):
            sub = [c for c in result["closures"] if c["ticker"] == ticker]
            down = [c for c in sub if c["gap"] < 0]
            hit = sum(1 for c in down if c["gap"] >= -c["haircut_bps"] / 10_000)
            cov = hit / len(down) if down else float("nan")
            mean = sum(c["haircut_bps"] for c in sub) / len(sub)
            self.stdout.write(f"{ticker:8} {len(sub):>9} {cov:>9.4f} {mean:>9.1f}")
        self.stdout.write(f"{'pooled':8} {len(result['closures']):>9} {result['coverage']:>9.4f} "
                          f"{result['mean_haircut_bps']:>9.1f}")
