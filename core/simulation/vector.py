"""A whole book stepped through a price path with numpy (no Django): health factors, liquidations by Aave v3.3 or
Aave v4 rules, deficits, unnecessary liquidations.

The exact engine (`core.aave.v3` / `core.aave.v4` through `core.aave.engines.quote`, integers) decides one
account at a time; this core decides every account of a step at once, in float64, for Monte Carlo and
benchmarks. `run_exact` is the same walk through the exact engine, loop by loop: the cross-check
(tests/core/simulation/test_vector.py) runs both on one book and path and finds the same accounts liquidated at
each step, with amounts within REL_TOLERANCE. Floats here are simulation statistics, never ledger amounts.

Units: collateral in whole tokens (N x A), debt in USD (one USDC debt per account, USDC at $1), prices in USD.

Which prices (DESIGN.md s2, "Which prices a liquidation uses"): eligibility, the v3.3 close factor's $2,000 test,
v4's target and variable bonus use the health factor at the oracle's *effective* prices (haircut included);
the debt repaid is converted into collateral at the *seize* price (the reference price by default); what the
liquidator received and what is left are valued at the *market* price. A refused price (zero, negative, NaN: a
feed reading zero) is never used: the oracle keeps its last good price and liquidations against that collateral
wait (AaveOracle falls back rather than read a zero), so a broken feed can never hand out collateral for free.

Per step, the keeper repeats, as `lending/liquidation.py` does, while HF < 1 (at most MAX_STEPS times): of the
account's collaterals not blocked, the one whose liquidation pays the keeper most (collateral received at the
market price minus debt repaid, compared in whole cents; a tie goes to the larger repayment, then to the first
asset), at the largest amount the engine allows; a v3.3 quote that would leave dust is
skipped (DustError). When the account's last collateral is gone, the rest of its debt is deficit (bad debt).

Speed: the book's liquidation-threshold-weighted collateral value is one matrix product per block of steps
(N x A times A x B); a step is looked at only if some account could be under water in it, and after a
liquidation only that account's rows are recomputed. `hf_screen` is the same product with nothing else: the
lower bound the benchmark compares against.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from core.aave import engines
from core.aave.v3 import (
    CLOSE_FACTOR_HF_THRESHOLD,
    DEFAULT_LIQUIDATION_CLOSE_FACTOR,
    MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD,
    MIN_LEFTOVER_BASE,
    DustError,
    PositionValue,
    calculate_account_data,
)
from core.aave.v4 import PoolParameters, validate_collateral
from core.aave.wadray import PERCENTAGE_FACTOR, WAD

MAX_STEPS = 20  # keeper repetitions per account and price step (as the backtest and the keeper)
# Stated tolerance of the float core against the integer engine: amounts agree within this relative error
# (inputs on the engine's grid: 8-decimal prices, 6-decimal debt). Decisions (who is liquidated, which
# collateral, deficit or not) agree except within ~1e-12 of a threshold (HF = 1, $1,000 dust, $2,000 close factor,
# an integer-bps bonus boundary), which a random book does not hit.
REL_TOLERANCE = 1e-6
ABS_TOLERANCE_USD = 1e-6
PRICE_UNIT, COLL_DECIMALS, DEBT_DECIMALS = 10**8, 18, 6
CENT = PRICE_UNIT // 100  # the keeper compares profits in whole cents (base units of 1e-8 USD)
CLOSE_FACTOR_USD = MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD / PRICE_UNIT  # $2,000
DUST_USD = MIN_LEFTOVER_BASE / PRICE_UNIT  # $1,000 (v3.3 MIN_LEFTOVER_BASE; v4 DUST_LIQUIDATION_THRESHOLD)
CF_HF = CLOSE_FACTOR_HF_THRESHOLD / WAD  # 0.95
CLOSE_FACTOR = DEFAULT_LIQUIDATION_CLOSE_FACTOR / PERCENTAGE_FACTOR  # 50%
_EPS = 1e-9


@dataclass(frozen=True)
class Reserves:
    """The collateral reserves' risk parameters (bps), one entry per asset column."""

    symbols: tuple[str, ...]
    ltv_bps: tuple[int, ...]
    liquidation_threshold_bps: tuple[int, ...]
    liquidation_bonus_bps: tuple[int, ...]  # under v4: the maximum bonus B_max
    protocol_fee_bps: tuple[int, ...]

    def __post_init__(self):
        n = len(self.symbols)
        if not all(len(x) == n for x in (self.ltv_bps, self.liquidation_threshold_bps, self.liquidation_bonus_bps,
                                         self.protocol_fee_bps)):
            raise ValueError("every parameter needs one value per asset")

    @classmethod
    def uniform(cls, symbols, *, ltv_bps: int, liquidation_threshold_bps: int, liquidation_bonus_bps: int,
                protocol_fee_bps: int = 1_000) -> Reserves:
        n = len(symbols)
        return cls(tuple(symbols), (ltv_bps,) * n, (liquidation_threshold_bps,) * n, (liquidation_bonus_bps,) * n,
                   (protocol_fee_bps,) * n)

    def arrays(self):
        return tuple(np.asarray(x, dtype=np.float64) for x in (
            self.ltv_bps, self.liquidation_threshold_bps, self.liquidation_bonus_bps, self.protocol_fee_bps))


@dataclass
class Book:
    """N accounts: collateral (N x A, whole tokens) and USDC debt (N, USD)."""

    collateral: np.ndarray
    debt: np.ndarray

    def __post_init__(self):
        self.collateral = np.asarray(self.collateral, dtype=np.float64)
        self.debt = np.asarray(self.debt, dtype=np.float64)
        if self.collateral.ndim != 2 or self.debt.shape != (self.collateral.shape[0],):
            raise ValueError("collateral must be N x A and debt N")
        if (self.collateral < 0).any() or (self.debt < 0).any():
            raise ValueError("balances cannot be negative")


@dataclass(frozen=True)
class OracleView:
    """What the keeper sees at each of T steps, per asset (T x A): see the module docstring for which is which."""

    effective: np.ndarray
    seize: np.ndarray
    market: np.ndarray
    closed: np.ndarray  # the regular market is shut (or its status unknown)
    blocked: np.ndarray  # liquidations against this collateral wait (paused while closed, refused price)
    rebase: np.ndarray | None = None  # balances multiplied by this at the step (a split: N tokens for one), else 1

    @property
    def shape(self):
        return self.effective.shape


def _forward_fill(prices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Refuse non-positive or non-finite prices: keep the last good one. Returns (prices, refused mask)."""
    prices = np.asarray(prices, dtype=np.float64)
    refused = ~np.isfinite(prices) | (prices <= 0)
    if refused[0].any():
        raise ValueError("the first step needs a valid price for every asset")
    if not refused.any():
        return prices, refused
    idx = np.where(refused, 0, np.arange(prices.shape[0])[:, None])
    np.maximum.accumulate(idx, axis=0, out=idx)
    return np.take_along_axis(prices, idx, axis=0), refused


def oracle_view(*, reference: np.ndarray, closed: np.ndarray, haircut_bps: np.ndarray | None = None,
                haircut_on_threshold: bool = True, pause_when_closed: bool = False,
                token: np.ndarray | None = None, seize_at: str = "reference", market: np.ndarray | None = None,
                rebase: np.ndarray | None = None) -> OracleView:
    """The keeper's prices from a path's reference prices and a policy's haircuts (T x A, bps, 0 while open).

    seize_at: "reference" (DESIGN.md s2), "token" (the token's own market price, for a profile that has one) or
    "haircut" (the old rule, kept to compare: the haircut price both decides and prices the seizure).
    `market` (default: the reference, or the token price under seize_at="token") is the true price that values
    what changed hands and what is left (bad debt at market prices), e.g. while a feed is stuck."""
    reference, refused = _forward_fill(reference)
    closed = np.asarray(closed, dtype=bool)
    cut = np.zeros_like(reference) if haircut_bps is None else np.asarray(haircut_bps, dtype=np.float64)
    if ((cut < 0) | (cut > PERCENTAGE_FACTOR)).any():
        raise ValueError("haircuts must be within 0..10000 bps")
    lowered = reference * (1 - cut / PERCENTAGE_FACTOR)
    effective = lowered if haircut_on_threshold else reference
    if token is None:
        token_prices, token_refused = reference, refused
    else:
        token_prices, token_refused = _forward_fill(token)
    if market is None:
        market = token_prices if seize_at == "token" else reference
    else:
        market, _ = _forward_fill(market)
    seize = {"reference": reference, "token": token_prices, "haircut": effective}.get(seize_at)
    if seize is None:
        raise ValueError("seize_at is one of reference, token, haircut")
    blocked = refused | (token_refused if seize_at == "token" else False)
    if pause_when_closed:
        blocked = blocked | closed
    if rebase is not None:
        rebase = np.asarray(rebase, dtype=np.float64)
        if not (np.isfinite(rebase) & (rebase > 0)).all():
            raise ValueError("a rebase factor must be positive")
    return OracleView(effective, seize, market, closed, blocked, rebase)


@dataclass
class Outcome:
    """What one path did to the book (USD, floats: statistics)."""

    borrowed_usd: float = 0.0  # the book's debt at the start
    bad_debt_usd: float = 0.0  # deficits: debt left when an account's last collateral is gone
    deficit_events: int = 0
    liquidations: int = 0  # liquidation calls
    liquidated_accounts: int = 0
    unnecessary_liquidations: int = 0
    closed_market_liquidations: int = 0
    debt_repaid_usd: float = 0.0
    collateral_seized_usd: float = 0.0  # at market prices, fee included
    protocol_fees_usd: float = 0.0
    transferred_to_liquidators_usd: float = 0.0  # received at market beyond the bonus (seizing below market)
    latent_bad_debt_usd: float = 0.0  # at the end: debt beyond collateral at market, not (yet) written off
    events: list | None = field(default=None, repr=False)

    def as_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k != "events"}
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in out.items()}


def _next_open_prices(market: np.ndarray, closed: np.ndarray, rebase: np.ndarray | None = None) -> np.ndarray:
    """Per step and asset, the market price at the next step (strictly later) when that asset's market is open;
    the last price if it never reopens in the path. Per token held now: a split in between (N tokens for one at
    1/N of the price) is undone, so it never reads as a fall."""
    T = market.shape[0]
    idx = np.where(closed, T, np.arange(T)[:, None])
    idx = np.minimum.accumulate(idx[::-1], axis=0)[::-1]  # first open step at or after t
    nxt = np.empty_like(idx)
    nxt[:-1] = idx[1:]
    nxt[-1] = T
    nxt = np.minimum(nxt, T - 1)
    prices = np.take_along_axis(market, nxt, axis=0)
    if rebase is not None:
        held = np.cumprod(rebase, axis=0)
        prices = prices * np.take_along_axis(held, nxt, axis=0) / held
    return prices


def _account_hf(coll: np.ndarray, debt: np.ndarray, prices: np.ndarray, lt: np.ndarray):
    """GenericLogic: total collateral, average LT (floored to bps) and HF, for rows of a book at one price row."""
    value = coll * prices
    total = value.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        avg_lt = np.floor((value * lt).sum(axis=1) / total + _EPS)
        avg_lt = np.where(total > 0, avg_lt, 0.0)
        hf = np.where(debt > 0, total * avg_lt / PERCENTAGE_FACTOR / np.where(debt > 0, debt, 1.0), np.inf)
    return value, total, hf


class _Walk:
    def __init__(self, book: Book, reserves: Reserves, view: OracleView, engine: str, pool, record: bool):
        engines.check_engine(engine)
        T, A = view.shape
        if book.collateral.shape[1] != A or len(reserves.symbols) != A:
            raise ValueError("the book, the reserves and the path must name the same assets")
        self.ltv, self.lt, self.bonus, self.fee = reserves.arrays()
        if engine == engines.V4:
            pool = pool or PoolParameters()
            for b, cf in zip(reserves.liquidation_bonus_bps, reserves.liquidation_threshold_bps):
                validate_collateral(max_bonus_bps=b, collateral_factor_bps=cf)
            self.T = pool.target_health_factor / WAD
            self.f = pool.liquidation_bonus_factor_bps / PERCENTAGE_FACTOR
            self.hmax = pool.health_factor_for_max_bonus / WAD
            # B_min = 100% + (B_max - 100%) * f, rounded down (Aave v4 LiquidationLogic)
            self.bmin = np.floor((self.bonus - PERCENTAGE_FACTOR) * pool.liquidation_bonus_factor_bps
                                 / PERCENTAGE_FACTOR) + PERCENTAGE_FACTOR
        self.engine, self.view = engine, view
        self.coll, self.debt = book.collateral.copy(), book.debt.copy()
        self.next_open = _next_open_prices(view.market, view.closed, view.rebase)
        self.out = Outcome(borrowed_usd=float(self.debt.sum()), events=[] if record else None)
        self.touched = np.zeros(len(self.debt), dtype=bool)

    # --- quotes for every (row, collateral asset) pair at once ---------------------------------------------

    def _quotes(self, c, d, value, total, hf, t):
        """(debt repaid, collateral seized incl. fee, fee, bonus bps, valid) for each row x asset."""
        v = self.view
        seize, bonus = v.seize[t], self.bonus
        dd = d[:, None]
        if self.engine == engines.V3_3:
            # LiquidationLogic (v3.3): 50% of the total debt only when both reserves are worth >= $2,000 and
            # HF > 0.95; else 100% (one debt reserve: total debt = this reserve's debt)
            half = (value >= CLOSE_FACTOR_USD) & (dd >= CLOSE_FACTOR_USD) & (hf[:, None] > CF_HF)
            repay = np.where(half, dd * CLOSE_FACTOR, dd)
            b = np.broadcast_to(bonus, c.shape)
            seized = repay / seize * (b / PERCENTAGE_FACTOR)
            over = seized > c
            seized = np.where(over, c, seized)
            repay = np.where(over, c * seize / (b / PERCENTAGE_FACTOR), repay)
            dust = (repay < dd) & (seized < c) & (((dd - repay) < DUST_USD) | ((c - seized) * seize < DUST_USD))
            fee = (seized - seized / (b / PERCENTAGE_FACTOR)) * (self.fee / PERCENTAGE_FACTOR)
        else:
            # Aave v4 LiquidationLogic: variable bonus, debt to the target HF, dust rules
            h = hf[:, None]
            ramp = np.floor((bonus - self.bmin) * (1 - h) / (1 - self.hmax) + _EPS)
            b = np.where(h <= self.hmax, bonus, self.bmin + ramp)
            penalty = b * self.lt / PERCENTAGE_FACTOR**2
            with np.errstate(divide="ignore", invalid="ignore"):
                to_target = dd * (self.T - h) / (self.T - penalty)
            repay = np.minimum(dd, to_target)
            repay = np.where(dd - repay < DUST_USD, dd, repay)
            seized = repay * (b / PERCENTAGE_FACTOR) / seize
            leaves_dust = (seized < c) & ((c - seized) * seize < DUST_USD)
            all_of_it = (seized > c) | (leaves_dust & (repay < dd))
            seized = np.where(all_of_it, c, seized)
            repay = np.where(all_of_it, c * seize / (b / PERCENTAGE_FACTOR), repay)
            dust = np.zeros(c.shape, dtype=bool)
            fee = seized * (self.fee / PERCENTAGE_FACTOR) * (b - PERCENTAGE_FACTOR) / b
        valid = (c > 0) & (self.lt > 0) & ~v.blocked[t] & ~dust
        return repay, seized, fee, b, valid

    def step(self, t: int, rows: np.ndarray) -> np.ndarray:
        """The keeper at step t on these rows (candidates); returns the rows whose balances changed."""
        v, out = self.view, self.out
        eff, mkt = v.effective[t], v.market[t]
        changed = []
        necessary = None
        for rnd in range(MAX_STEPS):
            c, d = self.coll[rows], self.debt[rows]
            value, total, hf = _account_hf(c, d, eff, self.lt)
            live = (d > 0) & (total > 0) & (hf < 1)
            if rnd == 0:
                # unnecessary: as it stood, the account would be healthy at the next open with no haircut
                _, _, hf_next = _account_hf(c, d, self.next_open[t], self.lt)
                necessary = hf_next < 1
            if not live.all():
                rows, c, d, value, total, hf = rows[live], c[live], d[live], value[live], total[live], hf[live]
                necessary = necessary[live]
            if not len(rows):
                break
            repay, seized, fee, bonus, valid = self._quotes(c, d, value, total, hf, t)
            # the keeper's choice: most profit, then most debt repaid, in whole cents (as run_exact: sub-cent
            # differences are rounding noise, e.g. two collaterals with the same bonus), then the first asset
            profit = np.where(valid, np.floor(((seized - fee) * mkt - repay) * 100 + _EPS), -np.inf)
            top = profit == profit.max(axis=1, keepdims=True)
            best = np.argmax(np.where(top & valid, np.floor(repay * 100 + _EPS), -np.inf), axis=1)
            ok = valid[np.arange(len(rows)), best]
            if not ok.all():
                rows, c, d, value, total, best = rows[ok], c[ok], d[ok], value[ok], total[ok], best[ok]
                repay, seized, fee, bonus, necessary = repay[ok], seized[ok], fee[ok], bonus[ok], necessary[ok]
            if not len(rows):
                break
            k = np.arange(len(rows))
            r, s, f, b = repay[k, best], seized[k, best], fee[k, best], bonus[k, best]
            left = c[k, best] - s
            all_gone = (left <= 0) & (total - value[k, best] <= 0)  # the account's last collateral is gone
            left = np.where(s >= c[k, best], 0.0, left)
            self.coll[rows, best] = left
            debt_left = d - r
            deficit = np.where(all_gone, np.maximum(debt_left, 0.0), 0.0)
            self.debt[rows] = np.where(all_gone, 0.0, np.maximum(debt_left, 0.0))
            price = mkt[best]
            closed = v.closed[t, best]
            out.liquidations += len(rows)
            out.closed_market_liquidations += int(closed.sum())
            out.unnecessary_liquidations += int((closed & ~necessary).sum())
            out.debt_repaid_usd += float(r.sum())
            out.collateral_seized_usd += float((s * price).sum())
            out.protocol_fees_usd += float((f * price).sum())
            out.transferred_to_liquidators_usd += float(np.maximum(s * price - r * b / PERCENTAGE_FACTOR, 0).sum())
            out.bad_debt_usd += float(deficit.sum())
            out.deficit_events += int((deficit > 0).sum())
            self.touched[rows] = True
            if out.events is not None:
                out.events.extend(zip([t] * len(rows), rows.tolist(), best.tolist(), r.tolist(), s.tolist(),
                                      f.tolist(), deficit.tolist()))
            changed.append(rows)
            rows = rows[~all_gone]
            necessary = necessary[~all_gone]
        return np.unique(np.concatenate(changed)) if changed else np.zeros(0, dtype=np.int64)

    def finish(self) -> Outcome:
        last = self.view.market[-1]
        self.out.latent_bad_debt_usd = float(np.maximum(self.debt - (self.coll * last).sum(axis=1), 0).sum())
        self.out.liquidated_accounts = int(self.touched.sum())
        return self.out


def _distinct_steps(view: OracleView) -> np.ndarray:
    """Steps whose prices or flags differ from the step before. A step identical to its predecessor changes
    nothing: after the previous step every account was healthy or had nothing liquidatable (blocked, dust), and
    the same prices and flags give the same answer. Closed hours with a frozen reference price are most of a
    year of hourly bars."""
    same = np.ones(view.shape[0], dtype=bool)
    same[0] = False
    for a in (view.effective, view.seize, view.market, view.closed, view.blocked):
        same[1:] &= (a[1:] == a[:-1]).all(axis=1)
    if view.rebase is not None:
        same &= (view.rebase == 1).all(axis=1)
    return np.flatnonzero(~same)


SCREEN_SLACK = 1e-5  # float32 screen: candidates are re-checked in float64, so err on the side of too many


def run(book: Book, reserves: Reserves, view: OracleView, *, engine: str = engines.V3_3,
        pool: PoolParameters | None = None, record: bool = False, block: int = 128) -> Outcome:
    """Walk the book through every step of the view. `record` keeps each liquidation as
    (step, account, asset, debt repaid, collateral seized incl. fee, fee, deficit)."""
    walk = _Walk(book, reserves, view, engine, pool, record)
    lt = walk.lt / PERCENTAGE_FACTOR
    positive = walk.lt[walk.lt > 0]
    # floor(average LT) is at most 1 bps below the unfloored average: screen with that margin
    margin = (1 - 1 / positive.min() if len(positive) else 1.0) * (1 - SCREEN_SLACK)
    coll32 = walk.coll.astype(np.float32)
    steps = _distinct_steps(view)
    for b0 in range(0, len(steps), block):
        idx = steps[b0:b0 + block]
        eff_lt = (view.effective[idx] * lt * margin).T.astype(np.float32)  # A x B
        debt32 = walk.debt.astype(np.float32)[:, None]
        cand = (coll32 @ eff_lt) < debt32  # N x B; zero debt is never a candidate
        cols = cand.any(axis=0)
        for j in range(len(idx)):  # cols grows as liquidations change rows: test it step by step
            if view.rebase is not None and (view.rebase[idx[j]] != 1).any():
                walk.coll *= view.rebase[idx[j]]  # a split: N tokens for each one held, before anything else
                coll32 = walk.coll.astype(np.float32)
                debt32 = walk.debt.astype(np.float32)[:, None]
                cand[:, j:] = (coll32 @ eff_lt[:, j:]) < debt32
                cols[j:] = cand[:, j:].any(axis=0)
            if not cols[j]:
                continue
            rows = np.flatnonzero(cand[:, j])
            if not len(rows):
                continue
            changed = walk.step(int(idx[j]), rows)
            if len(changed):
                coll32[changed] = walk.coll[changed]
                if j + 1 < len(idx):
                    sub = (coll32[changed] @ eff_lt[:, j + 1:]) < walk.debt[changed, None].astype(np.float32)
                    cand[changed, j + 1:] = sub
                    cols[j + 1:] |= sub.any(axis=0)
    return walk.finish()


def hf_screen(book: Book, reserves: Reserves, view: OracleView, *, block: int = 128) -> int:
    """The numpy lower bound: every account's LT-weighted collateral against its debt at every distinct step (as
    `run` walks them), nothing else: no liquidation, no re-check. Returns the (account, step) pairs under water."""
    _, lt, _, _ = reserves.arrays()
    lt = lt / PERCENTAGE_FACTOR
    coll32, debt32 = book.collateral.astype(np.float32), book.debt.astype(np.float32)[:, None]
    steps = _distinct_steps(view)
    under = 0
    for b0 in range(0, len(steps), block):
        eff_lt = (view.effective[steps[b0:b0 + block]] * lt).T.astype(np.float32)
        under += int(np.count_nonzero((coll32 @ eff_lt) < debt32))
    return under


# --- the same walk through the exact integer engine (the reference the float core is checked against) ------

def _int_price(p: float) -> int:
    return int(round(float(p) * PRICE_UNIT))


def run_exact(book: Book, reserves: Reserves, view: OracleView, *, engine: str = engines.V3_3,
              pool: PoolParameters | None = None, record: bool = False, accounts=None, steps=None) -> Outcome:
    """`run`, one account and one liquidation at a time through core.aave.engines.quote on integers (18-decimal
    collateral, 6-decimal USDC, 8-decimal prices). Slow by design: the cross-check and the benchmark's baseline.
    `accounts` / `steps` restrict the walk to a sample (the benchmark extrapolates from it)."""
    engines.check_engine(engine)
    T, A = view.shape
    accounts = range(len(book.debt)) if accounts is None else accounts
    steps = range(T) if steps is None else steps
    out = Outcome(events=[] if record else None)
    coll = {i: [int(round(float(x) * 10**COLL_DECIMALS)) for x in book.collateral[i]] for i in accounts}
    debt = {i: int(round(float(book.debt[i]) * 10**DEBT_DECIMALS)) for i in accounts}
    out.borrowed_usd = sum(debt.values()) / 10**DEBT_DECIMALS
    next_open = _next_open_prices(view.market, view.closed, view.rebase)
    touched = set()
    for t in steps:
        if view.rebase is not None and (view.rebase[t] != 1).any():
            for i in accounts:
                coll[i] = [int(round(c * float(f))) for c, f in zip(coll[i], view.rebase[t])]
        eff = [_int_price(p) for p in view.effective[t]]
        seize = [_int_price(p) for p in view.seize[t]]
        mkt = [_int_price(p) for p in view.market[t]]
        nxt = [_int_price(p) for p in next_open[t]]
        blocked = view.blocked[t]
        for i in accounts:
            necessary = None
            for _ in range(MAX_STEPS):
                if not debt[i]:
                    break
                data = _exact_data(coll[i], debt[i], eff, reserves)
                if data.health_factor >= WAD or not data.total_collateral_base:
                    break
                if necessary is None:
                    necessary = _exact_data(coll[i], debt[i], nxt, reserves).health_factor < WAD
                best = None
                for a in range(A):
                    if not coll[i][a] or not reserves.liquidation_threshold_bps[a] or blocked[a]:
                        continue
                    try:
                        q = engines.quote(
                            engine, pool=pool, liquidation_bonus_bps=reserves.liquidation_bonus_bps[a],
                            liquidation_threshold_bps=reserves.liquidation_threshold_bps[a],
                            debt_to_cover=debt[i], user_reserve_debt=debt[i], debt_price=PRICE_UNIT,
                            debt_decimals=DEBT_DECIMALS, user_collateral_balance=coll[i][a],
                            collateral_price=eff[a], collateral_decimals=COLL_DECIMALS,
                            protocol_fee_bps=reserves.protocol_fee_bps[a],
                            total_collateral_base=data.total_collateral_base, total_debt_base=data.total_debt_base,
                            health_factor=data.health_factor, seize_price=seize[a])
                    except DustError:
                        continue
                    repaid = q.debt_to_repay * PRICE_UNIT // 10**DEBT_DECIMALS
                    profit = q.collateral_to_liquidator * mkt[a] // 10**COLL_DECIMALS - repaid
                    key = (profit // CENT, repaid // CENT)  # whole cents; ties go to the first asset
                    if best is None or key > best[0]:
                        best = (key, a, q)
                if best is None:
                    break
                _, a, q = best
                seized = q.collateral_seized
                coll[i][a] -= seized
                debt[i] -= q.debt_to_repay
                deficit = 0
                if q.has_no_collateral_left:
                    deficit, debt[i] = debt[i], 0
                touched.add(i)
                price = mkt[a] / PRICE_UNIT
                s_tokens = seized / 10**COLL_DECIMALS
                r_usd = q.debt_to_repay / 10**DEBT_DECIMALS
                out.liquidations += 1
                if view.closed[t, a]:
                    out.closed_market_liquidations += 1
                    out.unnecessary_liquidations += int(not necessary)
                out.debt_repaid_usd += r_usd
                out.collateral_seized_usd += s_tokens * price
                out.protocol_fees_usd += q.protocol_fee / 10**COLL_DECIMALS * price
                out.transferred_to_liquidators_usd += max(s_tokens * price - r_usd * q.bonus_bps / PERCENTAGE_FACTOR,
                                                          0.0)
                out.bad_debt_usd += deficit / 10**DEBT_DECIMALS
                out.deficit_events += int(deficit > 0)
                if out.events is not None:
                    out.events.append((t, i, a, r_usd, s_tokens, q.protocol_fee / 10**COLL_DECIMALS,
                                       deficit / 10**DEBT_DECIMALS))
    last = [_int_price(p) for p in view.market[-1]]
    out.latent_bad_debt_usd = sum(max(debt[i] / 10**DEBT_DECIMALS - sum(
        coll[i][a] / 10**COLL_DECIMALS * last[a] / PRICE_UNIT for a in range(A)), 0.0) for i in accounts)
    out.liquidated_accounts = len(touched)
    return out


def _exact_data(coll: list[int], debt: int, prices: list[int], reserves: Reserves):
    positions = [PositionValue(symbol=s, decimals=COLL_DECIMALS, price=p, supplied=c, collateral=True,
                               ltv_bps=ltv, liquidation_threshold_bps=lt)
                 for s, p, c, ltv, lt in zip(reserves.symbols, prices, coll, reserves.ltv_bps,
                                             reserves.liquidation_threshold_bps)]
    positions.append(PositionValue(symbol="USDC", decimals=DEBT_DECIMALS, price=PRICE_UNIT, borrowed=debt))
    return calculate_account_data(positions)


# --- books ------------------------------------------------------------------------------------------------------

def random_book(n: int, reserves: Reserves, prices: np.ndarray, *, rng: np.random.Generator,
                max_assets: int = 3, share_low: float = 0.80, share_high: float = 1.0,
                deposit_median_usd: float = 20_000.0) -> Book:
    """N borrowers, each with 1..max_assets collateral assets (deposits lognormal around the median, in USD), and
    USDC debt at a share of its borrowing power (LTV) drawn uniformly in [share_low, share_high]. Debt is rounded
    to whole cents, collateral to 1e-9 tokens, so the exact engine reads the same book."""
    A = len(reserves.symbols)
    prices = np.asarray(prices, dtype=np.float64)
    k = rng.integers(1, min(max_assets, A) + 1, size=n)
    order = np.argsort(rng.random((n, A)), axis=1)
    held = np.zeros((n, A), dtype=bool)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(A)[None, :].repeat(n, 0), axis=1)
    held = ranks < k[:, None]
    usd = rng.lognormal(math.log(deposit_median_usd), 1.0, size=(n, A)) * held
    coll = np.round(usd / prices, 9)
    ltv, _, _, _ = reserves.arrays()
    power = (coll * prices * ltv / PERCENTAGE_FACTOR).sum(axis=1)
    share = rng.uniform(share_low, share_high, size=n)
    debt = np.floor(power * share * 100) / 100
    return Book(coll, debt)
