import json
import pathlib

from django.core.management.base import BaseCommand, CommandError

from core.clock import MarketClock
from core.haircut import calibrated as haircut
from oracles.management.arguments import fraction, parse_date


class Command(BaseCommand):
    help = ("Fit the calibrated haircut's k on the closures of the files in --prices that reopen before --from, "
            "then report how often it covered each down-gap at the next open in [--from, --to]. With --json, "
            "also per_kind (by the kind the haircut priced), per_ticker and the fitted k.")

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
        if not any(p.is_file() for p in prices.glob("*.csv")):
            raise CommandError(f"--prices {prices} holds no <TICKER>.csv files")
        if start > end:
            raise CommandError("--from must not be after --to")
        if not 0 < coverage < 1:
            raise CommandError("--coverage must be between 0 and 1, e.g. 0.99")
        clock = MarketClock.get("XNYS")  # compiled from 2000, so it covers the shipped data
        try:
            rows = haircut.load_closures(prices, clock.gap_kind)
        except (OSError, ValueError) as exc:
            raise CommandError(f"could not read the price files: {exc}") from None
        # sigma uses bars up to each closure's previous close only; k sees closures reopening before --from
        train = [c for c in rows if c.date < start]
        test = [c for c in rows if start <= c.date <= end]
        if not train:
            raise CommandError(f"no close-to-open gaps before --from {start} to fit k on "
                               f"(each file needs at least {haircut.WARMUP + 2} bars before it)")
        if not test:
            raise CommandError(f"no close-to-open gaps between --from {start} and --to {end} in {prices}")
        k_table = haircut.fit_k(train, coverage)
        result = haircut.evaluate(test, k_table)
        result["per_kind"] = haircut.breakdown(test, k_table, lambda c: c.kind)
        result["per_ticker"] = haircut.breakdown(test, k_table, lambda c: c.ticker)
        result["k"] = k_table
        self.stderr.write(f"fitted k on {len(train)} closures before {start}: {k_table}")
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"{'group':16} {'closures':>9} {'down':>6} {'misses':>7} {'coverage':>9} {'mean bps':>9}")
        for name, row in [*result["per_kind"].items(), *result["per_ticker"].items()]:
            cov = "" if row["coverage"] is None else f"{row['coverage']:.4f}"
            self.stdout.write(f"{name:16} {row['closures']:>9} {row['down_gaps']:>6} {row['misses']:>7} {cov:>9} "
                              f"{row['mean_haircut_bps']:>9.1f}")
        cov = "" if result["coverage"] is None else f"{result['coverage']:.4f}"
        self.stdout.write(f"{'pooled':16} {len(test):>9} {'':>6} {'':>7} {cov:>9} {result['mean_haircut_bps']:>9.1f}")
