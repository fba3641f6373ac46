"""The one oracle read the engine uses everywhere."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from markets.models import Asset

from .models import HaircutPolicy, OracleFeed, OracleRound

DEPEG_BPS = 200  # token vs reference gap that counts as a depeg
BPS = 10_000


@dataclass(frozen=True)
class OracleRead:
    symbol: str
    reference_price: int  # 8 decimals
    token_price: int
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

    @property
    def effective_price(self) -> int:
        """Lower band: price x (1 - haircut), floor."""
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
    feed = OracleFeed.objects.select_related("latest_round").filter(asset=asset).first()
    return _read(asset, feed, HaircutPolicy.objects.filter(asset=asset).first(), at or timezone.now())


def _read(asset: Asset, feed: OracleFeed | None, policy: HaircutPolicy | None, at: datetime) -> OracleRead:
    rnd = feed.latest_round if feed is not None else None
    state = _clock_state(asset.calendar, at)
    # A half-configured asset (no feed, no policy or no round yet, e.g. added in the Django admin) has no
    # price: "unknown", which blocks borrowing and is skipped by readers, never an error.
    if rnd is None or policy is None:
        return OracleRead(asset.symbol, 0, 0, 0, state.session, state.is_open, state.closure_kind, 0, ("unknown",),
                          None, None, None, feed.source if feed is not None else "none")
    manual = feed.source == OracleFeed.Source.MANUAL
    flags: list[str] = []
    changed = feed.last_changed_at or rnd.created_at
    age = max(0, int((at - changed).total_seconds()))
    token_price = rnd.reference_price if manual else rnd.token_price
    if not manual:
        if state.is_open and age > feed.heartbeat_seconds:
            flags.append("stale")
        if abs(token_price - rnd.reference_price) * BPS > DEPEG_BPS * rnd.reference_price:
            flags.append("depeg")
        flags.extend(f for f in rnd.flags if f in ("outlier", "halted") and f not in flags)
    haircut = 0 if asset.kind == Asset.Kind.STABLECOIN else policy_haircut_bps(policy, asset, state.closure_kind)
    grace_until = None
    if policy.reopen_grace_seconds and state.is_open and state.last_close is not None:
        opened = _last_open(asset.calendar, at)
        if opened is not None and at < opened + timedelta(seconds=policy.reopen_grace_seconds):
            grace_until = opened + timedelta(seconds=policy.reopen_grace_seconds)
    paused = bool(policy.pause_liquidations_when_closed and not state.is_open)
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
    )


def _last_open(calendar: str, at: datetime) -> datetime | None:
    from core.clock import MarketClock

    return MarketClock.get(calendar).last_open(at)


def oracle_reads(assets, *, at: datetime | None = None) -> dict[str, OracleRead]:
    """Reads for many assets at one instant (now unless `at` says), in two queries."""
    at = at or timezone.now()
    assets = list(assets)
    ids = [a.pk for a in assets]
    feeds = {f.asset_id: f for f in OracleFeed.objects.select_related("latest_round").filter(asset_id__in=ids)}
    policies = {p.asset_id: p for p in HaircutPolicy.objects.filter(asset_id__in=ids)}
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
