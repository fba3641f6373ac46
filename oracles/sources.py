"""Price processes for the simulated and replayed feeds (no Django, integer prices with 8 decimals).

Simulated: geometric Brownian motion in regular hours (per-asset daily volatility spread over the 6.5-hour
session); while the exchange is shut the reference price freezes but the 24/7 token keeps trading around
it (a mean-reverting walk that can depeg); at the next open the reference jumps by a gap drawn from the
real opening gaps of the underlying (shipped data), standardised by its volatility.
"""
from __future__ import annotations

import math
import random
from functools import cache

REGULAR_SECONDS = 6.5 * 3600
CLOSED_VOL_SHARE = 0.35  # token vol while shut, relative to regular-hours vol (thin books, no hedging)
REVERSION_PER_HOUR = 0.15


def gbm_step(price: int, *, sigma_daily: float, seconds: float, rng: random.Random) -> int:
    """One exact GBM step over `seconds` of regular trading (zero drift)."""
    if seconds <= 0 or sigma_daily <= 0:
        return price
    var = sigma_daily**2 * seconds / REGULAR_SECONDS
    return max(1, round(price * math.exp(-0.5 * var + math.sqrt(var) * rng.gauss(0.0, 1.0))))


def token_step(token: int, reference: int, *, sigma_daily: float, seconds: float, rng: random.Random) -> int:
    """The 24/7 token while the exchange is shut: a walk pulled back toward the frozen reference."""
    if seconds <= 0:
        return token
    hours = seconds / 3600
    pull = 1 - math.exp(-REVERSION_PER_HOUR * hours)
    log_gap = math.log(token / reference) * (1 - pull)
    var = (sigma_daily * CLOSED_VOL_SHARE) ** 2 * seconds / 86_400
    return max(1, round(reference * math.exp(log_gap + math.sqrt(var) * rng.gauss(0.0, 1.0))))


@cache
def standardised_gaps(ticker: str) -> tuple[float, ...]:
    """Real opening gaps of `ticker` divided by the volatility known at the previous close."""
    from core.clock import MarketClock
    from core.haircut import calibrated as haircut

    path = haircut.PRICES_DIR / f"{ticker}.csv"
    if not path.exists():
        return ()
    rows = haircut.closures(ticker, *haircut.read_bars(path), MarketClock.get("XNYS").gap_kind)
    return tuple(c.gap / c.sigma for c in rows)


def open_jump(reference: int, *, ticker: str, sigma_daily: float, rng: random.Random) -> int:
    """The reopening print: a real standardised gap scaled to today's volatility."""
    gaps = standardised_gaps(ticker)
    z = rng.choice(gaps) if gaps else rng.gauss(0.0, 1.0)
    return max(1, round(reference * (1 + z * sigma_daily)))


def replay_prices(ticker: str) -> list[tuple[str, int]]:
    """(label, price) in the order a replay feed publishes them: each session's open, then its close."""
    from core.prices import PRICES_DIR, bar_price, daily_rows

    out = []
    for day, raw_open, _, raw_close in daily_rows(PRICES_DIR / f"{ticker}.csv"):
        opened, closed = bar_price(raw_open), bar_price(raw_close)
        if opened > 0 and closed > 0:  # a bar without prices is not a session to replay
            out.append((f"{day.isoformat()} open", opened))
            out.append((f"{day.isoformat()} close", closed))
    return out
