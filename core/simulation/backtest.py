"""Backtests of closed-market policies on real daily bars (no Django): which policy loses least?

A population of borrowers holds one stock token as collateral and borrows USDC. Each one keeps its debt at a
fixed share of its borrowing power (80% to 100%), re-borrowing whenever the oracle lets it. Every session is
walked in four moments, with the policy's oracle at each:

1. the reopen: the open print, no haircut; accounts under water are liquidated at the open;
2. borrowers top up their debt at the open price;
3. the session's low: accounts under water are liquidated there (the worst the session got);
4. the close: a closure of some kind begins. The policy's haircut lowers the price used for borrowing power
   and, if the policy says so, for the liquidation threshold; accounts that the haircut puts under water are
   liquidated now (unless the policy pauses liquidations while closed); then borrowers top up at the
   borrowing-power price and carry that debt through the gap.

Liquidations are Aave v3.3's (close factor with the $2,000 rule, bonus, protocol fee, dust rule, deficit when
the collateral runs out), computed by `core.aave.v3` on integers: 18-decimal collateral, 6-decimal USDC,
8-decimal prices. A liquidation at the close is *unnecessary* when the account, as it stood before it, would
have been healthy at the next open with no haircut: the borrower paid the bonus for a gap that never came.
Interest is left out: over one gap it is noise beside the gap itself.

Policies (`POLICIES`):
- `none`: no closed-market handling; the price is the last close until the open print (what a frozen
  oracle does), liquidations at any time;
- `kamino`: Kamino's xStocks market as it runs: a frozen price with no weekend mode and Kamino's own LTV/LT
  for the token (DESIGN.md); the same mechanics as `none` with those parameters;
- `fixed`: one haircut per closure kind, the coverage quantile of the ticker's own down-gaps before the
  backtest starts (not scaled to volatility), on borrowing power and the liquidation threshold;
- `calibrated`: k(closure kind, coverage) x the EWMA daily sigma known at the close, k fitted on every
  shipped ticker's closures before the backtest starts (no look-ahead), on borrowing power and threshold;
- `pause_when_closed`: the calibrated haircut on borrowing power only, and no liquidations while closed.
"""
from __future__ import annotations

import math
import pathlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np

from core.aave.v3 import (
    HEALTH_FACTOR_LIQUIDATION_THRESHOLD,
    MIN_LEFTOVER_BASE,
    DustError,
    quote_liquidation,
)
from core.aave.wadray import PERCENTAGE_FACTOR, percent_mul, wad_div
from core.haircut import calibrated as haircut
from core.prices import bar_price, daily_rows

POLICIES = ("none", "kamino", "fixed", "calibrated", "pause_when_closed")
PRICE_UNIT = 10**8  # USD, 8 decimals (Aave's base currency)
COLL_DECIMALS, DEBT_DECIMALS = 18, 6
USDC_PRICE = PRICE_UNIT
# Kamino's on-chain xStocks market (DESIGN.md section 3): (LTV, LT) in bps by underlying ticker.
KAMINO_LTV_LT = {"SPY": (7_300, 7_500), "QQQ": (7_000, 7_200), "GOOGL": (6_000, 7_000), "TSLA": (5_500, 6_500),
                 "NVDA": (5_500, 6_500), "AAPL": (4_000, 5_000), "HOOD": (3_000, 4_000), "MSTR": (3_000, 4_000)}
DEFAULT_SHARES_BPS = tuple(range(8_000, 10_001, 100))  # each borrower's debt target, share of borrowing power
DEPOSIT_USD = 100_000
MAX_STEPS = 20


class BacktestError(ValueError):
    """Inputs the backtest cannot run on (the message says which and why). `field` names the input; `refused`
    marks well-formed inputs the data cannot serve (a 422 to an API), as opposed to malformed ones."""

    def __init__(self, message: str, *, code: str = "invalid", field: str | None = None, refused: bool = False):
        super().__init__(message)
        self.code, self.field, self.refused = code, field, refused


MIN_FIT_CLOSURES = 250  # the fitted policies need this much history before `start`


def check_policies(names: list[str], *, ticker: str | None = None) -> None:
    """The one place policy names are checked (the engine, the command and the API all come here)."""
    if not names:
        raise BacktestError(f"name at least one policy: {', '.join(POLICIES)}", code="required", field="policies")
    unknown = [str(n) for n in names if n not in POLICIES]
    if unknown:
        raise BacktestError(f"unknown policy {', '.join(unknown)}; choose from {', '.join(POLICIES)}",
                            field="policies")
    if ticker is not None and "kamino" in names and ticker not in KAMINO_LTV_LT:
        raise BacktestError(f"Kamino lists no {ticker} market; kamino covers {', '.join(sorted(KAMINO_LTV_LT))}",
                            field="policies", refused=True)


def check_range(bars: Bars, *, start: date, end: date, policies: list[str] = ()) -> int:
    """The one place a date range is checked against the bars; returns the sessions in it."""
    if start > end:
        raise BacktestError("from must not be after to", field="from")
    first, last = bars.dates[0], bars.dates[-1]
    if end < first or start > last:
        raise BacktestError(f"{bars.ticker} history runs {first}..{last}; choose dates inside it",
                            code="out_of_range", field="from", refused=True)
    sessions = sum(1 for d in bars.dates if start <= d <= end)
    if sessions < 2:
        raise BacktestError(f"{bars.ticker} has fewer than two sessions between {start} and {end}",
                            code="out_of_range", field="to", refused=True)
    fitted = {"fixed", "calibrated", "pause_when_closed"} & set(policies)
    if fitted and sum(1 for d in bars.dates if d < start) < MIN_FIT_CLOSURES:
        raise BacktestError(f"{', '.join(sorted(fitted))} fit their haircut on history before from: start on or "
                            f"after {bars.dates[min(MIN_FIT_CLOSURES, len(bars.dates) - 1)]} for {bars.ticker}",
                            code="too_little_history", field="from", refused=True)
    return sessions


@dataclass(frozen=True)
class Bars:
    """Daily bars as integers (8-decimal USD); sigma[t] and kind[t] describe the gap from session t to t+1."""

    ticker: str
    dates: list[date]
    open: list[int]
    low: list[int]
    close: list[int]
    sigma: list[float]  # EWMA daily sigma known at close t (nan before the warm-up)
    kind: list[str | None]  # closure kind of the gap after session t; None after the last bar


@dataclass(frozen=True)
class Parameters:
    """A reserve's risk parameters for the collateral token (bps)."""

    ltv_bps: int
    liquidation_threshold_bps: int
    liquidation_bonus_bps: int
    protocol_fee_bps: int = 1_000


@dataclass(frozen=True)
class Policy:
    name: str
    parameters: Parameters
    haircut_bps: Callable[[str, float], int]  # (closure kind, sigma) -> bps; 0 for no haircut
    on_threshold: bool  # the haircut also lowers the liquidation-threshold price
    pause_when_closed: bool


@dataclass
class _Borrower:
    share_bps: int
    collateral: int = 0  # 18 decimals
    debt: int = 0  # 6 decimals
    wiped: bool = False


@dataclass
class Result:
    policy: str
    liquidations: int = 0
    closed_market_liquidations: int = 0
    unnecessary_liquidations: int = 0
    bad_debt: int = 0  # USDC base units (6 decimals)
    bad_debt_events: int = 0
    worst_bad_debt: tuple[int, str] | None = None  # (USDC units, date)
    debt_repaid: int = 0  # USDC units
    penalty: int = 0  # USD (8 decimals): collateral taken at the market price minus debt repaid
    unnecessary_penalty: int = 0
    debt_days: int = 0  # sum over sessions of the debt carried into the gap (USDC units): credit extended
    sessions: int = 0
    accounts_wiped: int = 0
    haircut_bps_sum: int = 0
    closures: int = 0
    parameters: Parameters | None = None

    def as_dict(self) -> dict:
        usd = lambda units: _usd(units * PRICE_UNIT // 10**DEBT_DECIMALS)  # noqa: E731 - USDC at $1
        mean_debt = self.debt_days // self.sessions if self.sessions else 0
        return {
            "bad_debt_usd": usd(self.bad_debt),
            "liquidations": self.liquidations,
            "unnecessary_liquidations": self.unnecessary_liquidations,
            "closed_market_liquidations": self.closed_market_liquidations,
            "bad_debt_events": self.bad_debt_events,
            "worst_bad_debt": ({"usd": usd(self.worst_bad_debt[0]), "date": self.worst_bad_debt[1]}
                               if self.worst_bad_debt else None),
            "debt_repaid_by_liquidators_usd": usd(self.debt_repaid),
            "liquidation_penalty_usd": _usd(self.penalty),
            "unnecessary_penalty_usd": _usd(self.unnecessary_penalty),
            "mean_debt_usd": usd(mean_debt),
            "bad_debt_bps_of_mean_debt": round(self.bad_debt * 10_000 / mean_debt, 2) if mean_debt else None,
            "mean_haircut_bps": round(self.haircut_bps_sum / self.closures, 1) if self.closures else 0.0,
            "accounts_wiped_out": self.accounts_wiped,
            "sessions": self.sessions,
            "closures": self.closures,
            "ltv_bps": self.parameters.ltv_bps if self.parameters else None,
            "liquidation_threshold_bps": self.parameters.liquidation_threshold_bps if self.parameters else None,
        }


def _usd(base: int) -> str:
    """8-decimal USD integer as a decimal string rounded to cents (display; the integers stay exact)."""
    cents = (abs(base) + 500_000) // 1_000_000
    return f"{'-' if base < 0 else ''}{cents // 100}.{cents % 100:02d}"


def load_bars(path: pathlib.Path, gap_kind: Callable[[date, date], str]) -> Bars:
    """Bars from a `Date,Open,High,Low,Close,Volume` file; closure kinds from the exchange calendar."""
    dates, opens, lows, closes = [], [], [], []
    try:
        for day, raw_open, raw_low, raw_close in daily_rows(path):
            o, lo, c = bar_price(raw_open), bar_price(raw_low), bar_price(raw_close)
            if o > 0 and lo > 0 and c > 0:
                dates.append(day)
                opens.append(o)
                lows.append(min(lo, o, c))
                closes.append(c)
    except (KeyError, ValueError, ArithmeticError) as exc:
        raise BacktestError(f"{path.name} is not a daily bar file ({exc})") from None
    sigma = haircut.ewma_sigma(np.asarray(closes, dtype=float) / PRICE_UNIT)
    kinds = [gap_kind(dates[t], dates[t + 1]) for t in range(len(dates) - 1)] + [None]
    return Bars(path.stem, dates, opens, lows, closes, [float(s) for s in sigma], kinds)


def fixed_table(bars: Bars, before: date, coverage: float) -> dict[str, int]:
    """Per closure kind, the coverage quantile of the ticker's own down-gaps before `before` (bps)."""
    gaps: dict[str, list[float]] = {}
    for t in range(len(bars.dates) - 1):
        if bars.dates[t + 1] >= before:
            break
        gap = bars.open[t + 1] / bars.close[t] - 1
        gaps.setdefault(bars.kind[t], []).append(max(-gap, 0.0))
    everything = [g for values in gaps.values() for g in values]
    if not everything:
        raise BacktestError(f"no {bars.ticker} bars before {before} to fit the fixed haircut on")
    pooled = float(np.quantile(everything, coverage, method="higher"))
    table = {}
    for kind in haircut.KINDS:
        own = gaps.get(kind, [])
        q = float(np.quantile(own, coverage, method="higher")) if len(own) >= 50 else pooled
        table[kind] = min(math.ceil(max(q, 0.0) * 10_000), haircut.MAX_BPS)
    return table


def build_policies(names: list[str], *, ticker: str, parameters: Parameters, k_table: dict[str, float] | None,
                   fixed_bps: dict[str, int] | None) -> list[Policy]:
    check_policies(names, ticker=ticker)

    def calibrated(kind, sigma):
        return haircut.haircut_bps("calibrated", kind, sigma if math.isfinite(sigma) else 0.0, k_table=k_table)

    def fixed(kind, sigma):
        return haircut.haircut_bps("fixed", kind, fixed_bps=fixed_bps)

    def nothing(kind, sigma):
        return 0

    policies = []
    for name in dict.fromkeys(names):  # each once, in the order given
        if name == "kamino":
            ltv, lt = KAMINO_LTV_LT[ticker]
            params = Parameters(ltv, lt, parameters.liquidation_bonus_bps, parameters.protocol_fee_bps)
            policies.append(Policy(name, params, nothing, False, False))
        elif name == "none":
            policies.append(Policy(name, parameters, nothing, False, False))
        elif name == "fixed":
            policies.append(Policy(name, parameters, fixed, True, False))
        elif name == "calibrated":
            policies.append(Policy(name, parameters, calibrated, True, False))
        else:
            policies.append(Policy(name, parameters, calibrated, False, True))
    return policies


def _value(collateral: int, price: int) -> int:
    return collateral * price // 10**COLL_DECIMALS


def _debt_base(debt: int) -> int:
    return debt * USDC_PRICE // 10**DEBT_DECIMALS


def _health_factor(b: _Borrower, price: int, lt_bps: int) -> int | None:
    """GenericLogic.calculateUserAccountData for one collateral and USDC debt: wadDiv(percentMul(coll, LT), debt)."""
    if not b.debt:
        return None
    return wad_div(percent_mul(_value(b.collateral, price), lt_bps), _debt_base(b.debt))


class _Run:
    def __init__(self, bars: Bars, policy: Policy, shares_bps, deposit_usd: int):
        self.bars, self.policy, self.p = bars, policy, policy.parameters
        self.deposit = deposit_usd * PRICE_UNIT
        self.borrowers = [_Borrower(share) for share in shares_bps]
        self.result = Result(policy.name, parameters=policy.parameters)

    def fund(self, b: _Borrower, price: int) -> None:
        """A borrower deposits `deposit_usd` of the token on the first day."""
        b.collateral, b.debt = self.deposit * 10**COLL_DECIMALS // price, 0

    def top_up(self, price: int) -> None:
        """Each borrower borrows up to its share of the borrowing power at this (borrowing-power) price."""
        for b in self.borrowers:
            power = percent_mul(_value(b.collateral, price), self.p.ltv_bps)  # base units
            target = percent_mul(power, b.share_bps) * 10**DEBT_DECIMALS // USDC_PRICE
            if target > b.debt:
                b.debt = target

    def liquidate(self, *, oracle_price: int, market_price: int, day: date, closed: bool,
                  next_open: int | None = None) -> None:
        """The keeper on every account under water at this oracle price: Aave v3.3 steps until HF >= 1."""
        r = self.result
        lt = self.p.liquidation_threshold_bps
        for b in self.borrowers:
            hf = _health_factor(b, oracle_price, lt)
            if hf is None or hf >= HEALTH_FACTOR_LIQUIDATION_THRESHOLD:
                continue
            # unnecessary: as it stood, the account would have been healthy at the next open, no haircut
            unnecessary = closed and next_open is not None and _health_factor(b, next_open, lt) >= \
                HEALTH_FACTOR_LIQUIDATION_THRESHOLD
            for _ in range(MAX_STEPS):
                if hf is None or hf >= HEALTH_FACTOR_LIQUIDATION_THRESHOLD or not b.collateral:
                    break
                try:
                    quote = quote_liquidation(
                        debt_to_cover=b.debt, user_reserve_debt=b.debt, debt_price=USDC_PRICE,
                        debt_decimals=DEBT_DECIMALS, user_collateral_balance=b.collateral,
                        collateral_price=oracle_price, collateral_decimals=COLL_DECIMALS,
                        liquidation_bonus_bps=self.p.liquidation_bonus_bps, protocol_fee_bps=self.p.protocol_fee_bps,
                        total_collateral_base=_value(b.collateral, oracle_price), total_debt_base=_debt_base(b.debt),
                        health_factor=hf)
                except DustError:
                    break
                taken = quote.collateral_to_liquidator + quote.protocol_fee
                penalty = _value(taken, market_price) - _debt_base(quote.debt_to_repay)
                b.collateral -= taken
                b.debt -= quote.debt_to_repay
                r.liquidations += 1
                r.debt_repaid += quote.debt_to_repay
                r.penalty += penalty
                if closed:
                    r.closed_market_liquidations += 1
                    if unnecessary:
                        r.unnecessary_liquidations += 1
                        r.unnecessary_penalty += penalty
                if quote.has_no_collateral_left:  # LiquidationLogic: the rest of the debt is deficit
                    self.deficit(b.debt, day)
                    b.debt = 0
                hf = _health_factor(b, oracle_price, lt)
            if not b.wiped and _value(b.collateral, market_price) < MIN_LEFTOVER_BASE:
                b.wiped = True  # under $1,000 of collateral left: out of the game (no new deposit)
                r.accounts_wiped += 1

    def deficit(self, amount: int, day: date) -> None:
        r = self.result
        if amount <= 0:
            return
        r.bad_debt += amount
        r.bad_debt_events += 1
        if r.worst_bad_debt is None or amount > r.worst_bad_debt[0]:
            r.worst_bad_debt = (amount, day.isoformat())

    def session(self, t: int, *, first: bool, last: bool) -> None:
        bars, r = self.bars, self.result
        day, o = bars.dates[t], bars.open[t]
        if first:
            for b in self.borrowers:
                self.fund(b, o)
        else:
            self.liquidate(oracle_price=o, market_price=o, day=day, closed=False)
        self.top_up(o)
        self.liquidate(oracle_price=bars.low[t], market_price=bars.low[t], day=day, closed=False)
        kind = None if last else bars.kind[t]  # the backtest ends at its last session's low
        r.sessions += 1
        if kind is None:
            return
        c = bars.close[t]
        bps = self.policy.haircut_bps(kind, bars.sigma[t])
        r.closures += 1
        r.haircut_bps_sum += bps
        lower = percent_mul(c, PERCENTAGE_FACTOR - bps)
        if not self.policy.pause_when_closed:
            self.liquidate(oracle_price=lower if self.policy.on_threshold else c, market_price=c, day=day,
                           closed=True, next_open=bars.open[t + 1])
        self.top_up(lower)
        r.debt_days += sum(b.debt for b in self.borrowers)


def run(bars: Bars, policy: Policy, *, start: date, end: date, shares_bps=DEFAULT_SHARES_BPS,
        deposit_usd: int = DEPOSIT_USD, progress: Callable[[int], None] | None = None) -> Result:
    """Walk the sessions in [start, end] under one policy."""
    check_range(bars, start=start, end=end)
    idx = [t for t, d in enumerate(bars.dates) if start <= d <= end]
    state = _Run(bars, policy, shares_bps, deposit_usd)
    for n, t in enumerate(idx):
        state.session(t, first=n == 0, last=n == len(idx) - 1)
        if progress and (n + 1) % 250 == 0:
            progress(n + 1)
    if progress:
        progress(len(idx))
    return state.result

