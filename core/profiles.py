"""Issuer and venue profiles: how each tokenized-stock system's price behaves while NYSE is shut (no Django).

One Profile per system the product is about (issue #12), each declaring from public facts its hours, what its
token does while the stock market is closed, what the oracle reports, when minting works, how it can be pushed
around, and which closed-market rule suits it. `advance` moves one asset's simulated state by one step; the live
simulated feed (oracles.services.feeds_tick) and `replay` (manage.py feed_replay) both use it, so what the replay
shows is what the feed does.

State is floats (a simulation, DESIGN.md: floats only in simulations); prices leave this module as integers with
8 decimals. Every random draw comes from the caller's `random.Random`, so a seed fixes the path.

Reference vs token: `reference` is what the oracle's reference reports for one token (the stock's price x the
token's shares per token, i.e. Ondo's multiplier); `token` is the token's own market price, or None while the
token has no market (Robinhood and 24/5 CEX wallets at weekends).
"""
from __future__ import annotations

import csv
import functools
import math
import pathlib
import random
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.clock import ALWAYS_CLOSED, MarketClock

PRICE_UNIT = 10**8
BPS = 10_000
DEPEG_BPS = 200  # token vs reference gap that counts as a depeg (as oracles.selectors)
REGULAR_SECONDS = 6.5 * 3600
ET = ZoneInfo("America/New_York")
DATA_DIR = pathlib.Path(__file__).resolve().parent / "data"
ACTIONS_DIR = DATA_DIR / "corporate_actions"
MAX_STEPS = 5_000  # a replay's cap: 5,000 hourly steps is ~7 months

STABLECOIN, XSTOCKS, ONDO, ROBINHOOD, STABLESTOCK = (
    "stablecoin", "xstocks", "ondo_global_markets", "robinhood", "stablestock")
ASTER, TRADE_XYZ, VENTUALS, JARSY, CEX = "aster_perp", "trade_xyz", "ventuals", "jarsy", "cex_wallet"
NAMES = (STABLECOIN, XSTOCKS, ONDO, ROBINHOOD, STABLESTOCK, ASTER, TRADE_XYZ, VENTUALS, JARSY, CEX)

# Effective-price rules (what a closure does to the collateral value), one per profile below.
REFERENCE = "reference"  # reference x (1 - haircut)
LOWER_OF = "lower_of"  # while closed: min(reference x (1 - haircut), token's own market price)


@dataclass(frozen=True)
class Profile:
    name: str
    label: str
    token_hours: str  # "24/7" | "24/5" | "none": when the token itself trades
    mint_window: str  # when the issuer mints and redeems (the faucet ignores it: a simulator convenience)
    closed_moves: str  # what the token does while NYSE is shut
    oracle: str  # what the oracle reports
    manipulation: str  # depeg and manipulation behaviour
    closed_rule: str  # the closed-market policy that suits it (one line, shown in the UI)
    effective: str = REFERENCE
    own_market: bool = False  # a liquidation's seized tokens are counted at the token's own price while closed
    band: bool = False
    policy: str = "calibrated"  # the haircut policy mode the default universe gives it


PROFILES: dict[str, Profile] = {p.name: p for p in (
    Profile(STABLECOIN, "Stablecoin", "24/7", "any time",
            "nothing: $1", "a manual $1 (no haircut)", "a depeg is an admin price", "none: priced at $1",
            policy="none"),
    Profile(XSTOCKS, "xStocks (Backed)", "24/7", "NYSE regular hours (Backed mints/redeems 1:1 only then)",
            "drifts with crypto sentiment (no arbitrage pulls it back) and can depeg; the open snaps it back",
            "reference frozen at the close; the token's own 24/7 price beside it",
            "a thin DEX pool can be pushed cheaply at weekends: the depeg flag blocks borrowing, the price "
            "used stays the haircut reference so a pushed token cannot trigger liquidations",
            "calibrated haircut on the frozen reference; depeg blocks borrowing"),
    Profile(ONDO, "Ondo Global Markets", "24/7", "24/5 (Sunday 20:00 to Friday 20:00 ET); paused while a "
            "corporate action is staged",
            "tracks underlying x multiplier; weekday nights the 24/5 mint keeps it close, weekends it drifts",
            "reference = underlying x multiplier; the multiplier grows at each ex-dividend date and splits are "
            "staged 24 h ahead (Chainlink v10 tokenized-equity report: currentMultiplier, newMultiplier, "
            "activationDateTime) and take effect over the closure",
            "an ex-dividend or split never moves the token: a feed that forgets the multiplier would liquidate "
            "people on a dividend",
            "calibrated haircut on underlying x multiplier"),
    Profile(ROBINHOOD, "Robinhood stock tokens", "24/5", "24/5, with the broker's ledger",
            "the overnight session (Sunday 20:00 to Friday 20:00 ET) gives a real, thinner price; no trading "
            "at weekends or on holidays",
            "reference frozen at the regular close; token = the overnight-session price on weekday nights, none "
            "at weekends",
            "overnight books are thin but a real venue: pushing them costs what a lit ATS book costs",
            "calibrated haircut on the reference; no token price at weekends"),
    Profile(STABLESTOCK, "StableStock", "24/7", "NYSE regular hours",
            "the price is the on-chain pool's while closed: random flows move it by what the pool depth says",
            "reference frozen at the close; token = the pool price",
            "pushing the pool 5% costs depth x (sqrt(1.05) - 1) of capital (constant product); no band",
            "lower of the pool price and the haircut reference while closed",
            effective=LOWER_OF, own_market=True),
    Profile(ASTER, "Aster stock perps", "24/7", "none (a perpetual, no mint)",
            "own book, kept near the last close by funding and held inside an off-hours band",
            "reference frozen at the close; token = the perp's mark; band = last close +/- band_bps",
            "a thin Sunday book is cheap to push, but only up to the band's edge",
            "lower of the mark and the haircut reference while closed (band-bounded)",
            effective=LOWER_OF, own_market=True, band=True),
    Profile(TRADE_XYZ, "Trade.xyz (HIP-3)", "24/7", "none (a perpetual, no mint)",
            "own book only, inside +/- 1/max_leverage of the last reference (10x -> +/-10%)",
            "reference frozen at the close; token = the book's price; band = last reference +/- 1/max_leverage",
            "the band caps any push at 1/max_leverage; inside it a thin book moves cheaply",
            "lower of the book price and the haircut reference while closed (band-bounded)",
            effective=LOWER_OF, own_market=True, band=True),
    Profile(VENTUALS, "Ventuals (HIP-3 pre-IPO)", "24/7", "none (a perpetual on a private company)",
            "no stock market at all: a rare valuation plus its own 24/7 trades",
            "reference = blend of a valuation oracle (rare updates) and the 1-hour moving average of its trades",
            "the 1-hour average damps a push: a 5% move must be held for an hour to move the oracle by "
            "(1 - blend) x 5%",
            "lower of the trade price and the wide 'unplanned' haircut on the blended oracle",
            effective=LOWER_OF, own_market=True),
    Profile(JARSY, "Jarsy (pre-IPO, 1:1)", "none", "on the platform, at the valuation",
            "nothing: the valuation changes only on funding rounds and other valuation events",
            "reference = token = the last valuation; always closed",
            "no market to push; the risk is a stale or wrong valuation",
            "own staleness (valuation older than twice its interval) and the wide 'unplanned' haircut"),
    Profile(CEX, "CEX wallet", "per venue", "the resold profile's",
            "the resold profile's price, traded in the venue's own hours (24/7, or 24/5 for Bybit's contracts)",
            "the resold profile's reference and band; token = the venue's price while it trades",
            "as the resold profile; the venue's book is deeper than on-chain pools",
            "the resold profile's rule"),
)}


@dataclass(frozen=True)
class AssetParams:
    """One asset's profile parameters (markets.Asset's fields, plain)."""

    symbol: str
    profile: str
    underlying: str = ""
    calendar: str = "XNYS"
    start_price: int = 100 * PRICE_UNIT  # the underlying's price (before any multiplier), 8 decimals
    sigma_daily: float = 0.02
    multiplier_bps: int = BPS  # Ondo: shares per token at the start
    max_leverage: int = 0  # Trade.xyz: band = 1/max_leverage
    band_bps: int = 0  # Aster: the off-hours band (0 on Trade.xyz: derived from max_leverage)
    depth_usd: int = 0  # StableStock: the pool's USD reserve; own books: USD resting within 1% on a Sunday
    valuation_interval_days: int = 0  # Jarsy/Ventuals: mean days between valuation events
    blend_bps: int = 5_000  # Ventuals: the valuation's weight in the oracle (the rest: 1-hour trade average)
    resells: str = ""  # CEX wallet: the profile it resells
    venue_hours: str = "24/7"  # CEX wallet: "24/7" or "24/5"

    @property
    def band_ratio(self) -> tuple[int, int] | None:
        """The band's half-width as an exact ratio of the reference (numerator, denominator): Trade.xyz's
        1/max_leverage, Aster's band_bps/10,000, a CEX wallet's from the profile it resells; None without one."""
        if self.behaviour == TRADE_XYZ and self.max_leverage:
            return 1, self.max_leverage
        if self.behaviour == ASTER and self.band_bps:
            return self.band_bps, BPS
        return None

    @property
    def band_fraction(self) -> float | None:
        ratio = self.band_ratio
        return ratio[0] / ratio[1] if ratio else None

    @property
    def band_width_bps(self) -> int | None:
        """The band's half-width in whole bps, rounded down (never wider than the venue's), for integer prices."""
        ratio = self.band_ratio
        return ratio[0] * BPS // ratio[1] if ratio else None

    @property
    def behaviour(self) -> str:
        """The profile whose price process runs (a CEX wallet runs the one it resells)."""
        return rule_profile(self.profile, self.resells)


def profile_of(name: str) -> Profile:
    return PROFILES[name]


def rule_profile(profile: str, resells: str = "") -> str:
    """The profile whose price process and closed-market rule apply: a CEX wallet is an aggregator that resells
    another profile (issue #12), so its effective and seizure prices follow that one; any other, its own."""
    return resells if profile == CEX and resells in PROFILES and resells != CEX else profile


def token_market_open(profile: str, session: str, *, venue_hours: str = "", resells: str = "") -> bool:
    """Whether the token has a market of its own in this clock session. A 24/5 token (Robinhood; a CEX venue
    trading 24/5, or one reselling a 24/5 token) has none from Friday 20:00 to Sunday 20:00 ET nor on holidays
    (the "closed" session): then there is no token price, and the effective price is the haircut reference."""
    if profile not in PROFILES:
        return True
    hours = {PROFILES[profile].token_hours}
    if profile == CEX:
        hours |= {venue_hours or "24/7", PROFILES[rule_profile(profile, resells)].token_hours}
    return not ("24/5" in hours and session == "closed")


# --- corporate actions (Ondo's multiplier) ----------------------------------------------------------------

@dataclass(frozen=True)
class CorporateAction:
    ex_date: date
    kind: str  # "dividend" | "split"
    factor: float  # what the stock's price is multiplied by at the ex-date open (1 - yield, 1/ratio)


def _closes(ticker: str) -> dict[date, float]:
    from core.prices import PRICES_DIR, daily_rows

    path = PRICES_DIR / f"{ticker}.csv"
    if not path.exists():
        return {}
    return {d: float(c) for d, _, _, c in daily_rows(path) if float(c) > 0}


@functools.cache
def _history(ticker: str) -> tuple[CorporateAction, ...]:
    """Shipped dividends (as yields on the previous close) and Lean split factors of one ticker."""
    out: list[CorporateAction] = []
    divs = ACTIONS_DIR / "dividends" / f"{ticker}_dividends.csv"
    if divs.exists():
        closes = _closes(ticker)
        days = sorted(closes)
        with open(divs, newline="") as fh:
            for row in csv.DictReader(fh):
                ex, amount = date.fromisoformat(row["Date"][:10]), float(row["Dividend"])
                k = bisect_left(days, ex)  # the last close before the ex-date
                if k and amount > 0:
                    out.append(CorporateAction(ex, "dividend", 1 - amount / closes[days[k - 1]]))
    factors = ACTIONS_DIR / "factor_files" / f"{ticker.lower()}.csv"
    if factors.exists():
        rows = [r for r in csv.reader(open(factors)) if r]
        for a, b in zip(rows, rows[1:], strict=False):
            if float(a[2]) != float(b[2]):  # Lean: a row's factor holds through its date; ex-date follows it
                out.append(CorporateAction(_next_weekday(datetime.strptime(a[0], "%Y%m%d").date()), "split",
                                           float(a[2]) / float(b[2])))
    return tuple(sorted(out, key=lambda c: c.ex_date))


def _next_weekday(d: date) -> date:
    d += timedelta(days=1)
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def corporate_actions(ticker: str, start: date, end: date) -> list[CorporateAction]:
    """Actions with an ex-date in [start, end]: shipped ones, and past the data the last year's dividends
    repeated each year (same yields, same calendar dates moved to a weekday). Splits are never projected."""
    history = _history(ticker)
    if not history:
        return []
    last = max(c.ex_date for c in history)
    out = [c for c in history if start <= c.ex_date <= end]
    template = [c for c in history if c.kind == "dividend" and c.ex_date > last - timedelta(days=365)]
    year = 1
    while template and last.year + year <= end.year:
        for c in template:
            try:
                d = c.ex_date.replace(year=c.ex_date.year + year)
            except ValueError:  # 29 February
                d = c.ex_date.replace(year=c.ex_date.year + year, day=28)
            d = d if d.weekday() < 5 else _next_weekday(d)
            if start <= d <= end and d > last:
                out.append(CorporateAction(d, "dividend", c.factor))
        year += 1
    return sorted(out, key=lambda c: c.ex_date)


# --- the opening gap --------------------------------------------------------------------------------------

@functools.cache
def standardised_gaps(ticker: str) -> tuple[float, ...]:
    """Real opening gaps of `ticker` divided by the volatility known at the previous close."""
    from core.haircut import calibrated as haircut

    path = haircut.PRICES_DIR / f"{ticker}.csv"
    if not ticker or not path.exists():
        return ()
    rows = haircut.closures(ticker, *haircut.read_bars(path), MarketClock.get("XNYS").gap_kind)
    return tuple(c.gap / c.sigma for c in rows)


def _gbm(price: float, sigma_daily: float, seconds: float, rng: random.Random, per: float = REGULAR_SECONDS) -> float:
    if seconds <= 0 or sigma_daily <= 0:
        return price
    var = sigma_daily**2 * seconds / per
    return price * math.exp(-0.5 * var + math.sqrt(var) * rng.gauss(0.0, 1.0))


def _open_gap(ticker: str, sigma: float, rng: random.Random, share: float = 1.0) -> float:
    gaps = standardised_gaps(ticker)
    z = rng.choice(gaps) if gaps else rng.gauss(0.0, 1.0)
    return max(0.05, 1 + z * sigma * share)


# --- one step ---------------------------------------------------------------------------------------------

XSTOCKS_CLOSED_VOL = 0.5  # token vol while shut, relative to the stock's daily vol (crypto sentiment)
XSTOCKS_SENTIMENT = 0.01  # sd of a closure's drift per hour, in daily sigmas (~2% over a weekend at 1 sd)
XSTOCKS_PULL = 0.01  # per hour: no mint/redeem arbitrage while shut, only traders' memory of the close
ONDO_PULL_24_5, ONDO_PULL_WEEKEND = 0.5, 0.05  # per hour: 24/5 minting keeps it close on weekday nights
ROBINHOOD_EXT_VOL = 0.6  # extended-hours vol share: the overnight session discovers part of the gap
ROBINHOOD_RESIDUAL = 0.5  # the gap left at the open after an overnight session, in gap units
OPEN_NOISE_BPS = 5  # token vs reference while arbitrage works
STABLESTOCK_FLOW_USD = 1_000  # sd of net pool flow per hour while shut (impact ~ 2 x flow / depth)
STABLESTOCK_PULL = 0.05  # per hour: market makers lean on the last close
FUNDING_PULL = 1 / 8  # per hour: an 8-hour funding cycle closes the premium
HIP3_PULL = 0.02
VENTUALS_TRADE_SECONDS = 300  # at most one own-book trade every 5 minutes in a step
VALUATION_JUMP_SD = 0.15


def init_state(p: AssetParams, *, reference: int | None = None, token: int | None = None) -> dict:
    """A fresh state, at the profile's start price or at a given reference (the live feed's last round)."""
    mult = p.multiplier_bps / BPS if p.behaviour == ONDO else 1.0
    ref = (reference / PRICE_UNIT) if reference else p.start_price / PRICE_UNIT * mult
    tok = token / PRICE_UNIT if token else ref
    st = {"u": ref / mult, "mult": mult, "ref": ref, "token": tok, "last_ref": ref, "was_open": None,
          "drift": 0.0, "ext": ref / mult, "done": [], "val": ref, "trades": [], "changed": None}
    if p.behaviour == STABLESTOCK:
        depth = float(p.depth_usd or 1_000_000)
        st["pool"] = [depth, depth / tok]
    return st


def _pull(token: float, target: float, per_hour: float, hours: float) -> float:
    return target * math.exp(math.log(token / target) * math.exp(-per_hour * hours))


def advance(p: AssetParams, st: dict, *, at: datetime, seconds: float, rng: random.Random, shock_bps: int = 0,
            actions: list[CorporateAction] | tuple = ()) -> dict:
    """Move the state to `at`, `seconds` after the previous step; returns the new state (st is not modified).

    st["ref"] is the reference, st["token"] the token's price (None while it has no market), st["band"] the
    band (low, high) or None."""
    st = {**st, "trades": list(st.get("trades", [])), "done": list(st.get("done", []))}
    kind = p.behaviour
    clock = MarketClock.get(p.calendar)
    cs = clock.state(at)
    hours = max(seconds, 0.0) / 3600
    was_open = cs.is_open if st["was_open"] is None else st["was_open"]
    opened = cs.is_open and not was_open
    sigma = p.sigma_daily
    before = st["ref"]

    if kind == STABLECOIN:
        st["ref"] = st["token"] = 1.0
    elif kind in (JARSY, VENTUALS):
        _valuation_events(p, st, hours, rng)
        if kind == JARSY:
            st["ref"] = st["token"] = st["val"]
        else:
            _ventuals(p, st, at, seconds, sigma, rng)
    else:
        _stock(p, st, kind, cs, at, seconds, hours, opened, sigma, rng, shock_bps, actions, clock)

    band = p.band_fraction
    st["band"] = [st["ref"] * (1 - band), st["ref"] * (1 + band)] if band else None
    if band and st["token"] is not None:
        st["token"] = min(max(st["token"], st["band"][0]), st["band"][1])
    if st["token"] is not None and not token_market_open(p.profile, cs.session, venue_hours=p.venue_hours,
                                                         resells=p.resells):
        st["token"] = None
    if round(st["ref"] * PRICE_UNIT) != round(before * PRICE_UNIT):
        st["changed"] = at.isoformat()
    st["was_open"] = cs.is_open
    return st


def _valuation_events(p: AssetParams, st: dict, hours: float, rng: random.Random) -> None:
    """Rare valuation updates (funding rounds, tender offers): Poisson, a lognormal jump each."""
    interval = max(p.valuation_interval_days or 90, 1)
    if rng.random() < 1 - math.exp(-hours / (24 * interval)):
        st["val"] = st["val"] * math.exp(rng.gauss(0.03, VALUATION_JUMP_SD))
        st["events"] = st.get("events", 0) + 1


def _ventuals(p: AssetParams, st: dict, at: datetime, seconds: float, sigma: float, rng: random.Random) -> None:
    """Own 24/7 trades around the oracle (funding pulls the mark to it), one every 5 minutes at most; oracle =
    blend of the valuation and the average of the trades of the last hour ([epoch, price] pairs kept)."""
    now = at.timestamp()
    trades, price = [t for t in st["trades"] if t[0] > now - 3600], st["token"]
    if seconds > 3600:  # only the last hour's trades enter the average: walk the rest in one step
        price = _pull(_gbm(price, sigma, seconds - 3600, rng, per=86_400), st["ref"], FUNDING_PULL,
                      (seconds - 3600) / 3600)
    n = max(1, min(int(seconds // VENTUALS_TRADE_SECONDS), 12))
    dt = min(seconds, 3600) / n if seconds > 0 else 0.0
    for k in range(n):
        price = _gbm(price, sigma, dt, rng, per=86_400)
        price = _pull(price, st["ref"], FUNDING_PULL, dt / 3600)
        trades.append([now - (n - 1 - k) * dt, price])
    st["trades"] = trades[-120:]
    st["token"] = price
    w = p.blend_bps / BPS
    st["ma"] = sum(t[1] for t in st["trades"]) / len(st["trades"])
    st["ref"] = w * st["val"] + (1 - w) * st["ma"]


def _stock(p, st, kind, cs, at, seconds, hours, opened, sigma, rng, shock_bps, actions, clock) -> None:
    u = st["u"]
    if opened:
        if kind == ROBINHOOD:  # the overnight session already found most of the gap
            u = st["ext"] * _open_gap(p.underlying, sigma, rng, ROBINHOOD_RESIDUAL)
        else:
            u = u * _open_gap(p.underlying, sigma, rng)
        u = u * (BPS + shock_bps) / BPS
        if kind == ONDO:
            for action in actions:
                key = action.ex_date.isoformat() + action.kind
                if action.ex_date <= at.astimezone(ET).date() and key not in st["done"]:
                    u *= action.factor  # the stock goes ex; the multiplier takes it up, the token does not move
                    st["mult"] /= action.factor
                    st["done"].append(key)
            st["done"] = st["done"][-20:]
        since_open = (at - clock.last_open(at)).total_seconds()
        seconds = min(seconds, since_open)
    if cs.is_open:
        u = _gbm(u, sigma, seconds, rng)
        st["ext"] = u
    st["u"] = u
    ref = u * st["mult"]
    st["ref"] = ref
    if cs.is_open:
        st["last_ref"] = ref
        st["drift"] = 0.0
        noise = math.exp(rng.gauss(0.0, OPEN_NOISE_BPS / BPS))
        if kind == STABLESTOCK:  # arbitrage re-centres the pool on the reference (k kept)
            k = st["pool"][0] * st["pool"][1]
            st["pool"] = [math.sqrt(k * ref), math.sqrt(k / ref)]
            st["token"] = ref
        else:
            st["token"] = ref * noise
        return
    token = st["token"] if st["token"] is not None else ref
    vol = sigma * XSTOCKS_CLOSED_VOL
    if kind == XSTOCKS:
        if st["drift"] == 0.0:  # a closure's sentiment, drawn once at its start
            st["drift"] = rng.gauss(0.0, sigma * XSTOCKS_SENTIMENT)
        token = _pull(token, ref, XSTOCKS_PULL, hours)
        token = _gbm(token, vol, seconds, rng, per=86_400) * math.exp(st["drift"] * hours)
    elif kind == ONDO:
        pull = ONDO_PULL_WEEKEND if cs.session == "closed" else ONDO_PULL_24_5
        token = _gbm(_pull(token, ref, pull, hours), vol, seconds, rng, per=86_400)
    elif kind == ROBINHOOD:
        if cs.session == "closed":
            st["token"] = None  # no 24/5 session at weekends and on holidays
            return
        st["ext"] = _gbm(st["ext"], sigma * ROBINHOOD_EXT_VOL, seconds, rng, per=86_400)
        token = st["ext"] * st["mult"] * math.exp(rng.gauss(0.0, 3 * OPEN_NOISE_BPS / BPS))
    elif kind == STABLESTOCK:
        x, y = st["pool"]
        flow = rng.gauss(0.0, STABLESTOCK_FLOW_USD * math.sqrt(max(hours, 0.0)))
        flow += x * STABLESTOCK_PULL * hours * math.log(ref / (x / y))  # market makers lean toward the close
        k = x * y
        x = max(x + flow, x * 0.05)
        st["pool"] = [x, k / x]
        token = x / (k / x)
    elif kind in (ASTER, TRADE_XYZ):
        pull = FUNDING_PULL if kind == ASTER else HIP3_PULL
        token = _gbm(_pull(token, st["last_ref"], pull, hours), vol, seconds, rng, per=86_400)
    st["token"] = token


# --- manipulation ------------------------------------------------------------------------------------------

def push_cost_usd(p: AssetParams, move: float = 0.05) -> dict:
    """Capital needed to push the token's own closed-market price by `move`, and what the band lets through.

    StableStock: constant product x*y=k; buying dx USD moves the price by ((x+dx)/x)^2, so dx = x(sqrt(1+m)-1).
    Own books (Aster, Trade.xyz, Ventuals): a linear book with depth_usd resting per 1%: cost = depth x m x 100
    (sum over the levels eaten is depth per 1% times the percentage points)."""
    band = p.band_fraction
    reachable = min(move, band) if band else move
    kind = p.behaviour
    if kind == STABLESTOCK:
        cost = (p.depth_usd or 0) * (math.sqrt(1 + reachable) - 1)
    elif kind in (ASTER, TRADE_XYZ, VENTUALS):
        cost = (p.depth_usd or 0) * reachable * 100
    else:
        return {"cost_usd": None, "reachable": None, "capped_by_band": False}
    return {"cost_usd": round(cost), "reachable": reachable, "capped_by_band": bool(band and band < move)}


# --- hours ---------------------------------------------------------------------------------------------------

def _hm(t: datetime) -> str:
    return t.astimezone(ET).strftime("%H:%M")


def hours_today(p: AssetParams, at: datetime) -> str:
    """One line: the reference market's hours on `at`'s ET date and the token's own hours."""
    prof = PROFILES[p.profile]
    if p.calendar == ALWAYS_CLOSED:
        market = "no exchange session (always closed)"
    elif p.calendar == "24/7":
        market = "24/7"
    else:
        clock = MarketClock.get(p.calendar)
        day = at.astimezone(ET).date()
        midnight = datetime(day.year, day.month, day.day, tzinfo=ET)
        try:
            opens, closes = clock.next_open(midnight), clock.next_close(midnight)
        except ValueError:
            return "outside the calendar"
        market = (f"NYSE {_hm(opens)}-{_hm(closes)} ET" if opens.astimezone(ET).date() == day
                  else "NYSE closed today")
    token = p.venue_hours if p.profile == CEX else prof.token_hours
    if token == "none":
        return f"{market}; no token market"
    token = {"24/5": "24/5 Sun 20:00-Fri 20:00 ET"}.get(token, token)
    return f"{market}; token {token}"


def rule_line(p: AssetParams, at: datetime) -> str:
    """The profile, its hours today, its closed-market rule: the one line the UI shows."""
    prof = PROFILES[p.profile]
    label = prof.label + (f" reselling {PROFILES[p.resells].label}" if p.profile == CEX and p.resells in PROFILES
                          else "")
    rule = PROFILES[p.behaviour].closed_rule if p.profile == CEX else prof.closed_rule
    return f"{label} · {hours_today(p, at)} · closed: {rule}"


# --- oracle view of a state ---------------------------------------------------------------------------------

def effective_price(profile: str, *, reference: int, token: int | None, haircut_bps: int, closed: bool) -> int:
    """The collateral price a closure leaves: the haircut reference, or the lower of it and the token's own
    market price for own-market profiles while closed (a liquidator can only sell into that market)."""
    haircut = reference * (BPS - haircut_bps) // BPS
    if PROFILES[profile].effective == LOWER_OF and closed and token:
        return min(haircut, token)
    return haircut


def is_depeg(reference: int, token: int | None) -> bool:
    return token is not None and reference > 0 and abs(token - reference) * BPS > DEPEG_BPS * reference


def shock_quote(bps: int, *, reference: int, token: int | None, band: tuple[int, int] | None = None
                ) -> tuple[int, int | None, tuple[int, int] | None]:
    """A what-if shock of `bps` on one oracle quote (reference, token, band), keeping the profile's state.

    The shock is a move of the stock as the oracle sees it: the reference. What the profile ties to the reference
    moves with it, so the shocked quote is one the profile could still report (DESIGN.md s3: reference and token
    are two prices, and the token can depeg while closed): the token keeps its premium or discount (a depegged
    xStocks token stays as far off the shocked reference; a pushed own book stays pushed); a token with no market
    at this hour (24/5 at weekends) still has none; a band re-centres on the shocked reference (it is the last
    reference +/- a fraction) and the token stays inside it. A price of 0 (no price yet) stays 0."""

    def move(x: int) -> int:
        return max(1, x * (BPS + bps) // BPS) if x > 0 else x

    reference = move(reference)
    token = None if token is None else move(token)
    if band is not None:
        band = (move(band[0]), move(band[1]))
        if token is not None:
            token = min(max(token, band[0]), band[1])
    return reference, token, band


@dataclass(frozen=True)
class Step:
    at: datetime
    session: str
    closure_kind: str | None
    reference_price: int
    token_price: int | None
    effective_price: int
    haircut_bps: int
    band_low: int | None
    band_high: int | None
    stale: bool
    depeg: bool
    extra: dict = field(default_factory=dict, compare=False)  # model internals for tests (not in the API)


def _px(value: float | None) -> int | None:
    return None if value is None else max(1, round(value * PRICE_UNIT))


def jarsy_stale(p: AssetParams, changed: datetime | None, at: datetime, start: datetime) -> bool:
    """Jarsy's own rule: stale once the valuation is older than twice its expected interval."""
    interval = timedelta(days=2 * max(p.valuation_interval_days or 90, 1))
    return at - (changed or start) > interval


def replay(p: AssetParams, start: datetime, end: datetime, step: timedelta, seed: int | None = 0, *,
           haircuts: dict[str, int] | None = None, heartbeat_seconds: int = 3600,
           actions: list[CorporateAction] | None = None) -> list[Step]:
    """What the oracle reports from the simulated source at start, start+step, ... <= end (seeded, pure).

    `haircuts` is {closure_kind: bps} under the asset's policy; `actions` defaults to the shipped corporate
    actions of the underlying (Ondo, or a CEX wallet reselling Ondo)."""
    if step <= timedelta(0):
        raise ValueError("step must be positive")
    if end < start:
        raise ValueError("--to is before --from")
    n = int((end - start) / step) + 1
    if n > MAX_STEPS:
        raise ValueError(f"{n} steps is more than {MAX_STEPS}; use a longer step or a shorter range")
    if actions is None:
        actions = (corporate_actions(p.underlying, start.date() - timedelta(days=1), end.date())
                   if p.behaviour == ONDO and p.underlying else [])
    rng = random.Random(seed)
    clock = MarketClock.get(p.calendar)
    haircuts = haircuts or {}
    st = init_state(p)
    out, prev = [], None
    for i in range(n):
        at = start + i * step
        seconds = step.total_seconds() if prev is not None else 0.0
        st = advance(p, st, at=at, seconds=seconds, rng=rng, actions=actions)
        prev = at
        cs = clock.state(at)
        ref, token = _px(st["ref"]), _px(st["token"])
        haircut = 0 if p.profile == STABLECOIN else int(haircuts.get(cs.closure_kind, 0)) if cs.closure_kind else 0
        changed = datetime.fromisoformat(st["changed"]) if st.get("changed") else start
        if p.profile == STABLECOIN:
            stale = False
        elif p.behaviour == JARSY:
            stale = jarsy_stale(p, datetime.fromisoformat(st["changed"]) if st.get("changed") else None, at, start)
        else:
            stale = cs.is_open and (at - changed).total_seconds() > heartbeat_seconds
        band = st["band"]
        out.append(Step(
            at=at, session=cs.session, closure_kind=cs.closure_kind, reference_price=ref, token_price=token,
            effective_price=effective_price(p.behaviour, reference=ref, token=token, haircut_bps=haircut,
                                            closed=not cs.is_open),
            haircut_bps=haircut, band_low=_px(band[0]) if band else None, band_high=_px(band[1]) if band else None,
            stale=stale, depeg=is_depeg(ref, token),
            extra={"underlying": st["u"], "multiplier": st["mult"], "valuation": st["val"],
                   "moving_average": st.get("ma"), "events": st.get("events", 0),
                   "pool": tuple(st["pool"]) if "pool" in st else None, "last_ref": st["last_ref"]}))
    return out


def iso_z(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
