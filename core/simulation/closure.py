"""An own-market token through one NYSE closure, for the backtest (no Django).

Own-market profiles (core.profiles: effective == LOWER_OF, own_market=True: StableStock's pool, Aster and
Trade.xyz perps, Ventuals, and a CEX wallet reselling one of them) keep trading while NYSE is shut, and the oracle
then prices their collateral at min(haircut reference, token price) and seizes at the token price
(core.profiles.effective_price, oracles.selectors.OracleRead). Daily bars hold no token prices, so each closure
gets a simulated token path:

- a Brownian bridge in log price from the close to the next open: the own book trades through the closure and
  discovers the gap, so the path is pinned at both prints and wanders between them;
- its volatility is the profile's closed-market one from core.profiles: StableStock's pool moves by
  2 x flow / depth with flows of sd STABLESTOCK_FLOW_USD per sqrt(hour); Aster and Trade.xyz books move at
  XSTOCKS_CLOSED_VOL x the ticker's daily sigma; others (Ventuals) at the ticker's daily sigma. All are per
  sqrt(calendar day), so a weekend's path wanders more than a night's;
- band profiles (Trade.xyz: +/- 1/max_leverage; Aster: +/- band_bps) are clamped to the last close +/- band, as
  core.profiles.advance clamps the live token;
- one point per hour of the closure, taken as 16:00 ET to 09:30 ET on the bars' dates (early closes and the
  DST hour are ignored: a bar file carries dates only).

Only the closure's lowest point reaches the backtest (the moment an own-market oracle is lowest); it leaves here
as an integer price with 8 decimals, rounded down (floor: the liquidator never sells above what the path
reached), then raised to the band's lower edge (rounded up) so float noise cannot push it through the band.
Floats stay inside the path generation; the money math downstream is integer.

Seeding: each closure draws from numpy's generator seeded with (seed, the closing session's date ordinal), so
a closure's path depends on the seed and its date only: every policy of a run, and runs over different date
ranges, see the same token on the same night.
"""
from __future__ import annotations

import math
from datetime import date

import numpy as np

from core import profiles
from core.profiles import AssetParams

PRICE_UNIT = profiles.PRICE_UNIT
BPS = profiles.BPS
CLOSED_HOURS_OVERNIGHT = 17.5  # 16:00 ET to 09:30 ET the next day
DEFAULT_POOL_DEPTH_USD = 1_000_000  # as core.profiles.init_state when an asset names no depth


def own_market(p: AssetParams | None) -> bool:
    """Whether the profile's closed-market rule is the lower of the haircut reference and its own market."""
    return p is not None and p.behaviour in profiles.PROFILES and \
        profiles.PROFILES[p.behaviour].effective == profiles.LOWER_OF


def band_bps(p: AssetParams) -> int | None:
    """The band's half-width in bps (None: no band): core.profiles.AssetParams.band_width_bps."""
    return p.band_width_bps


def band_low(close: int, bps: int) -> int:
    """close x (1 - band), rounded up: the lowest price the band lets the token print."""
    return -(-close * (BPS - bps) // BPS)


def closed_vol_per_day(p: AssetParams, sigma_daily: float) -> float:
    """The token's log-volatility per sqrt(calendar day) while NYSE is shut, from core.profiles' parameters."""
    rule = p.behaviour
    if rule == profiles.STABLESTOCK:  # constant product: price impact 2 x flow / depth, flow sd per sqrt(hour)
        depth = p.depth_usd or DEFAULT_POOL_DEPTH_USD
        return 2 * profiles.STABLESTOCK_FLOW_USD / depth * math.sqrt(24)
    if rule in (profiles.ASTER, profiles.TRADE_XYZ):
        return sigma_daily * profiles.XSTOCKS_CLOSED_VOL
    return sigma_daily  # no closed-market volatility of its own: the ticker's


def closure_hours(closed_on: date, opens_on: date) -> float:
    """Hours from the close on `closed_on` (16:00 ET) to the open on `opens_on` (09:30 ET)."""
    return CLOSED_HOURS_OVERNIGHT + 24 * ((opens_on - closed_on).days - 1)


def has_token_market(p: AssetParams, kind: str | None) -> bool:
    """Whether the token trades through a closure of this kind: a 24/5 token (or venue) has no market at
    weekends and on holidays (core.profiles.token_market_open), only on weekday nights."""
    return kind == "overnight" or profiles.token_market_open(p.profile, "closed", venue_hours=p.venue_hours,
                                                             resells=p.resells)


def rng_for(seed: int, closed_on: date) -> np.random.Generator:
    return np.random.default_rng([seed, closed_on.toordinal()])


def token_path(p: AssetParams, *, close: int, next_open: int, hours: float, sigma_daily: float,
               rng: np.random.Generator) -> np.ndarray:
    """The token's prices (floats, USD) at each hour strictly inside the closure: a Brownian bridge in log price
    pinned at the close and the next open, clamped to the band."""
    n = max(2, math.ceil(hours))
    dt_days = hours / n / 24
    vol = closed_vol_per_day(p, sigma_daily if math.isfinite(sigma_daily) and sigma_daily > 0 else p.sigma_daily)
    walk = np.cumsum(rng.standard_normal(n) * vol * math.sqrt(dt_days))  # W_1 .. W_n
    frac = np.arange(1, n + 1) / n
    bridge = walk - frac * walk[-1] + frac * math.log(next_open / close)  # B_0 = 0, B_n = log(open / close)
    c = close / PRICE_UNIT
    path = c * np.exp(bridge[:-1])  # the hours inside the closure; the open itself is the next session's
    width = band_bps(p)
    if width is not None:
        path = np.clip(path, c * (BPS - width) / BPS, c * (BPS + width) / BPS)
    return path


def token_low(p: AssetParams, *, close: int, next_open: int, closed_on: date, opens_on: date, sigma_daily: float,
              seed: int) -> int:
    """The closure's lowest token price, 8 decimals, rounded down, never under the band's lower edge."""
    path = token_path(p, close=close, next_open=next_open, hours=closure_hours(closed_on, opens_on),
                      sigma_daily=sigma_daily, rng=rng_for(seed, closed_on))
    low = max(1, math.floor(float(path.min()) * PRICE_UNIT))
    width = band_bps(p)
    return max(low, band_low(close, width)) if width is not None else low


def describe(p: AssetParams | None) -> dict:
    """What a backtest report says of the asset's profile and how the backtest models it."""
    if p is None:
        return {"name": None, "rule": None, "own_market": False, "band_bps": None, "closed_market": "haircut only"}
    own = own_market(p)
    return {
        "name": p.profile, "rule": p.behaviour, "own_market": own, "band_bps": band_bps(p) if own else None,
        "closed_market": ("token low on a seeded Brownian bridge from the close to the next open: oracle = lower "
                          "of the haircut reference and that low, seizure at the token's price"
                          if own else "haircut reference only (the profile's token price is not modelled)")}
