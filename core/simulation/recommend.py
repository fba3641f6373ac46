"""A recommended LTV and liquidation threshold per engine and closed-market policy (no Django).

The question: the highest LTV and threshold (with the reserve's bonus) that keep bad debt under a target share
of borrows at a confidence level across scenarios, and the unnecessary liquidations that choice costs.

Scenarios: the historical replay of [start, end], plus `paths` simulated paths drawn by a seeded block
bootstrap of the asset's own sessions in that window (blocks of BLOCK consecutive sessions keep the volatility
clusters; each session carries its close->open gap with the gap's closure kind, and its open->low and
open->close moves). The calibrated haircut follows each path's own EWMA sigma, so a simulated sell-off widens it.

Screen fast, confirm exactly: every candidate (LTV, LT) is screened at once by `screen`, a float64 walk of the
backtest's borrowers (core.simulation.backtest's four moments a session, top-ups, Aave v3.3 or v4 liquidations,
deficit) vectorised over scenarios x candidates x borrowers; the chosen parameters are then re-run through the
exact integer engine on the historical replay (the caller does that: core.simulation.backtest.run).

Per scenario, bad debt is the market-price bad debt (backtest's `bad_debt_usd`) as a fraction of the mean debt
carried into closures. A candidate passes when the `confidence` quantile of that fraction across scenarios
(numpy's "higher" method: with 25 scenarios, the 99% level is the worst one) is at most `target`. Among passing
candidates: the highest LTV, then the highest LT. The headline across engines and policies: within one grid step
(LT_STEP) of the highest passing LTV, the one with the fewest unnecessary liquidations. Candidates obey
PoolConfigurator's rules (LTV <= LT, percentMul(LT, bonus) <= 100%; under v4 percentMulUp(bonus, LT) < 100%
strictly).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.aave import engines
from core.aave.v4 import PoolParameters, percent_mul_up
from core.aave.wadray import PERCENTAGE_FACTOR, percent_mul
from core.haircut import calibrated as haircut

from . import backtest

DEFAULT_TARGET = 0.001  # 0.1% of borrows
DEFAULT_CONFIDENCE = 0.99
DEFAULT_PATHS = 19  # + history = 20 scenarios
BLOCK = 20  # sessions per bootstrap block (about a month)
LT_STEP = 250
LT_MIN = 4_000  # Kamino's lowest listed threshold (HOODx, MSTRx)
GAPS_BPS = (500, 1_000, 1_500)  # LT - LTV candidates
SCREEN_SHARES_BPS = backtest.DEFAULT_SHARES_BPS  # the exact run's population: bad debt depends on it
DUST = 1_000.0
CLOSE_FACTOR_MIN = 2_000.0
MAX_STEPS = backtest.MAX_STEPS
# the policies a recommendation screens: `kamino` runs `none`'s mechanics at Kamino's own parameters, so its
# figures are the comparison, not a policy of its own
SCREENED = ("none", "fixed", "calibrated", "pause_when_closed")


@dataclass(frozen=True)
class Paths:
    """Scenario prices in USD (float), shape (S, T): row 0 is history. kind[s][t] is the closure after t."""

    open: np.ndarray
    low: np.ndarray
    close: np.ndarray
    sigma: np.ndarray
    kind: list[list[str | None]]

    @property
    def scenarios(self) -> int:
        return self.open.shape[0]


def valid(ltv: int, lt: int, bonus: int, engine: str) -> bool:
    """PoolConfigurator's rules (LTV <= LT, LT x bonus <= 100%), and Aave v4's strict B_max x CF < 100%."""
    if not 0 < ltv <= lt <= PERCENTAGE_FACTOR or bonus <= PERCENTAGE_FACTOR:
        return False
    if percent_mul(lt, bonus) > PERCENTAGE_FACTOR:
        return False
    return engine != engines.V4 or percent_mul_up(bonus, lt) < PERCENTAGE_FACTOR


def candidates(bonus: int, engine: str, extra: tuple[tuple[int, int], ...] = ()) -> list[tuple[int, int]]:
    """(LTV, LT) pairs on a grid of LT_STEP bps, every one valid for this bonus and engine."""
    out = []
    for lt in range(LT_MIN, PERCENTAGE_FACTOR + 1, LT_STEP):
        for gap in GAPS_BPS:
            if valid(lt - gap, lt, bonus, engine):
                out.append((lt - gap, lt))
    for pair in extra:
        if pair not in out and valid(*pair, bonus, engine):
            out.append(pair)
    return out


def build_paths(bars: backtest.Bars, *, start, end, paths: int, rng: np.random.Generator) -> Paths:
    """History in [start, end] plus `paths` block-bootstrap paths of the same length from those sessions."""
    idx = [t for t, d in enumerate(bars.dates) if start <= d <= end]
    first = idx[0]
    o = np.asarray(bars.open, dtype=float) / backtest.PRICE_UNIT
    lo = np.asarray(bars.low, dtype=float) / backtest.PRICE_UNIT
    c = np.asarray(bars.close, dtype=float) / backtest.PRICE_UNIT
    n = len(idx)
    opens, lows, closes = [o[idx]], [lo[idx]], [c[idx]]
    sigmas = [np.asarray([bars.sigma[t] for t in idx])]
    kinds = [[bars.kind[t] for t in idx[:-1]] + [None]]
    # sessions that have a previous close: each brings (gap into it, its kind, open->low, open->close)
    pool_idx = np.asarray([t for t in idx if t >= 1])
    gap = o[pool_idx] / c[pool_idx - 1]
    down = lo[pool_idx] / o[pool_idx]
    move = c[pool_idx] / o[pool_idx]
    gap_kind = [bars.kind[t - 1] for t in pool_idx]
    prefix = c[max(0, first - 250):first]  # real closes before start warm the path's sigma (no look-ahead)
    for _ in range(paths):
        picks: list[int] = []
        while len(picks) < n:
            b = int(rng.integers(0, max(1, len(pool_idx) - BLOCK + 1)))
            picks.extend(range(b, min(b + BLOCK, len(pool_idx))))
        picks = np.asarray(picks[:n])
        po, plo, pc = np.empty(n), np.empty(n), np.empty(n)
        prev = c[first - 1] if first >= 1 else o[first]
        for j, k in enumerate(picks):
            po[j] = prev * gap[k]
            plo[j] = po[j] * down[k]
            pc[j] = po[j] * move[k]
            prev = pc[j]
        po[0] = o[first]  # every scenario starts from the real first open: the same deposits
        plo[0], pc[0] = po[0] * down[picks[0]], po[0] * move[picks[0]]
        opens.append(po)
        lows.append(plo)
        closes.append(pc)
        sig = haircut.ewma_sigma(np.concatenate([prefix, pc]))[len(prefix):]
        sigmas.append(sig)
        kinds.append([gap_kind[k] for k in picks[1:]] + [None])
    return Paths(np.vstack(opens), np.vstack(lows), np.vstack(closes), np.vstack(sigmas), kinds)


@dataclass
class Screen:
    """Per scenario x candidate (S, C): the figures of one screened walk."""

    bad_debt: np.ndarray  # USD at market prices
    deficit: np.ndarray  # USD the protocol books
    mean_debt: np.ndarray  # USD carried into closures, per session
    liquidations: np.ndarray
    unnecessary: np.ndarray


def screen(paths: Paths, policy: backtest.Policy, pairs: list[tuple[int, int]], *, engine: str,
           pool: PoolParameters | None = None, seize_at: str = "reference", shares_bps=SCREEN_SHARES_BPS,
           deposit_usd: int = backtest.DEPOSIT_USD, progress: Callable[[int], None] | None = None) -> Screen:
    """The backtest's walk (core.simulation.backtest._Run.session) in float64 over every scenario, candidate and
    borrower at once. Liquidation amounts follow Aave v3.3 (close factor, $2,000 rule, dust refusal) or v4
    (target HF, variable bonus, dust rules) as core.aave does them, without integer rounding. Accounts are one
    flat array (scenario-major, then candidate, then borrower); a moment touches only the accounts under water."""
    engines.check_engine(engine)
    pool = pool or PoolParameters()
    S, T = paths.open.shape
    C, B = len(pairs), len(shares_bps)
    N = S * C * B
    grid = np.indices((S, C, B)).reshape(3, N)
    sidx, cell = grid[0], grid[0] * C + grid[1]  # each account's scenario, and its (scenario, candidate) cell
    ltv = np.asarray([p[0] for p in pairs], dtype=float)[grid[1]] / 1e4
    lt = np.asarray([p[1] for p in pairs], dtype=float)[grid[1]] / 1e4
    power = ltv * np.asarray(shares_bps, dtype=float)[grid[2]] / 1e4  # debt target per $ of collateral
    bonus_max = policy.parameters.liquidation_bonus_bps / 1e4
    target_hf = pool.target_health_factor / 1e18
    h_max = pool.health_factor_for_max_bonus / 1e18
    b_min = 1 + (bonus_max - 1) * pool.liquidation_bonus_factor_bps / 1e4
    coll = np.zeros(N)
    debt = np.zeros(N)
    cells = S * C
    bad, deficit, debt_days = np.zeros(cells), np.zeros(cells), np.zeros(cells)
    liquidations, unnecessary_n = np.zeros(cells, dtype=np.int64), np.zeros(cells, dtype=np.int64)
    # haircut per scenario and closure (bps -> fraction), from the policy's own rule
    cut = np.zeros((S, T))
    for s in range(S):
        for t in range(T - 1):
            kind = paths.kind[s][t]
            if kind is not None:
                cut[s, t] = policy.haircut_bps(kind, float(paths.sigma[s, t])) / 1e4  # copes with a nan sigma

    def top_up(price):
        np.maximum(debt, coll * price[sidx] * power, out=debt)

    def liquidate(oracle, market, *, closed: bool, next_open=None):
        ix = np.flatnonzero((coll > 0) & (coll * (oracle[sidx] * lt) < debt))
        if not ix.size:
            return
        s_ix = sidx[ix]
        if closed:
            necessary = coll[ix] * next_open[s_ix] * lt[ix] < debt[ix]
        for _ in range(MAX_STEPS):
            c, d, lt_i = coll[ix], debt[ix], lt[ix]
            p_o, p_m = oracle[sidx[ix]], market[sidx[ix]]
            p_s = p_m if seize_at == "reference" else p_o
            hf = c * p_o * lt_i / d
            if engine == engines.V3_3:
                bonus = np.full(ix.size, bonus_max)
                half = (c * p_o >= CLOSE_FACTOR_MIN) & (d >= CLOSE_FACTOR_MIN) & (hf > 0.95)
                cover = np.where(half, d * 0.5, d)
                seized = cover * bonus / p_s
                all_ = seized > c
                repaid = np.where(all_, c * p_s / bonus, cover)
                seized = np.where(all_, c, seized)
                go = all_ | (repaid >= d) | (((d - repaid) >= DUST) & ((c - seized) * p_s >= DUST))
            else:
                slope = np.clip((1 - hf) / (1 - h_max), 0.0, 1.0)
                bonus = np.where(hf <= h_max, bonus_max, b_min + (bonus_max - b_min) * slope)
                cover = np.minimum(d, d * (target_hf - hf) / (target_hf - bonus * lt_i))
                cover = np.where(d - cover < DUST, d, cover)
                seized = cover * bonus / p_s
                all_ = (seized > c) | (((c - seized) * p_s < DUST) & (cover < d))
                repaid = np.where(all_, c * p_s / bonus, cover)
                seized = np.where(all_, c, seized)
                go = np.ones(ix.size, dtype=bool)
            if not go.any():
                break
            new_debt = d - repaid
            emptied = all_ & go
            w = cell[ix]
            liquidations[:] += np.bincount(w, weights=go, minlength=cells).astype(np.int64)
            if closed:
                unnecessary_n[:] += np.bincount(w, weights=go & ~necessary, minlength=cells).astype(np.int64)
            written_off = np.where(emptied, np.maximum(new_debt, 0.0), 0.0)
            deficit[:] += np.bincount(w, weights=written_off, minlength=cells)
            # backtest's bad_debt_usd: the deficit had the collateral been counted at the market price
            loss = np.where(emptied & (new_debt > 0), np.maximum(d - c * p_m / bonus, 0.0), 0.0)
            bad[:] += np.bincount(w, weights=loss, minlength=cells)
            debt[ix] = np.where(go, np.where(emptied, 0.0, new_debt), d)
            coll[ix] = np.where(go, np.where(emptied, 0.0, c - seized), c)
            keep = go & ~emptied
            keep &= coll[ix] * p_o * lt_i < debt[ix]  # still under water: another step
            ix = ix[keep]
            if closed:
                necessary = necessary[keep]
            if not ix.size:
                break

    for t in range(T):
        o, low, c = paths.open[:, t], paths.low[:, t], paths.close[:, t]
        if t == 0:
            coll[:] = deposit_usd / o[sidx]
        else:  # an emptied account is replaced at the open, as in backtest._Run.session
            fresh = (debt < 1.0) & (coll * o[sidx] < DUST)
            if fresh.any():
                coll[fresh] += deposit_usd / o[sidx[fresh]]
            liquidate(o, o, closed=False)
        top_up(o)
        liquidate(low, low, closed=False)
        if t < T - 1:
            lower = c * (1 - cut[:, t])
            if not policy.pause_when_closed:
                liquidate(lower if policy.on_threshold else c, c, closed=True, next_open=paths.open[:, t + 1])
            top_up(lower)
            debt_days += np.bincount(cell, weights=debt, minlength=cells)
        if progress and ((t + 1) % 250 == 0 or t == T - 1):
            progress(t + 1)
    shape = (S, C)
    return Screen(bad.reshape(shape), deficit.reshape(shape), (debt_days / T).reshape(shape),
                  liquidations.reshape(shape), unnecessary_n.reshape(shape))


def _pick(q: np.ndarray, pairs: list[tuple[int, int]], target: float) -> int | None:
    """The passing candidate with the highest LTV, then the highest LT."""
    passing = [i for i in range(len(pairs)) if q[i] <= target]
    return max(passing, key=lambda i: (pairs[i][0], pairs[i][1])) if passing else None


def _figures(sc: Screen, frac: np.ndarray, q: np.ndarray, i: int, pair: tuple[int, int], target: float) -> dict:
    liq = sc.liquidations[:, i]
    return {"ltv_bps": pair[0], "liquidation_threshold_bps": pair[1], "bad_debt_quantile": round(float(q[i]), 6),
            "passes": bool(q[i] <= target), "expected_bad_debt": round(float(frac[:, i].mean()), 6),
            "historical_bad_debt": round(float(frac[0, i]), 6),
            "liquidations_per_scenario": round(float(liq.mean()), 2),
            "unnecessary_liquidations_per_scenario": round(float(sc.unnecessary[:, i].mean()), 2),
            "historical_liquidations": int(liq[0]), "historical_unnecessary_liquidations": int(sc.unnecessary[0, i])}


def recommend(bars: backtest.Bars, *, start, end, policies: list[backtest.Policy], engine_names: list[str],
              pool: PoolParameters | None = None, seize_at: str = "reference", seed: int,
              paths: int = DEFAULT_PATHS, target: float = DEFAULT_TARGET, confidence: float = DEFAULT_CONFIDENCE,
              kamino: tuple[int, int] | None = None, current: tuple[int, int] | None = None,
              progress: Callable[[int], None] | None = None, profile=None) -> dict:
    """Screen every candidate per engine and policy on history + seeded paths; confirm the best exactly.

    `profile` (core.profiles.AssetParams) reaches the exact confirmation only (backtest.run's own-market moment,
    token paths from `seed`); the screen's paths do not model an own market yet."""
    if not 0 < target < 1:
        raise backtest.BacktestError("the bad-debt target is a fraction of borrows between 0 and 1",
                                     field="bad_debt_target")
    if not 0 < confidence < 1:
        raise backtest.BacktestError("the confidence level must be between 0 and 1", field="confidence")
    rng = np.random.default_rng(seed)
    scen = build_paths(bars, start=start, end=end, paths=paths, rng=rng)
    sessions = scen.open.shape[1]
    rows, done = [], 0
    screened = [p for p in policies if p.name in SCREENED]
    extra = tuple(p for p in (current, kamino) if p)
    for engine in engine_names:
        for policy in screened:
            bonus = policy.parameters.liquidation_bonus_bps
            pairs = candidates(bonus, engine, extra)
            sc = screen(scen, policy, pairs, engine=engine, pool=pool, seize_at=seize_at,
                        progress=(lambda n, base=done: progress(base + n)) if progress else None)
            done += sessions
            frac = sc.bad_debt / np.maximum(sc.mean_debt, 1e-9)
            q = np.quantile(frac, confidence, axis=0, method="higher")
            best = _pick(q, pairs, target)
            row = {"engine": engine, "policy": policy.name, "liquidation_bonus_bps": bonus,
                   "feasible": best is not None}
            if best is not None:
                row.update(_figures(sc, frac, q, best, pairs[best], target))
            else:
                row.update({"ltv_bps": None, "liquidation_threshold_bps": None})
            for label, pair in (("kamino", kamino), ("current", current)):
                if pair and pair in pairs:
                    row[label] = _figures(sc, frac, q, pairs.index(pair), pair, target)
                elif pair:
                    row[label] = {"ltv_bps": pair[0], "liquidation_threshold_bps": pair[1], "passes": None,
                                  "note": f"not valid under {engine} with a {bonus} bps bonus"}
            rows.append(row)
    feasible = [r for r in rows if r["feasible"]]
    out = {"bad_debt_target": target, "confidence": confidence, "seed": seed, "scenarios": scen.scenarios,
           "simulated_paths": paths, "block_sessions": BLOCK, "path_model": "block bootstrap of the asset's sessions",
           "seize_at": seize_at, "by_engine_and_policy": rows}
    if not feasible:
        out.update({"ltv_bps": None, "liquidation_threshold_bps": None, "liquidation_bonus_bps": None,
                    "policy": None, "engine": None, "bad_debt_at_recommendation": None,
                    "note": "no candidate keeps bad debt under the target at this confidence"})
        return out
    # the headline: within one grid step of the highest passing LTV, the fewest unnecessary liquidations
    top = max(r["ltv_bps"] for r in feasible)
    best = min((r for r in feasible if r["ltv_bps"] >= top - LT_STEP),
               key=lambda r: (r["unnecessary_liquidations_per_scenario"], -r["ltv_bps"],
                              -r["liquidation_threshold_bps"], r["bad_debt_quantile"]))
    policy = next(p for p in screened if p.name == best["policy"])
    params = backtest.Parameters(best["ltv_bps"], best["liquidation_threshold_bps"],
                                 policy.parameters.liquidation_bonus_bps, policy.parameters.protocol_fee_bps)
    exact = backtest.run(bars, backtest.Policy(policy.name, params, policy.haircut_bps, policy.on_threshold,
                                               policy.pause_when_closed),
                         start=start, end=end, engine=best["engine"], pool=pool, seize_at=seize_at, profile=profile,
                         seed=seed)
    exact_dict = exact.as_dict()
    exact_dict.pop("timeline", None)
    out.update({"ltv_bps": best["ltv_bps"], "liquidation_threshold_bps": best["liquidation_threshold_bps"],
                "liquidation_bonus_bps": best["liquidation_bonus_bps"], "policy": best["policy"],
                "engine": best["engine"], "bad_debt_at_recommendation": best["bad_debt_quantile"],
                "expected_bad_debt": best["expected_bad_debt"],
                "unnecessary_liquidations_per_scenario": best["unnecessary_liquidations_per_scenario"],
                "liquidations_per_scenario": best["liquidations_per_scenario"],
                "kamino": best.get("kamino"), "current": best.get("current"),
                "historical_exact": exact_dict, "worst_closures": exact.worst_closures(bars)})
    return out
