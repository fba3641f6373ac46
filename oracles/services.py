"""Writes for oracles: feeds and policies for every asset, and publishing rounds."""
from __future__ import annotations

from datetime import datetime
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
    from core.haircut import calibrated as haircut

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
        newest = round_publish(asset=asset, reference_price=ref, token_price=token, source=feed.source,
                               session=state.session, at=now, notify=False)
        moved = moved or newest.quote != rnd.quote
        published += 1
    if moved:
        _announce(newest)
    return published


# --- backtests (the engine is core.simulation.backtest, free of Django) ------------------------------------

BACKTEST_STALE_SECONDS = 600  # a backtest "running" this long lost its worker: a redelivery may take it over


def _backtest_bars(asset: Asset):
    from core.clock import MarketClock
    from core.haircut import calibrated as haircut
    from core.simulation import backtest

    path = haircut.PRICES_DIR / f"{asset.underlying}.csv"
    if not asset.underlying or not path.exists():
        raise Unprocessable(f"No price history ships for {asset.symbol} (underlying {asset.underlying or 'none'}); "
                            f"backtests cover {', '.join(sorted(p.stem for p in haircut.PRICES_DIR.glob('*.csv')))}.",
                            code="no_price_history", field="asset")
    return backtest.load_bars(path, MarketClock.get("XNYS").gap_kind)


BACKTEST_PARAMETERS = ("ltv_bps", "liquidation_threshold_bps", "liquidation_bonus_bps")


def backtest_parameters(*, asset: Asset, overrides: dict | None = None):
    """The reserve's risk parameters, with what-if overrides validated as PoolConfigurator would."""
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
    return backtest.Parameters(cfg["ltv_bps"], cfg["liquidation_threshold_bps"], cfg["liquidation_bonus_bps"],
                               cfg["liquidation_protocol_fee_bps"])


def backtest_validate(*, asset: Asset, start, end, policies: list[str], overrides: dict | None = None):
    """Everything a backtest needs, checked before it is queued: (bars, sessions in range, risk parameters).
    The checks themselves are the engine's; this maps its refusals to the API's errors."""
    from core.simulation import backtest

    parameters = backtest_parameters(asset=asset, overrides=overrides)
    try:
        backtest.check_policies(policies)
        bars = _backtest_bars(asset)
        sessions = backtest.check_range(bars, start=start, end=end, policies=policies)
        backtest.check_policies(policies, ticker=bars.ticker)
    except backtest.BacktestError as exc:
        message = str(exc)
        message = message[0].upper() + message[1:] + ("" if message.endswith(".") else ".")
        raise (Unprocessable if exc.refused else DomainError)(message, code=exc.code, field=exc.field) from None
    return bars, sessions, parameters


def backtest_compute(*, asset: Asset, start, end, policies: list[str], overrides: dict | None = None,
                     progress=None) -> dict:
    """Run the named policies on the asset's history with its reserve's parameters (or what-if overrides)
    and its haircut policy's coverage."""
    from core.clock import MarketClock
    from core.haircut import calibrated as haircut
    from core.simulation import backtest

    bars, sessions, parameters = backtest_validate(asset=asset, start=start, end=end, policies=policies,
                                                   overrides=overrides)
    policy = HaircutPolicy.objects.filter(asset=asset).first()
    coverage = float(policy.coverage) if policy else 0.99
    k_table = fixed_bps = None
    if {"calibrated", "pause_when_closed"} & set(policies):  # k fitted on every ticker, before `start` only
        rows = [c for c in haircut.load_closures(haircut.PRICES_DIR, MarketClock.get("XNYS").gap_kind)
                if c.date < start]
        k_table = haircut.fit_k(rows, coverage)
    if "fixed" in policies:
        fixed_bps = (policy.fixed_bps if policy and policy.fixed_bps
                     else backtest.fixed_table(bars, start, coverage))
    out, done = {}, 0
    for p in backtest.build_policies(policies, ticker=bars.ticker, parameters=parameters, k_table=k_table,
                                     fixed_bps=fixed_bps):
        result = backtest.run(bars, p, start=start, end=end,
                              progress=(lambda n, base=done: progress(base + n)) if progress else None)
        out[p.name] = result.as_dict()
        done += sessions
    least = min(out, key=lambda name: (float(out[name]["bad_debt_usd"]), out[name]["unnecessary_liquidations"]))
    return {"asset": asset.symbol, "ticker": bars.ticker, "from": start.isoformat(), "to": end.isoformat(),
            "sessions": sessions, "coverage": coverage, "k": k_table, "fixed_bps": fixed_bps,
            "borrowers": len(backtest.DEFAULT_SHARES_BPS), "deposit_usd": backtest.DEPOSIT_USD,
            "parameters": {"ltv_bps": parameters.ltv_bps,
                           "liquidation_threshold_bps": parameters.liquidation_threshold_bps,
                           "liquidation_bonus_bps": parameters.liquidation_bonus_bps,
                           "liquidation_protocol_fee_bps": parameters.protocol_fee_bps},
            "least_bad_debt": least, "policies": out}


@transaction.atomic
def backtest_create(*, asset: Asset, start, end, policies: list[str], overrides: dict | None = None, actor=None):
    """Queue a backtest (validated now, run by a worker on the simulations queue once this commits)."""
    from .models import Backtest

    policies = list(dict.fromkeys(policies))
    _, sessions, _ = backtest_validate(asset=asset, start=start, end=end, policies=policies, overrides=overrides)
    job = Backtest.objects.create(asset=asset, date_from=start, date_to=end, policies=policies,
                                  parameters=dict(overrides or {}), total=sessions * len(policies), created_by=actor)

    def failed():  # the job must not sit queued with nobody to run it
        Backtest.objects.filter(pk=job.pk).update(status=Backtest.Status.FAILED, finished_at=timezone.now(),
                                                  error="The task broker was unreachable; nothing ran.")

    enqueue_on_commit("oracles.run_backtest", args=[job.pk], queue="simulations", on_failure=failed)
    return job


def backtest_execute(*, backtest_id: int) -> bool:
    """Claim the backtest by a conditional UPDATE (healthchecks style) and run it; False if someone else has it.

    A job left "running" by a worker that died is claimable again once it is older than the task's hard limit."""
    from datetime import timedelta

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
        Backtest.objects.filter(pk=backtest_id).update(processed=n)

    try:
        result = backtest_compute(asset=job.asset, start=job.date_from, end=job.date_to, policies=job.policies,
                                  overrides=job.parameters, progress=progress)
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
    if entry.field == "source":
        feed_source_update(asset=feed.asset, source=entry.old_value, config={}, actor=actor, reason=note)
    else:
        feed_source_update(asset=feed.asset, source=feed.source, config={}, actor=actor, reason=note,
                           heartbeat_seconds=entry.old_value)
