"""Writes for oracles: feeds and policies for every asset, and publishing rounds."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import OperationalError, transaction
from django.db.models import Max
from django.utils import timezone

from common.errors import DomainError, Unprocessable
from common.queue import enqueue_on_commit
from common.services import audit_record, audit_require_reason, audit_reverter, audit_unchanged_since
from core.amounts import parse_price
from markets.models import Asset

from .models import HaircutPolicy, OracleFeed, OracleRound
from .signals import round_published

PRICE_UNIT = 10**8
# Last shipped daily close (2024-12-31) of each underlying, used to start the simulated feeds.
START_PRICES = {
    "SPY": "586.08", "QQQ": "511.23", "AAPL": "250.42", "TSLA": "403.84", "NVDA": "134.29", "GOOGL": "189.30",
    "HOOD": "37.26", "MSTR": "289.62", "AMZN": "219.39", "SPACEX": "185.00",
}


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
                price = parse_price(START_PRICES.get(asset.underlying, "100"))
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
    """Store a new round, move the feed to it, and (notify) tell listeners (the scanner) once committed."""
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
            _announce(rnd)
    return rnd


def _announce(rnd: OracleRound) -> None:
    """After commit, one signal for the latest round of a write (lending's scan reads every price then)."""
    transaction.on_commit(lambda: round_published.send(sender=OracleRound, round_id=rnd.pk))


# --- admin actions (audited, Zulip-style) --------------------------------------------------------------

CONFIRM_FACTOR = 10  # a manual price this many times above or below the current one must be confirmed


@transaction.atomic
def oracle_set_manual_price(*, asset: Asset, price: int, actor, reason: str = "", confirm: bool = False) -> OracleRound:
    """Pin the asset at an admin's price: source becomes manual, a round is published and scanned at once.
    A price more than CONFIRM_FACTOR times away from the current one needs confirm=True (a typo guard)."""
    from common.errors import Conflict
    from core.amounts import MAX_PRICE, format_price

    if isinstance(price, bool) or not isinstance(price, int) or not 0 < price <= MAX_PRICE:
        raise DomainError(f"price must be above 0 and at most ${format_price(MAX_PRICE)}.", code="invalid_price",
                          field="price")
    feed = OracleFeed.objects.select_for_update().get(asset=asset)
    old = feed.latest_round.reference_price if feed.latest_round else None
    if old and not confirm and (price > old * CONFIRM_FACTOR or price * CONFIRM_FACTOR < old):
        raise Conflict(f"${format_price(price)} is more than {CONFIRM_FACTOR}x away from the current "
                       f"${format_price(old)}; send it again with confirm to set it.", code="confirmation_required",
                       field="confirm")
    if feed.source != OracleFeed.Source.MANUAL:
        audit_record(actor, f"oracle_source:{asset.symbol}", "source", feed.source, "manual",
               reason or "manual price")
        feed.source = OracleFeed.Source.MANUAL
        feed.save(update_fields=["source"])
    audit_record(actor, f"oracle_price:{asset.symbol}", "reference_price", old, price, reason or "manual price")
    return round_publish(asset=asset, reference_price=price, token_price=price, source="manual")


@transaction.atomic
def oracle_shock(*, asset: Asset, percent_bps: int, at: str, actor, reason: str = "") -> OracleRound | None:
    """A price shock in basis points: now (a new round at once) or at the next regular open."""
    from core.amounts import MAX_PRICE, format_price

    feed = OracleFeed.objects.select_for_update().get(asset=asset)
    if at == "next_open" and feed.source != OracleFeed.Source.MANUAL:
        pending = feed.config.get("pending_shock_bps", 0) + percent_bps
        if not -9_900 <= pending <= 100_000:  # the same bounds as one shock, so shocks cannot pile up unbounded
            raise DomainError("Pending shocks would add up beyond -99%..+1000%.", code="invalid", field="percent")
        audit_record(actor, f"oracle_price:{asset.symbol}", f"shock_{at}", None, percent_bps, reason or "price shock")
        feed.config = {**feed.config, "pending_shock_bps": pending}
        feed.save(update_fields=["config"])
        return None
    rnd = feed.latest_round
    price = max(1, rnd.reference_price * (10_000 + percent_bps) // 10_000)
    token = price if feed.source == OracleFeed.Source.MANUAL else max(
        1, rnd.token_price * (10_000 + percent_bps) // 10_000)
    if max(price, token) > MAX_PRICE:
        raise DomainError(f"The shock would take the price above ${format_price(MAX_PRICE)}.", code="invalid",
                          field="percent")
    audit_record(actor, f"oracle_price:{asset.symbol}", f"shock_{at}", None, percent_bps, reason or "price shock")
    return round_publish(asset=asset, reference_price=price, token_price=token, source=feed.source)


def oracle_resume_source(asset: Asset) -> str | None:
    """The source a pinned (manual) asset goes back to: the one the last pin replaced, as the audit trail
    records it; a stock token pinned without a record (a fresh test universe) resumes the simulated feed.
    None for an asset whose own source is manual (stablecoins at $1)."""
    from common.models import AuditEntry

    entry = AuditEntry.objects.filter(target=f"oracle_source:{asset.symbol}", field="source",
                                      new_value=OracleFeed.Source.MANUAL).order_by("-pk").first()
    if entry is not None and entry.old_value in OracleFeed.Source.values and entry.old_value != "manual":
        return entry.old_value
    return None if asset.kind == Asset.Kind.STABLECOIN else OracleFeed.Source.SIMULATED


def _source_quote(feed: OracleFeed, source: str) -> tuple[int, int]:
    """The (reference, token) price the source itself stands at now, ignoring the pin: a simulated feed
    resumes from its own last round (a pin never moved the stock), a replay from its cursor, Chainlink from
    the aggregator's latest round."""
    asset = feed.asset
    if source == OracleFeed.Source.REPLAY:
        from . import sources

        series = sources.replay_prices(feed.config.get("ticker") or asset.underlying)
        if series:
            price = series[int(feed.config.get("cursor", 0)) % len(series)][1] * asset.price_multiplier_bps // 10_000
            return price, price
    elif source == OracleFeed.Source.CHAINLINK:
        from .chainlink import ChainlinkError, read_latest_round, web3_for

        try:
            latest = read_latest_round(web3_for(feed.config["rpc_url"]), feed.config["address"])
        except (ChainlinkError, KeyError):
            from common.errors import Conflict

            raise Conflict("The Chainlink feed cannot be read now; the pin stays until it can.",
                           code="source_unavailable") from None
        return latest.price, latest.price
    own = OracleRound.objects.filter(asset=asset, source=source).order_by("-pk").first()
    if own is None:  # never ran on that source: start it where the shipped data starts
        price = parse_price(START_PRICES.get(asset.underlying, "100")) * asset.price_multiplier_bps // 10_000
        return price, price
    return own.reference_price, own.token_price


@transaction.atomic
def oracle_unpin(*, asset: Asset, actor, reason: str) -> OracleRound:
    """Undo a pin: the feed goes back to the source the pin replaced and a round from that source is published
    at once (and scanned), so the pinned price stops applying. Audited: the price, then the source."""
    from common.errors import Conflict
    from core.amounts import format_price

    reason = audit_require_reason(reason)
    feed = OracleFeed.objects.select_for_update(of=("self",)).select_related("asset", "latest_round").get(asset=asset)
    if feed.source != OracleFeed.Source.MANUAL:
        raise Conflict(f"{asset.symbol} is not pinned: its price comes from the {feed.source} feed.",
                       code="not_pinned")
    source = oracle_resume_source(asset)
    if source is None:
        raise Conflict(f"{asset.symbol} has no feed to resume: its own source is the manual price.",
                       code="no_feed_to_resume")
    reference, token = _source_quote(feed, source)
    old = feed.latest_round.reference_price if feed.latest_round else None
    audit_record(actor, f"oracle_price:{asset.symbol}", "reference_price", old, reference,
                 f"unpin, {source} feed at ${format_price(reference)}: {reason}")
    audit_record(actor, f"oracle_source:{asset.symbol}", "source", feed.source, source, reason)
    feed.source = source
    feed.config = {**feed.config, "last_tick": timezone.now().isoformat()}  # the feed walks on from now
    feed.save(update_fields=["source", "config"])
    return round_publish(asset=asset, reference_price=reference, token_price=token, source=source)


@transaction.atomic
def haircut_policy_update(*, asset: Asset, changes: dict, actor, reason) -> HaircutPolicy:
    reason = audit_require_reason(reason)
    policy = HaircutPolicy.objects.select_for_update().get(asset=asset)
    for field, value in changes.items():
        old = getattr(policy, field)
        old_json = str(old) if field == "coverage" else old
        new_json = str(value) if field == "coverage" else value
        if old_json != new_json:
            setattr(policy, field, value)
            audit_record(actor, f"oracle_policy:{asset.symbol}", field, old_json, new_json, reason)
    policy.save()
    return policy


@transaction.atomic
def feed_source_update(*, asset: Asset, source: str, config: dict, actor, reason,
                       heartbeat_seconds: int | None = None) -> OracleFeed:
    reason = audit_require_reason(reason)
    feed = OracleFeed.objects.select_for_update().get(asset=asset)
    if source == "chainlink" and not {"rpc_url", "address"} <= set(config) | set(feed.config):
        raise DomainError("A chainlink source needs rpc_url and address.", code="required", field="address")
    if heartbeat_seconds and heartbeat_seconds != feed.heartbeat_seconds:
        audit_record(actor, f"oracle_source:{asset.symbol}", "heartbeat_seconds", feed.heartbeat_seconds,
                     heartbeat_seconds, reason)
        feed.heartbeat_seconds = heartbeat_seconds
    if feed.source != source:
        audit_record(actor, f"oracle_source:{asset.symbol}", "source", feed.source, source, reason)
    if config:
        audit_record(actor, f"oracle_source:{asset.symbol}", "config", feed.config, {**feed.config, **config}, reason)
    feed.source = source
    feed.config = {**feed.config, **config}
    feed.save(update_fields=["source", "config", "heartbeat_seconds"])
    return feed


# --- the price tick -------------------------------------------------------------------------------------

@transaction.atomic
def feeds_tick(*, now: datetime | None = None, seed: int | None = None) -> int:
    """Advance every simulated, replayed and Chainlink feed one step and publish the rounds (manual feeds hold).

    One transaction for the whole tick, so one scan follows it (after commit), and none when no round moved a
    price: its rounds are then heartbeats only."""
    import random

    from core.clock import MarketClock

    from . import sources

    now = now or timezone.now()
    rng = random.Random(seed)
    published, newest, moved = 0, None, False
    # locked in pk order; a feed an admin turned manual meanwhile drops out of the (re-checked) filter
    feeds = OracleFeed.objects.select_for_update(of=("self",)).select_related("asset", "latest_round") \
        .exclude(source=OracleFeed.Source.MANUAL).order_by("pk")
    for feed in feeds:
        asset, rnd = feed.asset, feed.latest_round
        if rnd is None:
            continue
        state = MarketClock.get(asset.calendar).state(now)
        cfg = dict(feed.config)
        last = datetime.fromisoformat(cfg["last_tick"]) if cfg.get("last_tick") else rnd.created_at
        seconds = min(max((now - last).total_seconds(), 0.0), 3600.0)
        ref, token = feed.latest_round.reference_price, feed.latest_round.token_price
        if feed.source == OracleFeed.Source.SIMULATED:
            # the issuer profile's behaviour (core.profiles), the same step feed_replay shows
            ref, token, profile_state = _profile_step(asset, cfg, rnd, now=now, seconds=seconds, rng=rng)
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
        if ref <= 0 or token <= 0:
            # a source reading zero (or less) is broken, not a price: keep the last round (it goes stale in time)
            # and let every other feed of the tick publish
            logging.getLogger(__name__).warning("feed %s read a non-positive price; kept its last round",
                                                asset.symbol)
            continue
        cfg["last_tick"] = now.isoformat()
        newest = round_publish(asset=asset, reference_price=ref, token_price=token, source=feed.source,
                               session=state.session, at=now, notify=False)
        if feed.source == OracleFeed.Source.SIMULATED:
            cfg["profile_state"] = {**profile_state, "round": newest.pk}  # a round not ours restarts the state
        feed.config = cfg
        feed.save(update_fields=["config"])
        moved = moved or newest.quote != rnd.quote
        published += 1
    if moved:
        _announce(newest)
    return published


def _profile_step(asset: Asset, cfg: dict, rnd: OracleRound, *, now: datetime, seconds: float, rng):
    """One simulated step under the asset's issuer profile: (reference, token, the profile's state to keep).

    The state lives in the feed's config; when the latest round is not the one it produced (an admin's price or
    shock, a source switch), it restarts from that round's prices. A token without a market at this hour
    (Robinhood at weekends) keeps its last price in the round."""
    from core import profiles
    from markets.selectors import asset_profile_params

    params = asset_profile_params(asset)
    st = cfg.get("profile_state")
    if not st or st.get("round") != rnd.pk:
        st = profiles.init_state(params, reference=rnd.reference_price, token=rnd.token_price)
        st["was_open"] = cfg.get("was_open")
    opening = st["was_open"] is False and profiles.MarketClock.get(asset.calendar).is_open(now)
    shock = int(cfg.pop("pending_shock_bps", 0)) if opening else 0
    actions = ()
    if opening and params.behaviour == profiles.ONDO and asset.underlying:
        today = now.date()
        actions = profiles.corporate_actions(asset.underlying, today - timedelta(days=7), today)
    st = profiles.advance(params, st, at=now, seconds=seconds, rng=rng, shock_bps=shock, actions=actions)
    ref = max(1, round(st["ref"] * PRICE_UNIT))
    token = max(1, round(st["token"] * PRICE_UNIT)) if st["token"] is not None else rnd.token_price
    return ref, token, st


# --- backtests (the engine is core.simulation.backtest, free of Django) ------------------------------------

BACKTEST_STALE_SECONDS = 600  # a backtest "running" this long lost its worker: a redelivery may take it over
MAX_SEED = 2**32 - 1


def _refusal(exc) -> DomainError:
    """A core BacktestError as the API's error: malformed input a 400, well-formed but unservable a 422."""
    message = str(exc)
    message = message[0].upper() + message[1:] + ("" if message.endswith(".") else ".")
    return (Unprocessable if exc.refused else DomainError)(message, code=exc.code, field=exc.field)


def _backtest_bars(asset: Asset, prices_dir=None):
    """The asset's daily bars: the shipped file of its underlying, or `<underlying>.csv` in `prices_dir`."""
    import pathlib

    from core.clock import MarketClock
    from core.haircut import calibrated as haircut
    from core.simulation import backtest

    if prices_dir is not None:
        folder = pathlib.Path(prices_dir)
        if not folder.is_dir():
            raise DomainError(f"--prices {prices_dir} is not a folder of <TICKER>.csv daily bars.", code="invalid",
                              field="prices")
        path = folder / f"{asset.underlying}.csv"
        if not asset.underlying or not path.is_file():
            raise DomainError(f"No {asset.underlying or asset.symbol}.csv in {prices_dir}: {asset.symbol}'s "
                              f"underlying ticker names the file.", code="invalid", field="prices")
    else:
        path = haircut.PRICES_DIR / f"{asset.underlying}.csv"
        if not asset.underlying or not path.exists():
            shipped = ", ".join(sorted(p.stem for p in haircut.PRICES_DIR.glob("*.csv")))
            raise Unprocessable(f"No price history ships for {asset.symbol} (underlying {asset.underlying or 'none'});"
                                f" backtests cover {shipped}.", code="no_price_history", field="asset")
    try:
        bars = backtest.load_bars(path, MarketClock.get("XNYS").gap_kind)
    except backtest.BacktestError as exc:  # names the file and, where it can, the line and what is wrong
        raise DomainError(f"{exc}.", code="invalid", field="prices") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DomainError(f"{path.name} cannot be read ({type(exc).__name__}).", code="invalid",
                          field="prices") from None
    if len(bars.dates) < 2:  # core.prices.daily_rows refuses dates out of order; zero-price rows are skipped
        raise DomainError(f"{path.name} needs at least two sessions in date order, one row each.", code="invalid",
                          field="prices")
    return bars


BACKTEST_PARAMETERS = ("ltv_bps", "liquidation_threshold_bps", "liquidation_bonus_bps")
BACKTEST_OPTIONS = ("engine", "seize_at", "seed", "recommend")


def backtest_parameters(*, asset: Asset, overrides: dict | None = None, engine: str | None = None):
    """The reserve's risk parameters, with what-if overrides validated as PoolConfigurator would (and, under
    Aave v4, bonus x threshold strictly below 100%)."""
    from core.aave import engines
    from core.aave.v4 import PoolConfigError, validate_collateral
    from core.simulation import backtest
    from markets.models import Reserve
    from markets.services import validate_reserve_config

    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(BACKTEST_PARAMETERS))
    if unknown:
        raise DomainError(f"Only {', '.join(BACKTEST_PARAMETERS)} can be overridden, not {', '.join(unknown)}.",
                          code="invalid", field="parameters")
    for name, value in overrides.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise DomainError(f"{name} must be a JSON integer of basis points.", code="invalid", field=name)
    reserve = Reserve.objects.get(asset=asset)
    cfg = {f: getattr(reserve, f) for f in Reserve.PARAMETER_FIELDS}
    cfg.update(overrides)
    errors = validate_reserve_config(cfg)
    if errors:
        field, message = next(iter(errors.items()))
        raise DomainError(message, code="invalid", field=field)
    if engine == engines.V4 and cfg["liquidation_threshold_bps"]:
        try:
            validate_collateral(max_bonus_bps=cfg["liquidation_bonus_bps"],
                                collateral_factor_bps=cfg["liquidation_threshold_bps"])
        except PoolConfigError as exc:
            raise DomainError(str(exc), code="invalid", field="liquidation_bonus_bps") from None
    return backtest.Parameters(cfg["ltv_bps"], cfg["liquidation_threshold_bps"], cfg["liquidation_bonus_bps"],
                               cfg["liquidation_protocol_fee_bps"])


def backtest_options(*, engine=None, seize_at=None, seed=None, recommend=False) -> dict:
    """The run's options, checked: engine (None = the pool's), seize_at, seed (None = drawn when needed),
    recommend. Each bad value is a 400 naming its field."""
    from core.aave import engines
    from core.simulation import backtest

    if engine is not None and engine not in engines.ENGINES:
        raise DomainError(f"Unknown engine {engine!r}; choose from {', '.join(engines.ENGINES)}.", code="invalid",
                          field="engine")
    seize_at = "reference" if seize_at is None else seize_at
    if seize_at not in backtest.SEIZE_AT:
        raise DomainError(f"Unknown seize_at {seize_at!r}; choose from {', '.join(backtest.SEIZE_AT)}.",
                          code="invalid", field="seize_at")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED):
        raise DomainError(f"seed must be a whole number from 0 to {MAX_SEED}.", code="invalid", field="seed")
    if not isinstance(recommend, bool):
        raise DomainError("recommend must be true or false.", code="invalid", field="recommend")
    return {"engine": engine, "seize_at": seize_at, "seed": seed, "recommend": recommend}


def _recommend_plan(policies: list[str], engine: str | None) -> tuple[list[str], list[str]]:
    """(engines, policies) the recommendation screens: the named engine or both; the named policies but kamino
    (its mechanics are none's; Kamino's parameters are the comparison), or none alone."""
    from core.aave import engines
    from core.simulation import recommend

    screened = [p for p in policies if p in recommend.SCREENED] or ["none"]
    return ([engine] if engine else list(engines.ENGINES)), screened


def backtest_units(*, sessions: int, policies: list[str], engine: str | None, recommend: bool) -> int:
    """What the progress counts: sessions walked, per policy, plus per screened engine x policy."""
    extra = 0
    if recommend:
        engine_names, screened = _recommend_plan(policies, engine)
        extra = sessions * len(engine_names) * len(screened)
    return sessions * len(policies) + extra


def backtest_validate(*, asset: Asset, start, end, policies: list[str], overrides: dict | None = None,
                      engine: str | None = None, prices_dir=None):
    """Everything a backtest needs, checked before it is queued: (bars, sessions in range, risk parameters,
    engine, v4 pool). The checks themselves are the engine's; this maps its refusals to the API's errors."""
    from core.simulation import backtest
    from markets.selectors import pool_engine

    pool_name, pool = pool_engine()
    engine = engine or pool_name
    parameters = backtest_parameters(asset=asset, overrides=overrides, engine=engine)
    try:
        backtest.check_policies(policies)
    except backtest.BacktestError as exc:
        raise _refusal(exc) from None
    bars = _backtest_bars(asset, prices_dir)
    try:
        sessions = backtest.check_range(bars, start=start, end=end, policies=policies)
        backtest.check_policies(policies, ticker=bars.ticker)
    except backtest.BacktestError as exc:
        raise _refusal(exc) from None
    return bars, sessions, parameters, engine, pool


def backtest_compute(*, asset: Asset, start, end, policies: list[str], overrides: dict | None = None,
                     engine: str | None = None, seize_at: str = "reference", seed: int | None = None,
                     recommend: bool = False, prices_dir=None, progress=None) -> dict:
    """Run the named policies on the asset's history with its reserve's parameters (or what-if overrides),
    its haircut policy's coverage, the chosen liquidation engine (default: the pool's) and seize rule; with
    `recommend`, also the recommended LTV/LT per engine and policy (core.simulation.recommend)."""
    import pathlib
    import secrets

    from core.clock import MarketClock
    from core.haircut import calibrated as haircut
    from core.simulation import backtest, closure
    from core.simulation import recommend as recommender
    from markets.selectors import asset_profile_params

    options = backtest_options(engine=engine, seize_at=seize_at, seed=seed, recommend=recommend)
    explicit_engine = options["engine"]
    bars, sessions, parameters, engine, pool = backtest_validate(
        asset=asset, start=start, end=end, policies=policies, overrides=overrides, engine=explicit_engine,
        prices_dir=prices_dir)
    policy = HaircutPolicy.objects.filter(asset=asset).first()
    coverage = float(policy.coverage) if policy else 0.99
    k_table = fixed_bps = None
    names = list(dict.fromkeys(policies))
    if recommend and not set(names) & set(recommender.SCREENED):
        names_for_build = [*names, "none"]
    else:
        names_for_build = names
    if {"calibrated", "pause_when_closed"} & set(names):  # k fitted on every ticker, before `start` only
        folder = pathlib.Path(prices_dir) if prices_dir is not None else haircut.PRICES_DIR
        try:
            rows = [c for c in haircut.load_closures(folder, MarketClock.get("XNYS").gap_kind) if c.date < start]
            k_table = haircut.fit_k(rows, coverage)
        except (KeyError, ValueError, ArithmeticError, OSError) as exc:
            raise DomainError(f"The bar files in {folder} cannot be fitted ({type(exc).__name__}: {exc}).",
                              code="invalid", field="prices") from None
    if "fixed" in names:
        fixed_bps = (policy.fixed_bps if policy and policy.fixed_bps and prices_dir is None
                     else backtest.fixed_table(bars, start, coverage))
    try:
        built = backtest.build_policies(names_for_build, ticker=bars.ticker, parameters=parameters, k_table=k_table,
                                        fixed_bps=fixed_bps)
    except backtest.BacktestError as exc:
        raise _refusal(exc) from None
    # the asset's issuer profile: an own-market one draws token paths through each closure (core.simulation.closure)
    profile = asset_profile_params(asset)
    if seed is None and (recommend or closure.own_market(profile)):
        seed = secrets.randbelow(MAX_SEED + 1)  # reported, so the run repeats
    out, done = {}, 0
    for p in built:
        if p.name not in names:
            continue
        if p.name == "kamino" and engine == "v4":  # Kamino's own threshold must pass v4's strict rule too
            backtest_parameters(asset=asset, engine=engine, overrides={
                "ltv_bps": p.parameters.ltv_bps, "liquidation_threshold_bps": p.parameters.liquidation_threshold_bps,
                "liquidation_bonus_bps": p.parameters.liquidation_bonus_bps})
        result = backtest.run(bars, p, start=start, end=end, engine=engine, pool=pool, seize_at=seize_at,
                              profile=profile, seed=seed,
                              progress=(lambda n, base=done: progress(base + n)) if progress else None)
        out[p.name] = {**result.as_dict(), "worst_closures": result.worst_closures(bars)}
        done += sessions
    least = min(out, key=lambda name: (float(out[name]["bad_debt_usd"]), out[name]["unnecessary_liquidations"]))
    doc = {"asset": asset.symbol, "ticker": bars.ticker, "from": start.isoformat(), "to": end.isoformat(),
           "engine": engine, "seize_at": seize_at, "prices": "custom" if prices_dir is not None else "shipped",
           "sessions": sessions, "coverage": coverage, "k": k_table, "fixed_bps": fixed_bps,
           "borrowers": len(backtest.DEFAULT_SHARES_BPS), "deposit_usd": backtest.DEPOSIT_USD,
           "parameters": {"ltv_bps": parameters.ltv_bps,
                          "liquidation_threshold_bps": parameters.liquidation_threshold_bps,
                          "liquidation_bonus_bps": parameters.liquidation_bonus_bps,
                          "liquidation_protocol_fee_bps": parameters.protocol_fee_bps},
           "pool": {"target_health_factor": str(pool.target_health_factor / 10**18),
                    "liquidation_bonus_factor_bps": pool.liquidation_bonus_factor_bps,
                    "health_factor_for_max_bonus": str(pool.health_factor_for_max_bonus / 10**18)}
           if engine == "v4" else None,
           "profile": closure.describe(profile), "least_bad_debt": least, "policies": out,
           "progress_units": backtest_units(sessions=sessions, policies=names, engine=explicit_engine,
                                            recommend=recommend)}
    if recommend:
        engine_names, screened = _recommend_plan(names, explicit_engine)
        kamino = backtest.KAMINO_LTV_LT.get(bars.ticker)
        try:
            rec = recommender.recommend(
                bars, start=start, end=end, policies=[p for p in built if p.name in screened],
                engine_names=engine_names, pool=pool, seize_at=seize_at, seed=seed, kamino=kamino, profile=profile,
                current=(parameters.ltv_bps, parameters.liquidation_threshold_bps),
                progress=(lambda n, base=done: progress(base + n)) if progress else None)
        except backtest.BacktestError as exc:
            raise _refusal(exc) from None
        rec["validated"] = _recommendation_valid(asset, rec)
        doc["recommendation"] = rec
    if seed is not None:
        doc["seed"] = seed
    return doc


def _recommendation_valid(asset: Asset, rec: dict) -> bool | None:
    """The recommended parameters through markets' PoolConfigurator rules (and v4's strict rule under v4)."""
    if rec.get("ltv_bps") is None:
        return None
    try:
        backtest_parameters(asset=asset, engine=rec["engine"],
                            overrides={"ltv_bps": rec["ltv_bps"],
                                       "liquidation_threshold_bps": rec["liquidation_threshold_bps"],
                                       "liquidation_bonus_bps": rec["liquidation_bonus_bps"]})
    except DomainError:
        return False
    return True


@transaction.atomic
def backtest_create(*, asset: Asset, start, end, policies: list[str], overrides: dict | None = None, actor=None,
                    engine: str | None = None, seize_at: str | None = None, seed: int | None = None,
                    recommend: bool = False):
    """Queue a backtest (validated now, run by a worker on the simulations queue once this commits)."""
    from .models import Backtest

    policies = list(dict.fromkeys(policies))
    options = backtest_options(engine=engine, seize_at=seize_at, seed=seed, recommend=recommend)
    _, sessions, _, _, _ = backtest_validate(asset=asset, start=start, end=end, policies=policies,
                                             overrides=overrides, engine=options["engine"])
    job = Backtest.objects.create(asset=asset, date_from=start, date_to=end, policies=policies,
                                  parameters=dict(overrides or {}), engine=options["engine"] or "",
                                  seize_at=options["seize_at"], seed=options["seed"], recommend=recommend,
                                  total=backtest_units(sessions=sessions, policies=policies,
                                                       engine=options["engine"], recommend=recommend),
                                  created_by=actor)

    def failed():  # the job must not sit queued with nobody to run it
        Backtest.objects.filter(pk=job.pk).update(status=Backtest.Status.FAILED, finished_at=timezone.now(),
                                                  error="The task broker was unreachable; nothing ran.")

    enqueue_on_commit("oracles.run_backtest", args=[job.pk], queue="simulations", on_failure=failed)
    return job


def backtest_execute(*, backtest_id: int) -> bool:
    """Claim the backtest by a conditional UPDATE (healthchecks style) and run it; False if someone else has it.

    A job left "running" by a worker that died is claimable again once it is older than the task's hard limit."""
    from django.db.models import Q

    from .models import Backtest

    now = timezone.now()
    stale = now - timedelta(seconds=BACKTEST_STALE_SECONDS)
    claimed = Backtest.objects.filter(
        Q(status=Backtest.Status.QUEUED) | Q(status=Backtest.Status.RUNNING, started_at__lt=stale), pk=backtest_id,
    ).update(status=Backtest.Status.RUNNING, started_at=now, processed=0)
    if claimed != 1:
        return False
    job = Backtest.objects.select_related("asset").get(pk=backtest_id)

    def progress(n: int) -> None:
        Backtest.objects.filter(pk=backtest_id).update(processed=min(n, job.total))

    try:
        result = backtest_compute(asset=job.asset, start=job.date_from, end=job.date_to, policies=job.policies,
                                  overrides=job.parameters, engine=job.engine or None, seize_at=job.seize_at,
                                  seed=job.seed, recommend=job.recommend, progress=progress)
    except DomainError as exc:  # the data changed under a queued job: a failure to report, not to retry
        Backtest.objects.filter(pk=backtest_id).update(status=Backtest.Status.FAILED, error=exc.message,
                                                       finished_at=timezone.now())
        return True
    except OperationalError:  # transient: hand the job back so the task's retry can claim it again
        Backtest.objects.filter(pk=backtest_id).update(status=Backtest.Status.QUEUED, started_at=None)
        raise
    except Exception as exc:  # a bug: say so on the job (the worker logs the traceback)
        Backtest.objects.filter(pk=backtest_id).update(
            status=Backtest.Status.FAILED, error=f"internal error ({type(exc).__name__})", finished_at=timezone.now())
        raise
    Backtest.objects.filter(pk=backtest_id).update(status=Backtest.Status.DONE, result=result, processed=job.total,
                                                   finished_at=timezone.now())
    return True


# --- undo (registered with the platform's audit) -----------------------------------------------------------

@audit_reverter("oracle_policy")
def _revert_policy(entry, *, symbol: str, actor, note: str) -> None:
    policy = HaircutPolicy.objects.select_for_update().select_related("asset").get(asset__symbol=symbol)
    current = getattr(policy, entry.field)
    audit_unchanged_since(entry, str(current) if entry.field == "coverage" else current)
    old = Decimal(entry.old_value) if entry.field == "coverage" else entry.old_value
    haircut_policy_update(asset=policy.asset, changes={entry.field: old}, actor=actor, reason=note)


@audit_reverter("oracle_source", fields={"source", "heartbeat_seconds"})
def _revert_source(entry, *, symbol: str, actor, note: str) -> None:
    feed = OracleFeed.objects.select_for_update().select_related("asset").get(asset__symbol=symbol)
    audit_unchanged_since(entry, getattr(feed, entry.field))
    if entry.field == "source" and entry.new_value == OracleFeed.Source.MANUAL:
        oracle_unpin(asset=feed.asset, actor=actor, reason=note)  # reverting a pin resumes the feed's price too
    elif entry.field == "source":
        feed_source_update(asset=feed.asset, source=entry.old_value, config={}, actor=actor, reason=note)
    else:
        feed_source_update(asset=feed.asset, source=feed.source, config={}, actor=actor, reason=note,
                           heartbeat_seconds=entry.old_value)


# --- history for the charts of a fresh install ---------------------------------------------------------------

HISTORY_SESSIONS = 30  # about six weeks of shipped daily bars behind the first live round
HISTORY_SOURCE = "history"


@transaction.atomic
def rounds_backfill(*, sessions: int = HISTORY_SESSIONS, now: datetime | None = None) -> int:
    """Days of chart history for a fresh install, from the shipped daily bars: each asset's last `sessions` bars
    replayed onto the XNYS sessions before its first round (a round at each open and just before each close;
    a stablecoin at $1 at each close), scaled so the last close meets that first round's price (or the price
    the feed starts from). Run before feeds_ensure, the live rounds follow these in id and time. Idempotent: an
    asset that has "history" rounds is skipped. Assets without shipped bars (pre-IPO) get none. Returns the count.
    """
    from collections import deque
    from datetime import timedelta

    from core.clock import MarketClock
    from core.prices import PRICES_DIR, bar_price, daily_rows

    clock = MarketClock.get("XNYS")
    done = set(OracleRound.objects.filter(source=HISTORY_SOURCE).values_list("asset_id", flat=True).distinct())
    written, tails = 0, {}
    for asset in Asset.objects.order_by("id"):
        if asset.pk in done:
            continue
        first = OracleRound.objects.filter(asset=asset).order_by("created_at", "id").first()
        anchor = first.created_at if first else (now or timezone.now())
        stable = asset.kind == Asset.Kind.STABLECOIN
        path = PRICES_DIR / f"{asset.underlying}.csv"
        if not stable and (not asset.underlying or not path.exists()):
            continue
        # the last `sessions` regular sessions that closed before the anchor, oldest first
        spans, t = [], anchor
        for _ in range(sessions):
            close = clock.state(t).last_close
            if close is None:
                break
            opened = clock.last_open(close - timedelta(seconds=1))
            spans.append((opened, close - timedelta(seconds=1)))
            t = opened - timedelta(seconds=1)
        spans.reverse()
        if stable:
            quotes = [(close, PRICE_UNIT) for _, close in spans]
        else:
            if path not in tails:  # several tokens share an underlying: read each file once
                tails[path] = list(deque(daily_rows(path), maxlen=sessions))
            bars = tails[path][-len(spans):]
            last_close = bar_price(bars[-1][3])
            start = parse_price(START_PRICES[asset.underlying]) if asset.underlying in START_PRICES else last_close
            # meet the first round, or the price feeds_ensure will start the feed at
            target = first.reference_price if first else start * asset.price_multiplier_bps // 10_000
            quotes = []
            for (opened, close), (_, open_raw, _low, close_raw) in zip(spans[-len(bars):], bars):
                quotes += [(opened, max(1, bar_price(open_raw) * target // last_close)),
                           (close, max(1, bar_price(close_raw) * target // last_close))]
        next_id = (OracleRound.objects.filter(asset=asset).aggregate(m=Max("round_id"))["m"] or 0) + 1
        OracleRound.objects.bulk_create([
            OracleRound(asset=asset, round_id=next_id + i, source=HISTORY_SOURCE, reference_price=price,
                        token_price=price, session="regular", flags=[], created_at=at)
            for i, (at, price) in enumerate(quotes)])
        written += len(quotes)
    return written
