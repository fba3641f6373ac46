"""The one oracle read the engine uses everywhere."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from common import readcache
from common.prepared import prepared
from markets.models import Asset

from .models import HaircutPolicy, OracleFeed, OracleRound

PRICES = "prices"  # common.readcache's namespace of every read here (oracles.receivers bumps it)
DEPEG_BPS = 200  # token vs reference gap that counts as a depeg
BPS = 10_000


@dataclass(frozen=True)
class OracleRead:
    symbol: str
    reference_price: int  # 8 decimals
    token_price: int  # the token's own price; its last trade while it has no market (24/5 at weekends)
    haircut_bps: int
    session: str
    is_open: bool
    closure_kind: str | None
    price_age_seconds: int
    flags: tuple[str, ...]
    round_pk: int | None
    round_id: int | None
    updated_at: datetime | None
    source: str
    liquidations_paused: bool = False
    grace_until: datetime | None = None
    apply_to_liquidation_threshold: bool = False
    profile: str = ""  # the asset's issuer profile (core.profiles)
    band_low: int | None = None  # the profile's price band (Aster, Trade.xyz), None where it has none
    band_high: int | None = None
    resells: str = ""  # a CEX wallet's resold profile: its rule prices the token (core.profiles.rule_profile)
    token_market_open: bool = True  # False while the token has no market of its own: its last price is not used

    @property
    def live_token_price(self) -> int | None:
        """The token's price where it trades now; None while its market is shut (a 24/5 token at weekends)."""
        return self.token_price if self.token_market_open else None

    @property
    def rule(self) -> str:
        """The profile whose closed-market rule applies (a CEX wallet: the one it resells)."""
        from core import profiles

        return profiles.rule_profile(self.profile, self.resells)

    @property
    def effective_price(self) -> int:
        """Lower band: price x (1 - haircut), floor; for an own-market profile while closed, no more than the
        token's own price (core.profiles.effective_price); without a token market, the haircut reference."""
        from core import profiles

        if self.rule in profiles.PROFILES:
            return profiles.effective_price(self.rule, reference=self.reference_price, token=self.live_token_price,
                                            haircut_bps=self.haircut_bps, closed=not self.is_open)
        return self.reference_price * (BPS - self.haircut_bps) // BPS

    @property
    def upper_price(self) -> int:
        """Upper band, for a stock token that is borrowed: price x (1 + haircut), ceil."""
        return -(-self.reference_price * (BPS + self.haircut_bps) // BPS)

    @property
    def debt_price(self) -> int:
        """The price of a borrowed asset: the upper band, so a closed-market haircut makes stock debt dearer. A
        stablecoin is at par: its reads never carry a haircut."""
        return self.upper_price

    @property
    def ltv_price(self) -> int:
        return self.effective_price

    @property
    def lt_price(self) -> int:
        return self.effective_price if self.apply_to_liquidation_threshold else self.reference_price

    @property
    def seize_price(self) -> int:
        """The price at which a liquidation turns debt repaid into collateral seized: the reference price, never
        the haircut one (a haircut decides whether and how much debt, not how many tokens; DESIGN.md s2). Where
        the profile has its own market (core.profiles: StableStock's pool, Aster, Trade.xyz, Ventuals) and the
        stock market is shut, the token's own price: that is what the seized tokens sell for."""
        from core import profiles

        profile = profiles.PROFILES.get(self.rule)
        if profile is not None and profile.own_market and not self.is_open and self.live_token_price:
            return self.live_token_price
        return self.reference_price

    @property
    def blocks_borrowing(self) -> str | None:
        for flag in ("stale", "depeg", "unknown", "halted"):
            if flag in self.flags:
                return flag
        return None


def _clock_state(calendar: str, at: datetime):
    from core.clock import MarketClock

    return MarketClock.get(calendar).state(at)


def policy_haircut_bps(policy: HaircutPolicy, asset: Asset, closure_kind: str | None) -> int:
    """Haircut under the asset's policy for a closure kind (0 while the market is open)."""
    if closure_kind is None or policy.mode == HaircutPolicy.Mode.NONE:
        return 0
    if policy.mode == HaircutPolicy.Mode.FIXED:
        return int(policy.fixed_bps.get(closure_kind, 0))
    from core.haircut import calibrated as haircut

    return haircut.policy_bps_calibrated(ticker=asset.underlying, closure_kind=closure_kind,
                                         coverage=float(policy.coverage),
                                         fallback_sigma=asset.volatility_bps / 10_000)


def policy_haircut_table(policy: HaircutPolicy, asset: Asset) -> dict[str, int]:
    from core.clock import CLOSURE_KINDS

    return {kind: policy_haircut_bps(policy, asset, kind) for kind in CLOSURE_KINDS}


def asset_haircut_table(asset: Asset) -> dict[str, int]:
    """The asset's haircut per closure kind; empty while it has no policy yet (half-configured)."""
    policy = HaircutPolicy.objects.filter(asset=asset).first()
    return policy_haircut_table(policy, asset) if policy is not None else {}


def oracle_read(asset: Asset, *, at: datetime | None = None) -> OracleRead:
    feeds, policies = _feeds_and_policies([asset.pk])
    return _read(asset, feeds.get(asset.pk), policies.get(asset.pk), at or timezone.now())


def _read(asset: Asset, feed: OracleFeed | None, policy: HaircutPolicy | None, at: datetime) -> OracleRead:
    rnd = feed.latest_round if feed is not None else None
    state = _clock_state(asset.calendar, at)
    # A half-configured asset (no feed, no policy or no round yet, e.g. added in the Django admin) has no
    # price: "unknown", which blocks borrowing and is skipped by readers, never an error.
    if rnd is None or policy is None:
        return OracleRead(asset.symbol, 0, 0, 0, state.session, state.is_open, state.closure_kind, 0, ("unknown",),
                          None, None, None, feed.source if feed is not None else "none", profile=asset.issuer_profile)
    manual = feed.source == OracleFeed.Source.MANUAL
    flags: list[str] = []
    changed = feed.last_changed_at or rnd.created_at
    age = max(0, int((at - changed).total_seconds()))
    token_price = rnd.reference_price if manual else rnd.token_price
    # no token market now (a 24/5 token at weekends, whatever the source): the round's token price is Friday's
    # last trade, reported as such but never used: the effective price is the haircut reference, and no depeg
    token_market = _token_market_open(asset, state.session)
    if not manual:
        if asset.issuer_profile == Asset.IssuerProfile.JARSY:  # always closed: its own rule (core.profiles)
            from core.profiles import AssetParams, jarsy_stale

            if jarsy_stale(AssetParams(asset.symbol, "jarsy", valuation_interval_days=asset.valuation_interval_days),
                           changed, at, changed):
                flags.append("stale")
        elif state.is_open and age > feed.heartbeat_seconds:
            flags.append("stale")
        if token_market and abs(token_price - rnd.reference_price) * BPS > DEPEG_BPS * rnd.reference_price:
            flags.append("depeg")
        flags.extend(f for f in rnd.flags if f in ("outlier", "halted") and f not in flags)
    haircut = 0 if asset.kind == Asset.Kind.STABLECOIN else policy_haircut_bps(policy, asset, state.closure_kind)
    grace_until = None
    if policy.reopen_grace_seconds and state.is_open and state.last_close is not None:
        opened = _last_open(asset.calendar, at)
        if opened is not None and at < opened + timedelta(seconds=policy.reopen_grace_seconds):
            grace_until = opened + timedelta(seconds=policy.reopen_grace_seconds)
    paused = bool(policy.pause_liquidations_when_closed and not state.is_open)
    band = _band(asset, rnd.reference_price)
    if manual and policy.manual_price_liquidations == "hold":
        paused = True
    return OracleRead(
        symbol=asset.symbol,
        reference_price=rnd.reference_price,
        token_price=token_price,
        haircut_bps=haircut,
        session=state.session,
        is_open=state.is_open,
        closure_kind=state.closure_kind,
        price_age_seconds=age,
        flags=tuple(flags),
        round_pk=rnd.pk,
        round_id=rnd.round_id,
        updated_at=rnd.created_at,
        source=feed.source,
        liquidations_paused=paused,
        grace_until=grace_until,
        apply_to_liquidation_threshold=policy.apply_to_liquidation_threshold,
        profile=asset.issuer_profile,
        band_low=band[0] if band else None,
        band_high=band[1] if band else None,
        resells=asset.resells_profile,
        token_market_open=token_market,
    )


def _token_market_open(asset: Asset, session: str) -> bool:
    from core.profiles import token_market_open

    return token_market_open(asset.issuer_profile, session, venue_hours=asset.venue_hours,
                             resells=asset.resells_profile)


def shocked_read(read: OracleRead, bps: int) -> OracleRead:
    """`read` with its reference shocked by `bps`, the token and band following as the profile ties them to it
    (core.profiles.shock_quote: a depeg stays a depeg, a banded token stays in its band): the what-if's price."""
    import dataclasses

    from core.profiles import shock_quote

    band = (read.band_low, read.band_high) if read.band_low is not None and read.band_high is not None else None
    reference, token, band = shock_quote(bps, reference=read.reference_price, token=read.token_price, band=band)
    return dataclasses.replace(read, reference_price=reference, token_price=token,
                               band_low=band[0] if band else None, band_high=band[1] if band else None)


def _band(asset: Asset, reference: int) -> tuple[int, int] | None:
    """The profile's band around the reference (frozen at the last close while shut), in price units."""
    from core.profiles import AssetParams

    fraction = AssetParams(asset.symbol, asset.issuer_profile, max_leverage=asset.max_leverage,
                           band_bps=asset.band_bps, resells=asset.resells_profile).band_fraction
    if not fraction:
        return None
    return round(reference * (1 - fraction)), round(reference * (1 + fraction))


def _last_open(calendar: str, at: datetime) -> datetime | None:
    from core.clock import MarketClock

    return MarketClock.get(calendar).last_open(at)


_feeds = prepared(lambda: OracleFeed.objects.select_related("latest_round"))
_policies = prepared(lambda: HaircutPolicy.objects.all())
_feeds_in = prepared(lambda ids: OracleFeed.objects.select_related("latest_round").filter(asset_id__in=ids))
_policies_in = prepared(lambda ids: HaircutPolicy.objects.filter(asset_id__in=ids))


def _feeds_and_policies(ids=None) -> tuple[dict[int, OracleFeed], dict[int, HaircutPolicy]]:
    """Each asset's feed (with its latest round) and haircut policy by asset id; every asset's when ids is None."""
    if ids is not None and not ids:
        return {}, {}
    feeds, policies = (_feeds(), _policies()) if ids is None else (_feeds_in(ids), _policies_in(ids))
    return {f.asset_id: f for f in feeds}, {p.asset_id: p for p in policies}


def oracle_reads(assets, *, at: datetime | None = None, shared: bool = False) -> dict[str, OracleRead]:
    """Reads for many assets at one instant (now unless `at` says), in two queries. `shared` (a read outside any
    transaction, for display): the feeds and policies from this process's copy while the prices' version stands
    (common.readcache.memo; every round, feed, policy and asset write bumps it), not from the database."""
    at = at or timezone.now()
    assets = list(assets)
    if shared:
        feeds, policies = readcache.memo(PRICES, "feeds-and-policies", _feeds_and_policies)
    else:
        feeds, policies = _feeds_and_policies([a.pk for a in assets])
    return {a.symbol: _read(a, feeds.get(a.pk), policies.get(a.pk), at) for a in assets}


def prices_moved_since(round_pk: int) -> bool:
    """Whether a later round moved a price: some feed's latest round quotes otherwise than that feed's latest round
    at `round_pk` did. Every round that moves a price is followed by a scan; the heartbeat rounds of a tick that
    moved nothing are not."""
    for feed in OracleFeed.objects.select_related("latest_round").filter(latest_round_id__gt=round_pk):
        then = OracleRound.objects.filter(asset_id=feed.asset_id, pk__lte=round_pk).order_by("-pk").first()
        if then is None or then.quote != feed.latest_round.quote:
            return True
    return False


def backtest_list():
    from .models import Backtest

    return Backtest.objects.select_related("asset").order_by("-id")


def backtest_get(*, backtest_id: int):
    return backtest_list().filter(pk=backtest_id).first()


def round_history(asset: Asset, *, days: int = 30, points: int = 600) -> list[OracleRound]:
    """The asset's rounds over the last `days`, thinned evenly by round number to about `points` (a chart's worth;
    a live feed writes thousands a day), oldest first, the latest always included."""
    from django.db.models.functions import Mod

    rounds = OracleRound.objects.filter(asset=asset, created_at__gte=timezone.now() - timedelta(days=days))
    step = max(1, rounds.count() // points)
    picked = list(rounds.annotate(k=Mod("round_id", step)).filter(k=0).order_by("created_at", "id")) if step > 1 \
        else list(rounds.order_by("created_at", "id"))
    latest = OracleRound.objects.filter(asset=asset).order_by("-created_at", "-id").first()
    if latest is not None and (not picked or picked[-1].pk != latest.pk):
        picked.append(latest)
    return picked


def rounds_effective_prices(asset: Asset, rounds) -> list[int]:
    """Each round's reference price after the haircut policy in force now would have cut it at that instant
    (its closure kind), floor, as OracleRead.effective_price."""
    from core.clock import MarketClock

    policy = HaircutPolicy.objects.filter(asset=asset).first()
    if policy is None or asset.kind == Asset.Kind.STABLECOIN:
        return [r.reference_price for r in rounds]
    from core import profiles

    clock = MarketClock.get(asset.calendar)
    rule = profiles.rule_profile(asset.issuer_profile, asset.resells_profile)
    out = []
    for r in rounds:
        state = clock.state(r.created_at)
        haircut = policy_haircut_bps(policy, asset, state.closure_kind)
        if rule in profiles.PROFILES:  # own-market profiles: no more than the token while shut and trading
            token = r.token_price if _token_market_open(asset, state.session) else None
            out.append(profiles.effective_price(rule, reference=r.reference_price, token=token,
                                                haircut_bps=haircut, closed=not state.is_open))
        else:
            out.append(r.reference_price * (BPS - haircut) // BPS)
    return out


def weekend_replay(asset: Asset, *, now: datetime, seed: int = 0):
    """feed_replay of the last full weekend before `now` (Friday 12:00 to Monday 12:00 ET, hourly): what the
    asset's issuer profile does while NYSE is shut, for the asset page."""
    from zoneinfo import ZoneInfo

    from core import profiles
    from core.amounts import parse_price
    from markets.selectors import asset_profile_params

    from .services import START_PRICES

    et = ZoneInfo("America/New_York")
    day = (now.astimezone(et) - timedelta(days=3)).date()
    friday = day - timedelta(days=(day.weekday() - 4) % 7)
    start = datetime(friday.year, friday.month, friday.day, 12, tzinfo=et)
    params = asset_profile_params(asset, start_price=parse_price(START_PRICES.get(asset.underlying, "100")))
    try:
        return profiles.replay(params, start, start + timedelta(days=3), timedelta(hours=1), seed,
                               haircuts=asset_haircut_table(asset))
    except ValueError:  # outside the compiled calendar
        return []
