"""Monte Carlo over price paths on the vectorised core (no Django): one chunk of paths, and the reduction.

A run is a JSON spec (what `risklab` snapshots when it is queued, so every chunk computes from the same inputs
whatever happens to the database meanwhile):
    {"assets": [{"symbol", "ticker", "ltv_bps", "liquidation_threshold_bps", "liquidation_bonus_bps",
                 "protocol_fee_bps", "price", "sigma", "fixed_bps"}], "engines": ["v3.3", "v4"],
     "pool": {"target_health_factor_bps", "liquidation_bonus_factor_bps", "health_factor_for_max_bonus_bps"},
     "policy", "paths", "hours", "accounts", "seed", "k", "seize_at", "start"}
`paths` is "simulated" (GBM in session, empirical gaps at the reopens), "historical" (a random window of the
shipped daily bars, rescaled to today's prices) or the name of a stress in `paths.STRESSES` (applied to a
simulated path). Path i draws from numpy's Generator seeded by (seed, i): a chunk computes the same numbers
however often it runs and on whichever worker; the book (seeded by the seed alone) is the same on every path.
"""
from __future__ import annotations

import functools
import json
from datetime import UTC, date, datetime, timedelta

import numpy as np

from core.aave.v4 import PoolParameters

from . import paths as P
from . import vector as V

PATH_KINDS = ("simulated", "historical", *P.STRESSES)
PERCENTILES = (50, 90, 95, 99)
DEFAULT_START = "2025-01-06"  # a Monday: every stress finds its weekend within the first 9 days
MIN_STRESS_HOURS = 24 * 9
HISTORY_FROM = date(2000, 1, 3)
FIGURES = ("bad_debt_usd", "liquidations", "unnecessary_liquidations", "transferred_to_liquidators_usd",
           "latent_bad_debt_usd", "liquidated_accounts")


def reserves_of(spec: dict) -> V.Reserves:
    a = spec["assets"]
    return V.Reserves(tuple(x["symbol"] for x in a), tuple(x["ltv_bps"] for x in a),
                      tuple(x["liquidation_threshold_bps"] for x in a), tuple(x["liquidation_bonus_bps"] for x in a),
                      tuple(x.get("protocol_fee_bps", 1_000) for x in a))


def pool_of(spec: dict) -> PoolParameters:
    p = spec.get("pool") or {}
    return PoolParameters.from_bps(target_health_factor_bps=p.get("target_health_factor_bps", 10_500),
                                   liquidation_bonus_factor_bps=p.get("liquidation_bonus_factor_bps", 5_000),
                                   health_factor_for_max_bonus_bps=p.get("health_factor_for_max_bonus_bps", 9_500))


def book_of(spec: dict) -> V.Book:
    prices = np.asarray([a["price"] for a in spec["assets"]], dtype=np.float64)
    return V.random_book(int(spec["accounts"]), reserves_of(spec), prices,
                         rng=np.random.default_rng(np.random.SeedSequence([int(spec["seed"]), 2**31])))


@functools.lru_cache(maxsize=4)
def _calendar(start: str, hours: int):
    times = P.hourly_times(datetime.fromisoformat(start).replace(tzinfo=UTC) - timedelta(hours=1), hours)
    return (times, *P.calendar_flags(times))


def path_of(spec: dict, i: int) -> P.PricePath:
    """Path i of the run (deterministic)."""
    rng = np.random.default_rng(np.random.SeedSequence([int(spec["seed"]), int(i)]))
    assets = spec["assets"]
    tickers = [a["ticker"] for a in assets]
    prices0 = np.asarray([a["price"] for a in assets], dtype=np.float64)
    if spec["paths"] == "historical":
        return _historical(spec, tickers, prices0, rng)
    times, is_open, kind = _calendar(spec.get("start") or DEFAULT_START, int(spec["hours"]))
    path = P.simulate(tickers, prices0, [a["sigma"] for a in assets], times=times, is_open=is_open, kind=kind,
                      rng=rng, gaps=P.empirical_gaps())
    path = P.PricePath(tuple(a["symbol"] for a in assets), *(getattr(path, f) for f in (
        "times", "reference", "market", "token", "status", "kind", "sigma", "rebase")))
    if spec["paths"] in P.STRESSES:
        path = P.STRESSES[spec["paths"]](path)
    return path


@functools.lru_cache(maxsize=8)
def _history(tickers: tuple[str, ...]) -> P.PricePath:
    return P.daily_replay(list(tickers), HISTORY_FROM, date(2024, 12, 31))


def _historical(spec, tickers, prices0, rng) -> P.PricePath:
    """A random window of the common daily history (3 steps a session), rescaled so it starts at today's prices."""
    full = _history(tuple(tickers))
    steps = min(max(3 * int(spec["hours"]) // 24, 6), full.shape[0]) // 3 * 3
    start = int(rng.integers(0, (full.shape[0] - steps) // 3 + 1)) * 3
    sl = slice(start, start + steps)
    scale = prices0 / full.reference[start]
    return P.PricePath(tuple(a["symbol"] for a in spec["assets"]), full.times[sl], full.reference[sl] * scale,
                       full.market[sl] * scale, full.token[sl] * scale, full.status[sl], full.kind[sl],
                       full.sigma[sl], full.rebase[sl])


def view_of(spec: dict, path: P.PricePath) -> V.OracleView:
    fixed = [a.get("fixed_bps") or {} for a in spec["assets"]]
    return P.policy_view(path, spec["policy"], k_table=spec.get("k"), fixed_bps=fixed,
                         seize_at=spec.get("seize_at", "reference"))


def chunk(spec: dict, start: int, stop: int) -> dict:
    """Paths [start, stop) under each engine: per engine, one row of FIGURES per path (and the borrows)."""
    reserves, pool, book = reserves_of(spec), pool_of(spec), book_of(spec)
    out = {"paths": list(range(start, stop)), "borrowed_usd": float(book.debt.sum()),
           "engines": {e: {f: [] for f in FIGURES} for e in spec["engines"]}}
    for i in range(start, stop):
        view = view_of(spec, path_of(spec, i))
        for engine in spec["engines"]:
            res = V.run(book, reserves, view, engine=engine, pool=pool)
            for f in FIGURES:
                out["engines"][engine][f].append(round(float(getattr(res, f)), 6))
    return out


def reduce(spec: dict, chunks: list[dict]) -> dict:
    """Every chunk's paths together: the bad-debt distribution per engine (USD and share of borrows)."""
    seen = sorted(i for c in chunks for i in c["paths"])
    if seen != list(range(len(seen))):
        raise ValueError("chunks overlap or leave gaps")
    borrowed = chunks[0]["borrowed_usd"] if chunks else 0.0
    out = {"paths": len(seen), "borrowed_usd": round(borrowed, 2), "engines": {}}
    for engine in spec["engines"]:
        rows = {f: np.asarray([x for c in chunks for x in c["engines"][engine][f]]) for f in FIGURES}
        bad = rows["bad_debt_usd"]
        share = bad / borrowed if borrowed else np.zeros_like(bad)
        out["engines"][engine] = {
            "bad_debt_usd": {"mean": round(float(bad.mean()), 2), "max": round(float(bad.max()), 2),
                             **{f"p{q}": round(float(np.percentile(bad, q)), 2) for q in PERCENTILES}},
            "bad_debt_share_of_borrows": {"mean": round(float(share.mean()), 8),
                                          **{f"p{q}": round(float(np.percentile(share, q)), 8)
                                             for q in PERCENTILES}},
            "paths_with_bad_debt": int((bad > 0).sum()),
            "mean_liquidations": round(float(rows["liquidations"].mean()), 2),
            "mean_unnecessary_liquidations": round(float(rows["unnecessary_liquidations"].mean()), 2),
            "mean_liquidated_accounts": round(float(rows["liquidated_accounts"].mean()), 2),
            "mean_transferred_to_liquidators_usd": round(float(rows["transferred_to_liquidators_usd"].mean()), 2),
            "mean_latent_bad_debt_usd": round(float(rows["latent_bad_debt_usd"].mean()), 2),
        }
    return out


def spec_json(spec: dict) -> str:
    return json.dumps(spec, sort_keys=True)
