"""manage.py feed_replay: what the oracle would report from the simulated source, step by step (API.md).

Pure: the asset's issuer profile (core.profiles) replayed from a seed; nothing is written."""
import json
import re
from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError

from core import profiles
from core.amounts import format_price, parse_price
from markets.models import Asset, is_symbol
from markets.selectors import asset_profile_params
from oracles.models import OracleFeed
from oracles.selectors import asset_haircut_table
from oracles.services import START_PRICES

STEP_RE = re.compile(r"^([1-9][0-9]{0,5})([smhd])$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
MIN_STEP = timedelta(minutes=1)


def parse_instant(raw: str, name: str) -> datetime:
    if not isinstance(raw, str) or len(raw) > 40 or not raw.isascii():
        raise CommandError(f"{name} must be an ISO-8601 instant such as 2026-01-10T06:00:00Z")
    try:
        t = datetime.fromisoformat(raw)
    except ValueError:
        raise CommandError(f"{name} {raw!r} is not an ISO-8601 instant (e.g. 2026-01-10T06:00:00Z)") from None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def parse_step(raw: str) -> timedelta:
    match = STEP_RE.match(raw or "")
    if not match:
        raise CommandError(f"--step {raw!r} must be a number and a unit: 30m, 1h, 1d (s, m, h or d)")
    step = timedelta(seconds=int(match.group(1)) * UNITS[match.group(2)])
    if step < MIN_STEP:
        raise CommandError("--step must be at least 1m")
    return step


def step_json(step: profiles.Step) -> dict:
    def price(v):
        return None if v is None else format_price(v)

    return {"at": profiles.iso_z(step.at), "session": step.session, "closure_kind": step.closure_kind,
            "reference_price": price(step.reference_price), "token_price": price(step.token_price),
            "effective_price": price(step.effective_price), "haircut_bps": step.haircut_bps,
            "band_low": price(step.band_low), "band_high": price(step.band_high), "stale": step.stale,
            "depeg": step.depeg}


class Command(BaseCommand):
    help = ("What the oracle would report from the simulated source at each step from --from to --to "
            "(inclusive), under the asset's issuer profile and haircut policy, without writing anything. "
            f"At most {profiles.MAX_STEPS} steps.")

    def add_arguments(self, parser):
        parser.add_argument("--asset", required=True, help="asset symbol, e.g. TSLAx")
        parser.add_argument("--from", dest="start", required=True, help="ISO-8601 instant (UTC if no offset)")
        parser.add_argument("--to", dest="end", required=True, help="ISO-8601 instant, inclusive")
        parser.add_argument("--step", default="1h", help="30m, 1h, 1d ... (default 1h)")
        parser.add_argument("--seed", type=int, default=0, help="fixes every random draw (default 0)")
        parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")

    def handle(self, *args, **options):
        symbol = options["asset"]
        asset = Asset.objects.filter(symbol=symbol).first() if is_symbol(symbol) else None
        if asset is None:
            raise CommandError(f"unknown asset {symbol!r}")
        start, end = parse_instant(options["start"], "--from"), parse_instant(options["end"], "--to")
        step = parse_step(options["step"])
        if end < start:
            raise CommandError("--to is before --from")
        if (end - start) // step + 1 > profiles.MAX_STEPS:
            raise CommandError(f"{(end - start) // step + 1} steps is more than {profiles.MAX_STEPS}; "
                               "use a longer --step or a shorter range")
        start_price = parse_price(START_PRICES.get(asset.underlying, "100"))
        params = asset_profile_params(asset, start_price=start_price)
        feed = OracleFeed.objects.filter(asset=asset).first()
        try:
            steps = profiles.replay(params, start, end, step, options["seed"], haircuts=asset_haircut_table(asset),
                                    heartbeat_seconds=feed.heartbeat_seconds if feed else 3600)
        except ValueError as exc:  # ClockRangeError included: outside the compiled calendar
            raise CommandError(str(exc)) from None
        doc = {"asset": asset.symbol, "profile": asset.issuer_profile, "steps": [step_json(s) for s in steps]}
        if options["json"]:
            self.stdout.write(json.dumps(doc))
            return
        self.stdout.write(f"{asset.symbol} ({profiles.PROFILES[asset.issuer_profile].label})")
        for s in doc["steps"]:
            band = f" band {s['band_low']}..{s['band_high']}" if s["band_low"] else ""
            flags = " ".join(f for f in ("stale", "depeg") if s[f])
            self.stdout.write(f"{s['at']} {s['session']:<11} ref {s['reference_price']} token {s['token_price']} "
                              f"eff {s['effective_price']} ({s['haircut_bps']} bps){band} {flags}".rstrip())
