"""Writes for oracles: feeds and policies for every asset, and publishing rounds."""
from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from markets.models import Asset

from .models import HaircutPolicy, OracleFeed, OracleRound
from .signals import round_published

PRICE_UNIT = 10**8
# Last shipped daily close (2024-12-31) of each underlying, used to start the simulated feeds.
START_PRICES = {
    "SPY": "586.08", "QQQ": "511.23", "AAPL": "250.42", "TSLA": "403.84", "NVDA": "134.29", "GOOGL": "189.30",
    "HOOD": "37.26", "MSTR": "289.62", "AMZN": "219.39", "SPACEX": "185.00",
}


def usd_to_price(value: str) -> int:
    whole, _, frac = value.partition(".")
    return int(whole) * PRICE_UNIT + int((frac + "0" * 8)[:8] or 0)


@transaction.atomic
def feeds_ensure() -> None:
    """Every asset gets a feed and a haircut policy: stablecoins manual $1 with no haircut, stocks simulated."""
    for asset in Asset.objects.all():
        stable = asset.kind == Asset.Kind.STABLECOIN
        feed, created = OracleFeed.objects.get_or_create(
            asset=asset,
            defaults=dict(source=OracleFeed.Source.MANUAL if stable else OracleFeed.Source.SIMULATED,
                          heartbeat_seconds=86400 if stable else 3600),
        )
        HaircutPolicy.objects.get_or_create(
            asset=asset, defaults=dict(mode=HaircutPolicy.Mode.NONE if stable else HaircutPolicy.Mode.CALIBRATED)
        )
        if created or feed.latest_round_id is None:
            if stable:
                price = PRICE_UNIT
            else:
                price = usd_to_price(START_PRICES.get(asset.underlying, "100"))
                price = price * asset.price_multiplier_bps // 10_000
            round_publish(asset=asset, reference_price=price, token_price=price, source=feed.source, notify=False)


def round_publish(
    *,
    asset: Asset,
    reference_price: int,
    token_price: int | None = None,
    source: str,
    session: str = "",
    flags: list[str] | None = None,
    at: datetime | None = None,
    notify: bool = True,
) -> OracleRound:
    """Store a new round, move the feed to it, and tell listeners (the scanner) once committed."""
    if reference_price <= 0 or (token_price is not None and token_price <= 0):
        raise ValueError("prices must be positive")
    at = at or timezone.now()
    with transaction.atomic():
        feed = OracleFeed.objects.select_for_update().get(asset=asset)
        prev = feed.latest_round
        next_id = (OracleRound.objects.filter(asset=asset).aggregate(m=Max("round_id"))["m"] or 0) + 1
        rnd = OracleRound.objects.create(
            asset=asset, round_id=next_id, source=source, reference_price=reference_price,
            token_price=token_price if token_price is not None else reference_price,
            session=session, flags=flags or [], created_at=at,
        )
        if prev is None or prev.reference_price != reference_price:
            feed.last_changed_at = at
        feed.latest_round = rnd
        feed.save(update_fields=["latest_round", "last_changed_at"])
        if notify:
            transaction.on_commit(lambda: round_published.send(sender=OracleRound, round_id=rnd.pk))
    return rnd
