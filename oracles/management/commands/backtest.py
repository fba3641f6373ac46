import json

from django.core.management.base import BaseCommand, CommandError

from common.errors import DomainError
from core.simulation import backtest
from markets.models import Asset
from oracles import services
from oracles.management.arguments import bps, parse_date


class Command(BaseCommand):
    help = ("Backtest closed-market policies on the asset's real daily bars with its reserve's parameters: "
            "bad debt, liquidations and unnecessary liquidations per policy. Policies: "
            + ", ".join(backtest.POLICIES) + ".")

    def add_arguments(self, parser):
        parser.add_argument("--asset", required=True, help="a symbol, e.g. TSLAx")
        parser.add_argument("--from", dest="start", required=True, help="YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="YYYY-MM-DD")
        parser.add_argument("--policy", dest="policies", action="append", required=True,
                            help=f"repeat for several: {', '.join(backtest.POLICIES)}")
        parser.add_argument("--ltv-bps", type=bps, help="what-if: LTV instead of the reserve's")
        parser.add_argument("--lt-bps", type=bps, help="what-if: liquidation threshold instead of the reserve's")
        parser.add_argument("--bonus-bps", type=bps, help="what-if: liquidation bonus (10500 = +5%%)")
        parser.add_argument("--json", action="store_true", help="print one JSON document")

    def handle(self, *args, **options):
        start, end = parse_date(options["start"], "--from"), parse_date(options["end"], "--to")
        asset = Asset.objects.filter(symbol=options["asset"]).first()
        if asset is None:
            known = ", ".join(Asset.objects.order_by("id").values_list("symbol", flat=True))
            raise CommandError(f"unknown asset {options['asset']!r}; known: {known or 'none (run load_universe)'}")
        overrides = {name: options[option] for name, option in (
            ("ltv_bps", "ltv_bps"), ("liquidation_threshold_bps", "lt_bps"), ("liquidation_bonus_bps", "bonus_bps"))
            if options[option] is not None}
        try:
            result = services.backtest_compute(asset=asset, start=start, end=end, policies=options["policies"],
                                               overrides=overrides)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"{asset.symbol} ({result['ticker']}) {result['from']}..{result['to']}, "
                          f"{result['sessions']} sessions, {result['borrowers']} borrowers")
        columns = ("bad_debt_usd", "liquidations", "unnecessary_liquidations", "liquidation_penalty_usd",
                   "mean_debt_usd", "mean_haircut_bps")
        self.stdout.write(f"{'policy':18}" + "".join(f"{c:>26}" for c in columns))
        for name, row in result["policies"].items():
            self.stdout.write(f"{name:18}" + "".join(f"{row[c]!s:>26}" for c in columns))
        self.stdout.write(f"least bad debt: {result['least_bad_debt']}")
