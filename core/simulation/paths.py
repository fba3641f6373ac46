"""Price paths for the vectorised core (no Django): historical replay, simulated paths, and named stresses.

A path is T steps x A assets (`PricePath`):
- `reference`: what the price feed reports (the oracle's reference price; a stuck or zero feed shows here);
- `market`: the true price of the underlying per token (values bad debt and what changed hands); equal to
  `reference` unless a stress makes the feed lie;
- `token`: the token's own 24/7 market price (drifts while the stock market is shut);
- `status`: OPEN, CLOSED or UNKNOWN (market status not known: treated as closed, as an unplanned closure);
- `kind`: the closure kind (index into CLOSURE_KINDS, -1 while open), `sigma`: the daily sigma known at the last
  close (for calibrated haircuts);
- `rebase`: balances multiply by this at the step (a split: N tokens for one), else 1.

`policy_view` turns a path and a closed-market policy (the backtest's: none, kamino, fixed, calibrated,
pause_when_closed) into the keeper's prices (`vector.OracleView`).

Simulated paths: geometric Brownian motion during the regular session (hourly sigma = daily / sqrt(6.5)), the
reference frozen while the market is shut, and at each reopen a jump gap = -z x sigma with z drawn from the
empirical standardised gaps of that closure kind (`core.haircut.calibrated`'s closures; one historical closure
date is drawn for all assets at once, so the worst weekends hit every stock together, as 2020-03-16 did).
Every draw comes from the numpy Generator passed in: a seed fixes the path.
"""
from __future__ import annotations

import csv
import functools
import math
import pathlib
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

import numpy as np

from core.clock import CLOSURE_KINDS, MarketClock
from core.haircut import calibrated as haircut
from core.prices import PRICES_DIR, daily_rows

from . import vector

OPEN, CLOSED, UNKNOWN = 1, 0, 2
POLICIES = ("none", "kamino", "fixed", "calibrated", "pause_when_closed")
SESSION_HOURS = 6.5
INTRADAY_DIR = PRICES_DIR.parent / "intraday"
TOKEN_DRIFT = 0.5  # the token's hourly sigma while the stock market is shut, as a share of the in-session one
_HOUR = 3600


@dataclass(frozen=True)
class PricePath:
    symbols: tuple[str, ...]
    times: np.ndarray  # (T,) UTC epoch seconds
    reference: np.ndarray  # (T, A)
    market: np.ndarray
    token: np.ndarray
    status: np.ndarray  # int8
    kind: np.ndarray  # int8, -1 while open
    sigma: np.ndarray
    rebase: np.ndarray

    @property
    def closed(self) -> np.ndarray:
        return self.status != OPEN

    @property
    def shape(self):
        return self.reference.shape

    @classmethod
    def build(cls, symbols, times, reference, *, status, kind, sigma, market=None, token=None, rebase=None):
        reference = np.asarray(reference, dtype=np.float64)
        like = lambda x, d: np.asarray(reference if x is None else x, dtype=d).copy()  # noqa: E731
        return cls(tuple(symbols), np.asarray(times, dtype=np.int64), reference.copy(), like(market, np.float64),
                   like(token, np.float64), np.asarray(status, dtype=np.int8), np.asarray(kind, dtype=np.int8),
                   np.asarray(sigma, dtype=np.float64),
                   np.ones_like(reference) if rebase is None else np.asarray(rebase, dtype=np.float64))


# --- the keeper's view under a closed-market policy -------------------------------------------------------------

def haircut_table(path: PricePath, policy: str, *, k_table: dict[str, float] | None = None,
                  fixed_bps: dict[str, int] | list[dict[str, int]] | None = None) -> np.ndarray:
    """Haircut (bps) at each step and asset under `policy`; 0 while open. Unknown status takes the unplanned kind
    (no reopening is known), so the widest haircut."""
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; choose from {', '.join(POLICIES)}")
    out = np.zeros(path.shape, dtype=np.int64)
    if policy in ("none", "kamino"):
        return out
    kinds = np.where(path.status == UNKNOWN, CLOSURE_KINDS.index("unplanned"), path.kind)
    for code, name in enumerate(CLOSURE_KINDS):
        sel = path.closed & (kinds == code)
        if not sel.any():
            continue
        if policy == "fixed":  # one table for every asset, or one per asset
            tables = fixed_bps if isinstance(fixed_bps, list | tuple) else [fixed_bps] * path.shape[1]
            row = np.asarray([max(0, min(int((tab or {}).get(name, 0)), 10_000)) for tab in tables])
            out[sel] = np.broadcast_to(row, path.shape)[sel]
        else:
            k = (k_table or haircut.k_for(0.99)).get(name, 0.0)
            sigma = np.nan_to_num(path.sigma[sel], nan=0.0)
            out[sel] = np.minimum(np.ceil(k * sigma * 10_000 - 1e-9), haircut.MAX_BPS).astype(np.int64)
    return out


def policy_view(path: PricePath, policy: str, *, k_table=None, fixed_bps=None,
                seize_at: str = "reference") -> vector.OracleView:
    """The keeper's prices under a policy, as core.simulation.backtest's policies: `fixed` and `calibrated` cut
    the liquidation-threshold price while closed; `pause_when_closed` cuts borrowing power only and holds
    liquidations while closed; `none` and `kamino` see the frozen price (kamino differs by its LTV/LT)."""
    cut = haircut_table(path, policy, k_table=k_table, fixed_bps=fixed_bps)
    return vector.oracle_view(reference=path.reference, closed=path.closed, haircut_bps=cut,
                              haircut_on_threshold=policy in ("fixed", "calibrated"),
                              pause_when_closed=policy == "pause_when_closed", token=path.token,
                              seize_at=seize_at, market=path.market, rebase=path.rebase)


# --- historical replay ------------------------------------------------------------------------------------------

def _epoch(d: date, hour: int = 0) -> int:
    return int(datetime(d.year, d.month, d.day, hour, tzinfo=UTC).timestamp())


def daily_replay(tickers: list[str], start: date, end: date, *, prices_dir: pathlib.Path = PRICES_DIR,
                 clock: MarketClock | None = None) -> PricePath:
    """Three steps per session shared by every ticker, as the backtest walks them: the open print, the session's
    low (both open), and the close, where a closure of the following gap's kind begins (closed)."""
    clock = clock or MarketClock.get("XNYS")
    series = {}
    for t in tickers:
        rows = [(d, float(o), float(lo), float(c)) for d, o, lo, c in daily_rows(pathlib.Path(prices_dir) / f"{t}.csv")]
        rows = [r for r in rows if min(r[1:]) > 0]
        closes = np.asarray([r[3] for r in rows])
        series[t] = ({r[0]: i for i, r in enumerate(rows)}, rows, haircut.ewma_sigma(closes))
    days = sorted(set.intersection(*(set(d for d in s[0] if start <= d <= end) for s in series.values())))
    if len(days) < 2:
        raise ValueError("fewer than two common sessions in that range")
    T, A = 3 * len(days), len(tickers)
    ref, sig = np.empty((T, A)), np.full((T, A), np.nan)
    status = np.tile(np.array([OPEN, OPEN, CLOSED], dtype=np.int8), len(days))[:, None].repeat(A, 1)
    kind = np.full((T, A), -1, dtype=np.int8)
    times = np.empty(T, dtype=np.int64)
    for n, d in enumerate(days):
        times[3 * n: 3 * n + 3] = (_epoch(d, 14), _epoch(d, 17), _epoch(d, 21))
        gap = CLOSURE_KINDS.index(clock.gap_kind(d, days[n + 1])) if n + 1 < len(days) else 0
        kind[3 * n + 2] = gap
        for a, t in enumerate(tickers):
            index, rows, sigma = series[t]
            i = index[d]
            _, o, lo, c = rows[i]
            ref[3 * n: 3 * n + 3, a] = (o, min(lo, o, c), c)
            sig[3 * n: 3 * n + 3, a] = sigma[i]
    return PricePath.build(tickers, times, ref, status=status, kind=kind, sigma=sig)


def intraday_files() -> dict[str, pathlib.Path]:
    """The shipped hourly files with extended hours (core/data/prices/intraday/<TICKER>_1h_ext_*.csv)."""
    return {p.name.split("_")[0]: p for p in sorted(INTRADAY_DIR.glob("*_1h_ext_*.csv"))}


def intraday_replay(ticker: str, *, clock: MarketClock | None = None, path: pathlib.Path | None = None) -> PricePath:
    """Hourly bars with pre/post-market (labelled by the hour's start, New York time). The reference is the bar's
    close during the regular session and frozen at the last regular close outside it; the token follows the
    extended-hours print (a 24/5 token tracks it)."""
    import pandas as pd

    clock = clock or MarketClock.get("XNYS")
    path = path or intraday_files().get(ticker)
    if path is None:
        raise ValueError(f"no intraday file ships for {ticker}; shipped: {', '.join(intraday_files()) or 'none'}")
    stamps, closes = [], []
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            stamps.append(row["Datetime"])
            closes.append(float(row["Close"]))
    idx = pd.DatetimeIndex(stamps).tz_localize("America/New_York", ambiguous="NaT", nonexistent="NaT")
    keep = ~idx.isna() & ~pd.Index(idx).duplicated()
    ends = (idx[keep].tz_convert("UTC").as_unit("s").asi8 + _HOUR).astype(np.int64)
    token = np.asarray(closes)[keep]
    is_open = clock.is_open_many((ends - 1) * 10**9)
    ref = token.copy()
    last = token[0]
    for i in range(len(ref)):  # frozen outside the regular session
        if is_open[i]:
            last = ref[i]
        else:
            ref[i] = last
    kind = np.full(len(ref), -1, dtype=np.int8)
    for i in np.flatnonzero(~is_open):
        k = clock.state(datetime.fromtimestamp(int(ends[i]) - 1, UTC)).closure_kind
        kind[i] = CLOSURE_KINDS.index(k) if k else 0
    dates, _, daily_closes = haircut.read_bars(PRICES_DIR / f"{ticker}.csv")
    sigma_daily = haircut.ewma_sigma(daily_closes)
    day_index = np.searchsorted(np.asarray([_epoch(d, 21) for d in dates]), ends, side="right") - 1
    sig = sigma_daily[np.clip(day_index, 0, len(dates) - 1)]
    return PricePath.build((ticker,), ends, ref[:, None], token=token[:, None],
                           status=np.where(is_open, OPEN, CLOSED)[:, None], kind=kind[:, None], sigma=sig[:, None])


# --- simulated paths -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GapSampler:
    """Empirical standardised down-gaps z = -gap / sigma by closure kind, kept by historical closure date so one
    draw gives every ticker its own z from the same night."""

    by_kind: dict[str, tuple[list, list[dict[str, float]], np.ndarray]]  # kind -> (dates, {ticker: z}, pooled z)

    @classmethod
    def from_closures(cls, rows) -> GapSampler:
        table: dict[str, dict] = {}
        for c in rows:
            table.setdefault(c.kind, {}).setdefault(c.date, {})[c.ticker] = -c.gap / c.sigma
        by_kind = {}
        for k, per_date in table.items():
            dates = sorted(per_date)
            by_kind[k] = (dates, [per_date[d] for d in dates],
                          np.asarray([z for d in dates for z in per_date[d].values()]))
        return cls(by_kind)

    def draw(self, kind: str, tickers, rng: np.random.Generator) -> np.ndarray:
        dates, rows, pooled = self.by_kind.get(kind) or self.by_kind["weekend"]
        row = rows[int(rng.integers(len(dates)))]
        return np.asarray([row[t] if t in row else pooled[int(rng.integers(len(pooled)))] for t in tickers])


@functools.cache
def empirical_gaps() -> GapSampler:
    """Every shipped ticker's closures 2000-2024 (built once per process: a few seconds)."""
    return GapSampler.from_closures(haircut.load_closures(PRICES_DIR, MarketClock.get("XNYS").gap_kind))


def hourly_times(start: datetime, hours: int) -> np.ndarray:
    s = int(start.replace(tzinfo=start.tzinfo or UTC).timestamp()) // _HOUR * _HOUR
    return s + _HOUR * np.arange(1, hours + 1, dtype=np.int64)


def calendar_flags(times: np.ndarray, clock: MarketClock | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(open at the instant, closure kind code while shut) for hourly UTC instants."""
    clock = clock or MarketClock.get("XNYS")
    is_open = clock.is_open_many(times * 10**9)
    kind = np.full(len(times), -1, dtype=np.int8)
    for i in np.flatnonzero(~is_open):
        k = clock.state(datetime.fromtimestamp(int(times[i]), UTC)).closure_kind
        kind[i] = CLOSURE_KINDS.index(k) if k else 0
    return is_open, kind


def simulate(tickers, prices0, sigmas, *, times: np.ndarray, is_open: np.ndarray, kind: np.ndarray,
             rng: np.random.Generator, gaps: GapSampler) -> PricePath:
    """GBM in session, frozen when shut, an empirical gap at each reopen; the token drifts while shut."""
    T, A = len(times), len(tickers)
    sigmas = np.asarray(sigmas, dtype=np.float64)
    hourly = sigmas / math.sqrt(SESSION_HOURS)
    log_ret = np.zeros((T, A))
    opens = np.flatnonzero(is_open)
    log_ret[opens] = rng.standard_normal((len(opens), A)) * hourly - 0.5 * hourly**2
    reopen = np.flatnonzero(is_open[1:] & ~is_open[:-1]) + 1
    for t in reopen:
        z = gaps.draw(CLOSURE_KINDS[kind[t - 1]], tickers, rng)
        log_ret[t] += np.log(np.maximum(1 - z * sigmas, 0.01))  # gap = -z x sigma, floored at -99%
    ref = np.asarray(prices0, dtype=np.float64) * np.exp(np.cumsum(log_ret, axis=0))
    # the token wanders around the frozen reference while shut, and is pulled back at the open
    wander = rng.standard_normal((T, A)) * hourly * TOKEN_DRIFT
    wander[is_open] = 0.0
    run = np.zeros((T, A))
    acc = np.zeros(A)
    for t in range(T):
        acc = 0.0 if is_open[t] else acc + wander[t]
        run[t] = acc
    status = np.where(is_open, OPEN, CLOSED)[:, None].repeat(A, 1)
    return PricePath.build(tickers, times, ref, token=ref * np.exp(run), status=status,
                           kind=np.asarray(kind)[:, None].repeat(A, 1), sigma=np.broadcast_to(sigmas, (T, A)))


# --- named stresses -------------------------------------------------------------------------------------------

def _first(mask: np.ndarray, what: str) -> int:
    hits = np.flatnonzero(mask)
    if not len(hits):
        raise ValueError(f"the path has no {what}")
    return int(hits[0])


def _reopens(path: PricePath, kind: str) -> np.ndarray:
    """Steps where the market reopens after a closure of this kind (asset 0's calendar)."""
    open_ = path.status[:, 0] == OPEN
    m = np.zeros(len(open_), dtype=bool)
    m[1:] = open_[1:] & ~open_[:-1] & (path.kind[:-1, 0] == CLOSURE_KINDS.index(kind))
    return m


def _gap_from(path: PricePath, t: int, assets, gap: float) -> PricePath:
    """Every price of these assets from step t on scaled so that the move into t is exactly `gap`."""
    ref, mkt, tok = path.reference.copy(), path.market.copy(), path.token.copy()
    for a in assets:
        f = (1 + gap) * ref[t - 1, a] / ref[t, a]
        for arr in (ref, mkt, tok):
            arr[t:, a] *= f
    return replace(path, reference=ref, market=mkt, token=tok)


def monday_gap_all(path: PricePath, *, gap: float = -0.10) -> PricePath:
    """Every stock gaps -10% at once at the first Monday open after a weekend (as 2020-03-16, when SPY opened
    -10.5% and every stock with it): the worst weekend hits the whole book together."""
    t = _first(_reopens(path, "weekend"), "weekend reopen")
    return _gap_from(path, t, range(path.shape[1]), gap)


def earnings_gap(path: PricePath, *, asset: int = 0, gap: float = -0.25) -> PricePath:
    """One name gaps -25% overnight (an earnings night, ~7 sigma for a large cap); the others move as before."""
    t = _first(_reopens(path, "overnight"), "overnight reopen")
    return _gap_from(path, t, [asset], gap)


def token_push_sunday(path: PricePath, *, push: float = 0.05) -> PricePath:
    """The token's own thin 24/7 market pushed +5% (or -5% with push=-0.05) all Sunday (UTC) while the stock market
    is shut; the reference price and the true price do not move. An oracle on the reference is untouched; one that
    seizes at the token price is not."""
    sunday = (path.times // 86_400 + 3) % 7 == 6  # Monday = 0; 1970-01-01 was a Thursday
    sunday &= path.closed[:, 0]
    _first(sunday, "Sunday step")
    tok = path.token.copy()
    tok[sunday] = path.reference[sunday] * (1 + push)
    return replace(path, token=tok)


def weekend_split(path: PricePath, *, asset: int = 0, ratio: int = 2) -> PricePath:
    """An N-for-1 split over a weekend: from the Monday open the price per token is /N and every balance xN
    (rebase). Not a loss: health factors are unchanged and nobody is liquidated for it."""
    t = _first(_reopens(path, "weekend"), "weekend reopen")
    ref, mkt, tok, rebase = path.reference.copy(), path.market.copy(), path.token.copy(), path.rebase.copy()
    for arr in (ref, mkt, tok):
        arr[t:, asset] /= ratio
    rebase[t, asset] *= ratio
    return replace(path, reference=ref, market=mkt, token=tok, rebase=rebase)


def stuck_feed(path: PricePath, *, asset: int = 0, hours: int = 4, fall: float = -0.08) -> PricePath:
    """The feed sticks at its last value for `hours` steps of a session while the true price slides `fall`
    (linearly), then catches up at once: liquidations come late and at the stale price; bad debt is counted at
    the truth. The rest of the path carries on from where the true price ended."""
    t0 = _first(path.status[:, asset] == OPEN, "open step")
    end = t0 + hours
    if end >= path.shape[0] or not (path.status[t0:end + 1, asset] == OPEN).all():
        raise ValueError("the stuck window must lie inside one session")
    ref, mkt, tok = path.reference.copy(), path.market.copy(), path.token.copy()
    base = mkt[t0, asset]
    true = base * (1 + np.linspace(0, fall, hours + 1)[1:])
    f = true[-1] / mkt[end, asset]
    for arr in (ref, mkt, tok):
        arr[end:, asset] *= f
        arr[t0 + 1:end + 1, asset] = true
    ref[t0 + 1:end, asset] = base  # stuck; it catches up at the window's last step
    return replace(path, reference=ref, market=mkt, token=tok)


def zero_feed(path: PricePath, *, asset: int = 0, steps: int = 3) -> PricePath:
    """The feed reads zero for a few open steps. The oracle must refuse it (keep the last good price, hold
    liquidations against it): a zero price would value the collateral at nothing and hand it out for free."""
    t0 = _first(path.status[:, asset] == OPEN, "open step")
    at = (np.flatnonzero(path.status[t0 + 1:, asset] == OPEN) + t0 + 1)[:steps]
    ref = path.reference.copy()
    ref[at, asset] = 0.0
    return replace(path, reference=ref)


def status_unknown(path: PricePath, *, minutes: int = 30) -> PricePath:
    """The market status is unknown for 30 minutes in the regular session (the calendar feed is down): those steps
    are treated as closed, in the widest (unplanned) closure kind, so the oracle haircuts rather than guesses."""
    t0 = _first(path.status[:, 0] == OPEN, "open step")
    window = (path.times >= path.times[t0]) & (path.times < path.times[t0] + minutes * 60)
    status = path.status.copy()
    status[window] = UNKNOWN
    kind = path.kind.copy()
    kind[window] = CLOSURE_KINDS.index("unplanned")
    return replace(path, status=status, kind=kind)


STRESSES = {f.__name__: f for f in (monday_gap_all, earnings_gap, token_push_sunday, weekend_split, stuck_feed,
                                    zero_feed, status_unknown)}


def quiet_week(tickers, prices0, sigmas, *, start: datetime = datetime(2024, 3, 4, tzinfo=UTC),
               hours: int = 24 * 9, seed: int = 0, clock: MarketClock | None = None) -> PricePath:
    """A base for the stresses: `hours` hourly steps from a Monday, GBM in session, no gaps at the reopens."""
    times = hourly_times(start - timedelta(hours=1), hours)
    is_open, kind = calendar_flags(times, clock)
    none = GapSampler({k: ([None], [{}], np.zeros(1)) for k in CLOSURE_KINDS})
    return simulate(tickers, prices0, sigmas, times=times, is_open=is_open, kind=kind,
                    rng=np.random.default_rng(seed), gaps=none)
