"""Backtests of closed-market policies on real daily bars (no Django): which policy loses least?

A population of borrowers holds one stock token as collateral and borrows USDC. Each one keeps its debt at a
fixed share of its borrowing power (80% to 100%), re-borrowing whenever the oracle lets it. An account emptied
by liquidations (under $1 of debt, under $1,000 of collateral) is replaced at the next open by a new borrower with the
same share and a fresh deposit, so the book stays exposed to every later gap. Every session is
walked in four moments (five for own-market profiles), with the policy's oracle at each:

1. the reopen: the open print, no haircut; accounts under water are liquidated at the open;
2. borrowers top up their debt at the open price;
3. the session's low: accounts under water are liquidated there (the worst the session got);
4. the close: a closure of some kind begins. The policy's haircut lowers the price used for borrowing power
   and, if the policy says so, for the liquidation threshold; accounts that the haircut puts under water are
   liquidated now (unless the policy pauses liquidations while closed); then borrowers top up at the
   borrowing-power price and carry that debt through the gap.
5. own-market profiles only (`profile`: core.profiles' LOWER_OF rule, e.g. StableStock, Aster, Trade.xyz), unless
   the policy pauses liquidations while closed: the closure's lowest token price (core.simulation.closure: a
   seeded Brownian bridge from the close to the next open, band-clamped) meets the oracle's rule while shut,
   oracle = min(liquidation-threshold price of step 4, token low) (core.profiles.effective_price); accounts under
   water there are liquidated, the seizure counted at the token's price (what the seized tokens sell for). Every
   other profile, and a run with no profile, skips this moment: its results are those of the four moments.

Liquidations are Aave v3.3's (close factor with the $2,000 rule, bonus, protocol fee, dust rule, deficit when
the collateral runs out) or Aave v4's (target health factor, variable bonus), computed by `core.aave.engines` on
integers: 18-decimal collateral, 6-decimal USDC, 8-decimal prices.

Which prices a liquidation uses (DESIGN.md s2): the policy's oracle price (haircut included) decides whether an
account is liquidatable and how much debt is repaid; the collateral seized for it is counted at the market
(reference) price (`seize_at="reference"`). `seize_at="haircut"` is the old rule, kept for comparison: it seizes
at the cut price, so a haircut past about 1 - LTV x bonus hands a solvent borrower's collateral to the
liquidator and books the rest as deficit. Three separate figures follow:
- `deficit_usd`: the debt the protocol writes off when an account's collateral runs out (what Aave books);
- `bad_debt_usd`: the deficit at market prices, what the protocol would have written off had the last seizure
  been counted at the market price: debt before it minus that collateral's market value divided by the bonus,
  never below zero. Under `reference` it equals the deficit; under `haircut` the deficit is about this plus
  the transfer divided by the bonus;
- `transferred_to_liquidators_usd`: collateral liquidators took at the market price beyond the debt repaid
  times the bonus (zero under `reference` up to rounding).

A liquidation at the close is *unnecessary* when the account, as it stood before it, would have been healthy at
the next open with no haircut: the borrower paid the bonus for a gap that never came.
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

from core.aave import engines
from core.aave.v3 import HEALTH_FACTOR_LIQUIDATION_THRESHOLD, MIN_LEFTOVER_BASE, DustError
from core.aave.v4 import PoolParameters
from core.aave.wadray import PERCENTAGE_FACTOR, percent_div, percent_mul, wad_div
from core.haircut import calibrated as haircut
from core.prices import HEADER, BarFileError, bar_price, daily_rows
from core.profiles import AssetParams
from core.simulation import closure as own_book

POLICIES = ("none", "kamino", "fixed", "calibrated", "pause_when_closed")
# names a person reads beside the code names: a policy called `none` must not read as "Least bad debt: none"
POLICY_LABELS = {"none": "No haircut (frozen price)", "kamino": "Kamino's LTV/LT, no haircut",
                 "fixed": "Fixed haircut per closure kind", "calibrated": "Calibrated haircut (k × σ)",
                 "pause_when_closed": "Pause liquidations while closed"}
PRICE_UNIT = 10**8  # USD, 8 decimals (Aave's base currency)
COLL_DECIMALS, DEBT_DECIMALS = 18, 6
USDC_PRICE = PRICE_UNIT
# Kamino's on-chain xStocks market (DESIGN.md section 3): (LTV, LT) in bps by underlying ticker.
KAMINO_LTV_LT = {"SPY": (7_300, 7_500), "QQQ": (7_000, 7_200), "GOOGL": (6_000, 7_000), "TSLA": (5_500, 6_500),
                 "NVDA": (5_500, 6_500), "AAPL": (4_000, 5_000), "HOOD": (3_000, 4_000), "MSTR": (3_000, 4_000)}
DEFAULT_SHARES_BPS = tuple(range(8_000, 10_001, 100))  # each borrower's debt target, share of borrowing power
DEPOSIT_USD = 100_000
MAX_STEPS = 20
SEIZE_AT = ("reference", "haircut")  # the price the seized collateral is counted at (see the module's docstring)
WORST_CLOSURES = 5
DUST_DEBT_BASE = PRICE_UNIT  # under $1 of debt (rounding leftovers of a full liquidation): an emptied account


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
    bad_debt: int = 0  # the protocol's deficit, USDC base units (6 decimals); see market_bad_debt
    bad_debt_events: int = 0
    worst_bad_debt: tuple[int, str] | None = None  # (USDC units, date)
    debt_repaid: int = 0  # USDC units
    penalty: int = 0  # USD (8 decimals): collateral taken at the market price minus debt repaid
    unnecessary_penalty: int = 0
    debt_days: int = 0  # sum over sessions of the debt carried into the gap (USDC units): credit extended
    market_bad_debt: int = 0  # USD 8 decimals: debt the collateral could not cover at market prices
    transferred: int = 0  # USD 8 decimals: collateral at market beyond debt repaid x bonus
    engine: str = engines.V3_3
    seize_at: str = "reference"
    # per closure t (the close of session t to the open of t+1): [market bad debt, deficit, liquidations, penalty]
    closure_costs: dict = None
    timeline: dict = None  # session date -> liquidations [at the open, at the low, at the close]
    sessions: int = 0
    accounts_wiped: int = 0
    replaced: int = 0  # emptied accounts replaced by a new borrower's deposit at the next open
    haircut_bps_sum: int = 0
    closures: int = 0
    parameters: Parameters | None = None
    # own-market profiles only (moment 5): {"closures", "liquidations", "lowest_vs_close_bps", "events"}
    closed_token: dict | None = None

    def __post_init__(self):
        self.closure_costs = {} if self.closure_costs is None else self.closure_costs
        self.timeline = {} if self.timeline is None else self.timeline

    def worst_closures(self, bars: Bars, n: int = WORST_CLOSURES) -> list[dict]:
        """The n closures with the largest market bad debt + liquidation cost (borrowers' penalty)."""
        ranked = sorted(self.closure_costs.items(), key=lambda kv: (-(kv[1][0] + kv[1][3]), kv[0]))[:n]
        out = []
        for t, (bad, deficit, count, penalty) in ranked:
            if bad + penalty <= 0 and not count:
                continue
            out.append({"date": bars.dates[t + 1].isoformat(), "closed_from": bars.dates[t].isoformat(),
                        "closure": bars.kind[t], "gap": round(bars.open[t + 1] / bars.close[t] - 1, 6),
                        "bad_debt_usd": _usd(bad), "deficit_usd": _usd(deficit * PRICE_UNIT // 10**DEBT_DECIMALS),
                        "liquidations": count, "liquidation_cost_usd": _usd(penalty),
                        "cost_usd": _usd(bad + penalty)})
        return out

    def as_dict(self) -> dict:
        usd = lambda units: _usd(units * PRICE_UNIT // 10**DEBT_DECIMALS)  # noqa: E731 - USDC at $1
        mean_debt = self.debt_days // self.sessions if self.sessions else 0
        mean_debt_base = mean_debt * PRICE_UNIT // 10**DEBT_DECIMALS
        return {
            "bad_debt_usd": _usd(self.market_bad_debt),
            "deficit_usd": usd(self.bad_debt),
            "transferred_to_liquidators_usd": _usd(self.transferred),
            "engine": self.engine,
            "seize_at": self.seize_at,
            "liquidations": self.liquidations,
            "unnecessary_liquidations": self.unnecessary_liquidations,
            "closed_market_liquidations": self.closed_market_liquidations,
            "bad_debt_events": self.bad_debt_events,
            "worst_deficit": ({"usd": usd(self.worst_bad_debt[0]), "date": self.worst_bad_debt[1]}
                              if self.worst_bad_debt else None),
            "debt_repaid_by_liquidators_usd": usd(self.debt_repaid),
            "liquidation_penalty_usd": _usd(self.penalty),
            "unnecessary_penalty_usd": _usd(self.unnecessary_penalty),
            "mean_debt_usd": usd(mean_debt),
            "bad_debt_bps_of_mean_debt": (round(self.market_bad_debt * 10_000 / mean_debt_base, 2)
                                          if mean_debt_base else None),
            "deficit_bps_of_mean_debt": round(self.bad_debt * 10_000 / mean_debt, 2) if mean_debt else None,
            "mean_haircut_bps": round(self.haircut_bps_sum / self.closures, 1) if self.closures else 0.0,
            "accounts_wiped_out": self.accounts_wiped,
            "borrowers_replaced": self.replaced,
            "sessions": self.sessions,
            "closures": self.closures,
            "ltv_bps": self.parameters.ltv_bps if self.parameters else None,
            "liquidation_threshold_bps": self.parameters.liquidation_threshold_bps if self.parameters else None,
            "liquidation_bonus_bps": self.parameters.liquidation_bonus_bps if self.parameters else None,
            "timeline": [[day, *counts] for day, counts in self.timeline.items()],
            # the distribution: market bad debt of each closure that had any, largest first
            "closure_bad_debt_usd": [_usd(c[0]) for c in sorted(self.closure_costs.values(), key=lambda c: -c[0])
                                     if c[0] > 0],
            # only for own-market profiles, so every other profile's output is what it was
            **({"closed_token": self.closed_token} if self.closed_token is not None else {}),
        }


def _price(base: int) -> str:
    """8-decimal USD integer as an exact decimal string (a decision price, shown unrounded)."""
    return f"{base // PRICE_UNIT}.{base % PRICE_UNIT:08d}"


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
    except BarFileError as exc:  # already names the file, the line and what is wrong
        raise BacktestError(str(exc)) from None
    except (KeyError, ValueError, ArithmeticError) as exc:
        raise BacktestError(f"{path.name} is not a daily bar file ({exc}); expected a header {HEADER}") from None
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
    def __init__(self, bars: Bars, policy: Policy, shares_bps, deposit_usd: int, *, engine: str = engines.V3_3,
                 pool: PoolParameters | None = None, seize_at: str = "reference", profile: AssetParams | None = None,
                 seed: int | None = None):
        self.bars, self.policy, self.p = bars, policy, policy.parameters
        self.engine, self.pool, self.seize_at = engines.check_engine(engine), pool, check_seize_at(seize_at)
        self.deposit = deposit_usd * PRICE_UNIT
        self.borrowers = [_Borrower(share) for share in shares_bps]
        self.result = Result(policy.name, parameters=policy.parameters, engine=engine, seize_at=seize_at)
        self.profile = profile if own_book.own_market(profile) else None  # moment 5 runs only for these
        if self.profile is not None:
            if seed is None:
                raise BacktestError("an own-market profile's simulated token prices need a seed", field="seed")
            self.result.closed_token = {"closures": 0, "liquidations": 0, "lowest_vs_close_bps": None,
                                        "events": []}
        self.seed = seed
        self.closure: int | None = None  # the closure (its session index) liquidations are charged to now
        self.last_deficit = 0

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
        """The keeper on every account under water at this oracle price: engine steps until HF >= 1. The
        oracle price decides whether and how much; the seizure is counted at `seize_at`'s price."""
        r = self.result
        lt = self.p.liquidation_threshold_bps
        seize_price = market_price if self.seize_at == "reference" else oracle_price
        count = 0
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
                try:  # a keeper offers the whole debt, so v4's "covers less than needed" never arises
                    quote = engines.quote(
                        self.engine, pool=self.pool, liquidation_bonus_bps=self.p.liquidation_bonus_bps,
                        liquidation_threshold_bps=lt,
                        debt_to_cover=b.debt, user_reserve_debt=b.debt, debt_price=USDC_PRICE,
                        debt_decimals=DEBT_DECIMALS, user_collateral_balance=b.collateral,
                        collateral_price=oracle_price, collateral_decimals=COLL_DECIMALS,
                        protocol_fee_bps=self.p.protocol_fee_bps, seize_price=seize_price,
                        total_collateral_base=_value(b.collateral, oracle_price), total_debt_base=_debt_base(b.debt),
                        health_factor=hf)
                except DustError:
                    break
                taken = quote.collateral_to_liquidator + quote.protocol_fee
                taken_value = _value(taken, market_price)
                repaid_base = _debt_base(quote.debt_to_repay)
                penalty = taken_value - repaid_base
                bonus = quote.bonus_bps or self.p.liquidation_bonus_bps
                transferred = max(0, taken_value - percent_mul(repaid_base, bonus))  # beyond the bonus, at market
                # what the deficit would be had all the collateral been sold at the market price (with the bonus)
                shortfall = max(0, _debt_base(b.debt) - percent_div(_value(b.collateral, market_price), bonus))
                b.collateral -= taken
                b.debt -= quote.debt_to_repay
                r.liquidations += 1
                count += 1
                r.debt_repaid += quote.debt_to_repay
                r.penalty += penalty
                r.transferred += transferred
                market_loss = 0
                if closed:
                    r.closed_market_liquidations += 1
                    if unnecessary:
                        r.unnecessary_liquidations += 1
                        r.unnecessary_penalty += penalty
                if quote.has_no_collateral_left:  # LiquidationLogic: the rest of the debt is deficit
                    market_loss = shortfall if b.debt > 0 else 0
                    r.market_bad_debt += market_loss
                    self.deficit(b.debt, day)
                    b.debt = 0
                if self.closure is not None:
                    cost = r.closure_costs.setdefault(self.closure, [0, 0, 0, 0])
                    cost[0] += market_loss
                    cost[2] += 1
                    cost[3] += penalty
                    if quote.has_no_collateral_left:
                        cost[1] += self.last_deficit
                hf = _health_factor(b, oracle_price, lt)
            if not b.wiped and _value(b.collateral, market_price) < MIN_LEFTOVER_BASE:
                b.wiped = True  # under $1,000 of collateral left: replaced by a new borrower once its debt is gone
                r.accounts_wiped += 1
        if count:  # [at the open, after the gap; at the session's low; at the close, while closed]
            counts = r.timeline.setdefault(day.isoformat(), [0, 0, 0])
            counts[2 if closed else 0 if self.closure is not None else 1] += count

    def deficit(self, amount: int, day: date) -> None:
        r = self.result
        self.last_deficit = max(amount, 0)
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
        else:  # the gap lands at the open: charged to the closure that ended here
            for b in self.borrowers:  # an emptied account is replaced: a new borrower keeps the book exposed
                if _debt_base(b.debt) < DUST_DEBT_BASE and _value(b.collateral, o) < MIN_LEFTOVER_BASE:
                    b.collateral += self.deposit * 10**COLL_DECIMALS // o  # rounding leftovers stay with it
                    b.wiped = False
                    r.replaced += 1
            self.closure = t - 1
            self.liquidate(oracle_price=o, market_price=o, day=day, closed=False)
            self.closure = None
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
            self.closure = t
            self.liquidate(oracle_price=lower if self.policy.on_threshold else c, market_price=c, day=day,
                           closed=True, next_open=bars.open[t + 1])
            self.closure = None
        self.top_up(lower)
        r.debt_days += sum(b.debt for b in self.borrowers)
        if self.profile is not None and not self.policy.pause_when_closed and \
                own_book.has_token_market(self.profile, kind):
            self.own_market_low(t, threshold_price=lower if self.policy.on_threshold else c)

    def own_market_low(self, t: int, *, threshold_price: int) -> None:
        """Moment 5: the closure's lowest own-market token price. The oracle is the lower of the haircut
        reference (the threshold price of moment 4) and the token (core.profiles.effective_price's LOWER_OF rule);
        the seizure, and what it is worth, are counted at the token's price."""
        bars, info = self.bars, self.result.closed_token
        c, day = bars.close[t], bars.dates[t]
        low = own_book.token_low(self.profile, close=c, next_open=bars.open[t + 1], closed_on=day,
                                 opens_on=bars.dates[t + 1], sigma_daily=bars.sigma[t], seed=self.seed)
        oracle = min(threshold_price, low)
        ratio = low * 10_000 // c  # bps of the close, rounded down
        info["closures"] += 1
        info["lowest_vs_close_bps"] = ratio if info["lowest_vs_close_bps"] is None else \
            min(info["lowest_vs_close_bps"], ratio)
        before = self.result.liquidations
        self.closure = t
        self.liquidate(oracle_price=oracle, market_price=low, day=day, closed=True, next_open=bars.open[t + 1])
        self.closure = None
        count = self.result.liquidations - before
        if count:
            info["liquidations"] += count
            info["events"].append({"closed_from": day.isoformat(), "close_usd": _price(c), "token_low_usd": _price(low),
                                   "oracle_usd": _price(oracle), "liquidations": count})


def check_seize_at(seize_at: str) -> str:
    if seize_at not in SEIZE_AT:
        raise BacktestError(f"unknown seize-at {seize_at!r}; choose from {', '.join(SEIZE_AT)}", field="seize_at")
    return seize_at


def run(bars: Bars, policy: Policy, *, start: date, end: date, shares_bps=DEFAULT_SHARES_BPS,
        deposit_usd: int = DEPOSIT_USD, progress: Callable[[int], None] | None = None, engine: str = engines.V3_3,
        pool: PoolParameters | None = None, seize_at: str = "reference", profile: AssetParams | None = None,
        seed: int | None = None) -> Result:
    """Walk the sessions in [start, end] under one policy, one liquidation engine and one seize rule.

    `profile` is the asset's issuer profile (core.profiles.AssetParams); an own-market one adds moment 5 with
    token paths drawn from `seed` (required then). Any other profile, or none, ignores both."""
    check_range(bars, start=start, end=end)
    idx = [t for t, d in enumerate(bars.dates) if start <= d <= end]
    state = _Run(bars, policy, shares_bps, deposit_usd, engine=engine, pool=pool, seize_at=seize_at, profile=profile,
                 seed=seed)
    for n, t in enumerate(idx):
        state.session(t, first=n == 0, last=n == len(idx) - 1)
        if progress and (n + 1) % 250 == 0:
            progress(n + 1)
    if progress:
        progress(len(idx))
    return state.result

