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


# --- admin actions (audited, Zulip-style) --------------------------------------------------------------

def _audit(actor, target: str, field: str, old, new, reason: str):
    from markets.services import audit_record

    audit_record(actor=actor, target=target, field=field, old=old, new=new, reason=reason)


def _require_reason(reason) -> str:
    from markets.errors import DomainError

    if not isinstance(reason, str) or not reason.strip():
        raise DomainError("A reason is required for every staff change.", code="required", field="reason")
    return reason.strip()


@transaction.atomic
def oracle_set_manual_price(*, asset: Asset, price: int, actor, reason: str = "") -> OracleRound:
    """Pin the asset at an admin's price: source becomes manual, a round is published and scanned at once."""
    feed = OracleFeed.objects.select_for_update().get(asset=asset)
    old = feed.latest_round.reference_price if feed.latest_round else None
    if feed.source != OracleFeed.Source.MANUAL:
        _audit(actor, f"oracle_source:{asset.symbol}", "source", feed.source, "manual",
               reason or "manual price")
        feed.source = OracleFeed.Source.MANUAL
        feed.save(update_fields=["source"])
    _audit(actor, f"oracle_price:{asset.symbol}", "reference_price", old, price, reason or "manual price")
    return round_publish(asset=asset, reference_price=price, token_price=price, source="manual")


@transaction.atomic
def oracle_shock(*, asset: Asset, percent_bps: int, at: str, actor, reason: str = "") -> OracleRound | None:
    """A price shock in basis points: now (a new round at once) or at the next regular open."""
    feed = OracleFeed.objects.select_for_update().get(asset=asset)
    _audit(actor, f"oracle_price:{asset.symbol}", f"shock_{at}", None, percent_bps, reason or "price shock")
    if at == "next_open" and feed.source != OracleFeed.Source.MANUAL:
        feed.config = {**feed.config, "pending_shock_bps": feed.config.get("pending_shock_bps", 0) + percent_bps}
        feed.save(update_fields=["config"])
        return None
    rnd = feed.latest_round
    price = max(1, rnd.reference_price * (10_000 + percent_bps) // 10_000)
    token = price if feed.source == OracleFeed.Source.MANUAL else max(
        1, rnd.token_price * (10_000 + percent_bps) // 10_000)
    return round_publish(asset=asset, reference_price=price, token_price=token, source=feed.source)


POLICY_FIELDS = ("mode", "coverage", "fixed_bps", "apply_to_liquidation_threshold",
                 "pause_liquidations_when_closed", "reopen_grace_seconds", "manual_price_liquidations")


@transaction.atomic
def haircut_policy_update(*, asset: Asset, changes: dict, actor, reason) -> HaircutPolicy:
    reason = _require_reason(reason)
    policy = HaircutPolicy.objects.select_for_update().get(asset=asset)
    for field, value in changes.items():
        old = getattr(policy, field)
        old_json = str(old) if field == "coverage" else old
        new_json = str(value) if field == "coverage" else value
        if old_json != new_json:
            setattr(policy, field, value)
            _audit(actor, f"oracle_policy:{asset.symbol}", field, old_json, new_json, reason)
    policy.save()
    return policy


@transaction.atomic
def feed_source_update(*, asset: Asset, source: str, config: dict, actor, reason) -> OracleFeed:
    reason = _require_reason(reason)
    feed = OracleFeed.objects.select_for_update().get(asset=asset)
    if feed.source != source:
        _audit(actor, f"oracle_source:{asset.symbol}", "source", feed.source, source, reason)
    if config:
        _audit(actor, f"oracle_source:{asset.symbol}", "config", feed.config, {**feed.config, **config}, reason)
    feed.source = source
    feed.config = {**feed.config, **config}
    feed.save(update_fields=["source", "config"])
    return feed


# --- the price tick -------------------------------------------------------------------------------------

def feeds_tick(*, now: datetime | None = None, seed: int | None = None) -> int:
    """Advance every simulated and replayed feed one step and publish the rounds (manual feeds hold)."""
    import random

    from . import haircut, sources
    from .clock import MarketClock

    now = now or timezone.now()
    rng = random.Random(seed)
    published = 0
    for feed in OracleFeed.objects.select_related("asset", "latest_round").exclude(source="manual").order_by("pk"):
        asset, rnd = feed.asset, feed.latest_round
        if rnd is None:
            continue
        with transaction.atomic():
            feed = OracleFeed.objects.select_for_update(of=("self",)).select_related("asset", "latest_round").get(
                pk=feed.pk)
            if feed.source == OracleFeed.Source.MANUAL:
                continue
            state = MarketClock.get(asset.calendar).state(now)
            cfg = dict(feed.config)
            last = datetime.fromisoformat(cfg["last_tick"]) if cfg.get("last_tick") else rnd.created_at
            seconds = min(max((now - last).total_seconds(), 0.0), 3600.0)
            ref, token = feed.latest_round.reference_price, feed.latest_round.token_price
            sigma = haircut.default_sigma(asset.underlying) or asset.volatility_bps / 10_000
            if feed.source == OracleFeed.Source.SIMULATED:
                if asset.kind == Asset.Kind.PRE_IPO:
                    ref, token = ref, ref  # valuation oracle: moves only when an admin sets it
                elif state.is_open:
                    if not cfg.get("was_open", True):
                        ref = sources.open_jump(ref, ticker=asset.underlying, sigma_daily=sigma, rng=rng)
                        ref = max(1, ref * (10_000 + int(cfg.pop("pending_shock_bps", 0))) // 10_000)
                    ref = sources.gbm_step(ref, sigma_daily=sigma, seconds=seconds, rng=rng)
                    token = ref * asset.price_multiplier_bps // 10_000 if asset.price_multiplier_bps != 10_000 else ref
                elif asset.issuer_profile == Asset.IssuerProfile.ROBINHOOD and state.session == "closed":
                    pass  # a 24/5 token does not trade at weekends
                else:
                    token = sources.token_step(token, ref, sigma_daily=sigma, seconds=seconds, rng=rng)
                cfg["was_open"] = state.is_open
            elif feed.source == OracleFeed.Source.REPLAY:
                series = sources.replay_prices(cfg.get("ticker") or asset.underlying)
                if not series:
                    continue
                cursor = int(cfg.get("cursor", 0)) % len(series)
                ref = token = series[cursor][1] * asset.price_multiplier_bps // 10_000
                cfg["cursor"], cfg["label"] = cursor + 1, series[cursor][0]
            elif feed.source == OracleFeed.Source.CHAINLINK:
                from .chainlink import ChainlinkError, read_latest_round, web3_for

                try:
                    latest = read_latest_round(web3_for(cfg["rpc_url"]), cfg["address"])
                except (ChainlinkError, KeyError):
                    continue
                if latest.round_id == cfg.get("round_id"):
                    continue
                ref = token = latest.price
                cfg["round_id"] = latest.round_id
            cfg["last_tick"] = now.isoformat()
            feed.config = cfg
            feed.save(update_fields=["config"])
            round_publish(asset=asset, reference_price=ref, token_price=token, source=feed.source,
                          session=state.session, at=now)
            published += 1
    return published
