import json
import pathlib
import time

from django.core.management.base import BaseCommand, CommandError

from common.errors import DomainError
from core.aave.engines import ENGINES
from core.simulation import backtest
from markets.models import Asset
from oracles import services
from oracles.management.arguments import bps, parse_date


def seed(value: str) -> int:
    """argparse type: a seed 0..2**32-1 in ASCII digits."""
    import argparse

    if not value.strip().isascii() or not value.strip().isdigit() or len(value.strip()) > 10 \
            or int(value) > services.MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to {services.MAX_SEED}")
    return int(value)


class Command(BaseCommand):
    help = ("Backtest closed-market policies on the asset's real daily bars with its reserve's parameters: "
            "bad debt at market prices, the deficit the protocol books, value moved to liquidators, liquidations "
            "and unnecessary liquidations per policy, and the worst closures. Policies: "
            + ", ".join(backtest.POLICIES) + ". --recommend adds the highest LTV/LT that keeps bad debt under "
            "0.1% of borrows at 99% confidence, per engine and policy.")

    def add_arguments(self, parser):
        parser.add_argument("--asset", required=True, help="a symbol, e.g. TSLAx")
        parser.add_argument("--from", dest="start", required=True, help="YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="YYYY-MM-DD")
        parser.add_argument("--policy", dest="policies", action="append", required=True,
                            help=f"repeat for several: {', '.join(backtest.POLICIES)}")
        parser.add_argument("--engine", choices=ENGINES, help="liquidation rules (default: the pool's engine)")
        parser.add_argument("--prices", help="a folder of <TICKER>.csv daily bars (Date,Open,High,Low,Close,"
                                             "Volume) instead of the shipped data; the underlying names the file")
        parser.add_argument("--seize-at", dest="seize_at", choices=backtest.SEIZE_AT, default="reference",
                            help="price of the seized collateral: reference (default) or haircut (the old rule)")
        parser.add_argument("--seed", type=seed,
                            help="fixes every random draw (own-market token paths, the recommendation's paths)")
        parser.add_argument("--recommend", action="store_true",
                            help="also recommend LTV/LT per engine and policy (history + simulated paths)")
        parser.add_argument("--ltv-bps", type=bps, help="what-if: LTV instead of the reserve's")
        parser.add_argument("--lt-bps", type=bps, help="what-if: liquidation threshold instead of the reserve's")
        parser.add_argument("--bonus-bps", type=bps, help="what-if: liquidation bonus (10500 = +5%%); under v4 the "
                                                          "maximum bonus")
        parser.add_argument("--json", action="store_true", help="print one JSON document")

    def handle(self, *args, **options):
        start, end = parse_date(options["start"], "--from"), parse_date(options["end"], "--to")
        asset = Asset.objects.filter(symbol=options["asset"]).first()
        if asset is None:
            known = ", ".join(Asset.objects.order_by("id").values_list("symbol", flat=True))
            raise CommandError(f"unknown asset {options['asset']!r}; known: {known or 'none (run load_universe)'}")
        prices = options["prices"]
        if prices is not None and not pathlib.Path(prices).is_dir():
            raise CommandError(f"--prices {prices!r} is not a folder of <TICKER>.csv daily bars")
        overrides = {name: options[option] for name, option in (
            ("ltv_bps", "ltv_bps"), ("liquidation_threshold_bps", "lt_bps"), ("liquidation_bonus_bps", "bonus_bps"))
            if options[option] is not None}
        began = time.monotonic()
        try:
            result = services.backtest_compute(asset=asset, start=start, end=end, policies=options["policies"],
                                               overrides=overrides, engine=options["engine"],
                                               seize_at=options["seize_at"], seed=options["seed"],
                                               recommend=options["recommend"], prices_dir=prices)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        result["seconds"] = round(time.monotonic() - began, 1)
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"{asset.symbol} ({result['ticker']}) {result['from']}..{result['to']}, "
                          f"{result['sessions']} sessions, {result['borrowers']} borrowers, engine {result['engine']}, "
                          f"seizure at the {result['seize_at']} price")
        prof = result["profile"]
        self.stdout.write(f"profile {prof['name']}: {prof['closed_market']}"
                          + (f", seed {result['seed']}" if result.get("seed") is not None else ""))
        columns = ("bad_debt_usd", "deficit_usd", "transferred_to_liquidators_usd", "liquidations",
                   "unnecessary_liquidations", "liquidation_penalty_usd", "mean_debt_usd", "mean_haircut_bps")
        self.stdout.write(f"{'policy':18}" + "".join(f"{c:>32}" for c in columns))
        for name, row in result["policies"].items():
            self.stdout.write(f"{name:18}" + "".join(f"{row[c]!s:>32}" for c in columns))
        # "least bad debt: none" would read as a sentence: name it a policy, and say when they all tie
        bad_debts = {row["bad_debt_usd"] for row in result["policies"].values()}
        if len(result["policies"]) > 1 and len(bad_debts) == 1:
            self.stdout.write(f"every policy ended with the same bad debt at market (${bad_debts.pop()})")
        else:
            self.stdout.write(f"least bad debt at market: policy {result['least_bad_debt']}")
        for name, row in result["policies"].items():
            for c in row["worst_closures"]:
                self.stdout.write(f"  worst closures, {name}: {c['date']} ({c['closure']}, gap {c['gap']:+.2%}): "
                                  f"bad debt ${c['bad_debt_usd']}, {c['liquidations']} liquidations costing "
                                  f"${c['liquidation_cost_usd']}")
        rec = result.get("recommendation")
        if rec:
            self.stdout.write(f"recommendation (bad debt <= {rec['bad_debt_target']:.2%} of borrows at "
                              f"{rec['confidence']:.0%}, {rec['scenarios']} scenarios, seed {rec['seed']}): "
                              f"LTV {rec['ltv_bps']} / LT {rec['liquidation_threshold_bps']} / bonus "
                              f"{rec['liquidation_bonus_bps']} bps, policy {rec['policy']}, engine {rec['engine']}")
        self.stdout.write(f"{result['seconds']} s")
