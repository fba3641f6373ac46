"""Closed-market haircuts (no Django): half-width = k(closure kind, coverage) x sigma_daily.

sigma_daily is a RiskMetrics EWMA (lambda 0.94) of close-to-close log returns, using only bars up to the
closure's previous close. k is fitted on standardised down-gaps z = -gap / sigma. DESIGN.md section 3:
weekends are hardly riskier than weekday nights, so k depends on the closure kind, not on hours closed;
and a k fitted at exactly the target quantile undershoots out of sample, so the quantile level is
chosen by rolling-origin validation on years held back inside the fitting window.
"""
from __future__ import annotations

import json
import math
import pathlib
from dataclasses import dataclass
from datetime import date

import numpy as np

from core.prices import PRICES_DIR, daily_rows

DATA_DIR = pathlib.Path(__file__).resolve().parent.parent / "data"
K_TABLE_PATH = DATA_DIR / "haircut_k.json"
VALIDATION_PATH = DATA_DIR / "haircut_validation.json"
VALIDATION_SPLIT, VALIDATION_END = date(2020, 1, 1), date(2024, 12, 31)
EWMA_LAMBDA = 0.94
WARMUP = 20
MAX_BPS = 5_000
KINDS = ("overnight", "weekend", "holiday", "holiday_weekend", "unplanned")
SPARSE_KINDS = ("holiday", "holiday_weekend", "unplanned")


@dataclass(frozen=True)
class Closure:
    ticker: str
    date: date  # the reopening session
    kind: str
    gap: float  # open / previous close - 1
    sigma: float  # daily sigma known at the previous close


def read_bars(path: pathlib.Path) -> tuple[list[date], np.ndarray, np.ndarray]:
    """Sessions with their opens and closes as floats (statistics only; exact prices: backtest.load_bars)."""
    dates, opens, closes = [], [], []
    for day, raw_open, _, raw_close in daily_rows(path):
        o, c = float(raw_open), float(raw_close)
        if o > 0 and c > 0:
            dates.append(day)
            opens.append(o)
            closes.append(c)
    return dates, np.asarray(opens), np.asarray(closes)


def ewma_sigma(closes: np.ndarray, lam: float = EWMA_LAMBDA) -> np.ndarray:
    """sigma[t] uses returns up to close t (no look-ahead when applied to the gap into t+1)."""
    r = np.diff(np.log(closes))
    sigma = np.full(len(closes), np.nan)
    if len(r) < WARMUP:
        return sigma
    var = float(np.mean(r[:WARMUP] ** 2))
    for t in range(WARMUP, len(r) + 1):
        sigma[t] = math.sqrt(var)
        if t < len(r):
            var = lam * var + (1 - lam) * r[t] ** 2
    return sigma


def closures(ticker: str, dates, opens, closes, gap_kind) -> list[Closure]:
    sigma = ewma_sigma(closes)
    out = []
    for t in range(1, len(dates)):
        s = sigma[t - 1]
        if not np.isfinite(s) or s <= 0:
            continue
        out.append(Closure(ticker, dates[t], gap_kind(dates[t - 1], dates[t]), opens[t] / closes[t - 1] - 1, s))
    return out


def load_closures(prices_dir: pathlib.Path, gap_kind) -> list[Closure]:
    out = []
    for path in sorted(pathlib.Path(prices_dir).glob("*.csv")):
        out += closures(path.stem, *read_bars(path), gap_kind)
    return out


def _z(rows: list[Closure]) -> np.ndarray:
    return np.asarray([-c.gap / c.sigma for c in rows]) if rows else np.zeros(0)


def _quantile(z: np.ndarray, level: float) -> float:
    return float(np.quantile(z, level, method="higher")) if len(z) else 0.0


def _covered(rows: list[Closure], k: float) -> tuple[int, int]:
    down = [c for c in rows if c.gap < 0]
    hit = sum(1 for c in down if c.gap >= -haircut_fraction(k, c.sigma))
    return hit, len(down)


def haircut_fraction(k: float, sigma: float) -> float:
    return min(math.ceil(k * sigma * 10_000), MAX_BPS) / 10_000


def _validated_level(rows: list[Closure], coverage: float) -> float:
    """Smallest quantile level whose k, fitted on earlier years only, covers >= coverage of later down-gaps."""
    years = sorted({c.date.year for c in rows})
    folds = [y for y in years[5:]]
    if not folds:
        return coverage
    by_year = {}
    for c in rows:
        by_year.setdefault(c.date.year, []).append(c)
    levels = np.linspace(coverage, min(0.9995, coverage + (1 - coverage) * 0.95), 20)
    for level in levels:
        hit = total = 0
        for y in folds:
            train = [c for yy in years if yy < y for c in by_year[yy]]
            k = _quantile(_z(train), level)
            h, n = _covered(by_year[y], k)
            hit, total = hit + h, total + n
        if total and hit / total >= coverage:
            return float(level)
    return float(levels[-1])


def fit_k(rows: list[Closure], coverage: float = 0.99) -> dict[str, float]:
    """k per closure kind. Sparse kinds borrow strength from all non-overnight gaps."""
    k = {}
    dense = {"overnight": [c for c in rows if c.kind == "overnight"],
             "weekend": [c for c in rows if c.kind == "weekend"]}
    for kind, subset in dense.items():
        k[kind] = _quantile(_z(subset), _validated_level(subset, coverage)) if subset else 0.0
    closed_long = [c for c in rows if c.kind != "overnight"]
    k_long = _quantile(_z(closed_long), _validated_level(closed_long, coverage)) if closed_long else 0.0
    for kind in SPARSE_KINDS:
        own = [c for c in rows if c.kind == kind]
        k[kind] = max(k_long, _quantile(_z(own), coverage) if len(own) >= 50 else 0.0)
    k["unplanned"] = max(k.values())  # an unscheduled closure is never treated as milder than any other
    return {kind: round(max(v, 0.0), 4) for kind, v in k.items()}


def haircut_bps(mode: str, closure_kind: str | None, sigma_daily: float | None = None, *,
                k_table: dict[str, float] | None = None, fixed_bps: dict[str, int] | None = None) -> int:
    """The integer haircut handed to the money engine (0 while the market is open)."""
    if closure_kind is None or mode == "none":
        return 0
    if mode == "fixed":
        return max(0, min(int((fixed_bps or {}).get(closure_kind, 0)), 10_000))
    if mode == "calibrated":
        k = (k_table or {}).get(closure_kind, 0.0)
        return max(0, min(math.ceil(k * (sigma_daily or 0.0) * 10_000), MAX_BPS))
    raise ValueError(f"unknown haircut mode {mode!r}")


def evaluate(rows: list[Closure], k_table: dict[str, float]) -> dict:
    """Coverage of down-gaps and the mean haircut, per the haircut_coverage contract."""
    out, hit, down, total_bps = [], 0, 0, 0
    for c in rows:
        bps = haircut_bps("calibrated", c.kind, c.sigma, k_table=k_table)
        out.append({"ticker": c.ticker, "date": c.date.isoformat(), "closure": c.kind, "haircut_bps": bps,
                    "gap": round(c.gap, 8)})
        total_bps += bps
        if c.gap < 0:
            down += 1
            hit += c.gap >= -bps / 10_000
    return {"closures": out, "coverage": round(hit / down, 6) if down else None,
            "mean_haircut_bps": round(total_bps / len(rows), 2) if rows else None}


def hindsight_fixed_bps(rows: list[Closure], target: float) -> int:
    """Smallest fixed haircut (bps) whose coverage of these down-gaps reaches `target`."""
    downs = sorted(-c.gap for c in rows if c.gap < 0)
    if not downs:
        return 0
    need = math.ceil(target * len(downs) - 1e-9)
    return math.ceil(downs[max(need, 1) - 1] * 10_000 - 1e-9) if need else 0


def validate(rows: list[Closure], *, split: date, end: date, coverage: float = 0.99) -> dict:
    """Fit before `split`, test on [split, end]: pooled coverage and the per-ticker 1.5x comparison."""
    train = [c for c in rows if c.date < split]
    test = [c for c in rows if split <= c.date <= end]
    k_table = fit_k(train, coverage)
    pooled = evaluate(test, k_table)
    per_ticker = {}
    for ticker in sorted({c.ticker for c in test}):
        sub = [c for c in test if c.ticker == ticker]
        res = evaluate(sub, k_table)
        fixed = hindsight_fixed_bps(sub, res["coverage"] or 0)
        per_ticker[ticker] = {"coverage": res["coverage"], "mean_haircut_bps": res["mean_haircut_bps"],
                              "hindsight_fixed_bps": fixed,
                              "ratio": round(res["mean_haircut_bps"] / fixed, 3) if fixed else None}
    return {"split": split.isoformat(), "end": end.isoformat(), "coverage_target": coverage, "k": k_table,
            "coverage": pooled["coverage"], "mean_haircut_bps": pooled["mean_haircut_bps"],
            "closures": len(test), "per_ticker": per_ticker}


# --- the shipped default table (core/data/haircut_k.json, written by `manage.py haircut_fit`) -------------

SHIPPED_LEVELS = (0.95, 0.99, 0.995)


def fit_default_table(gap_kind, prices_dir=PRICES_DIR, levels=SHIPPED_LEVELS) -> dict:
    """k per coverage level, fitted on every closure of the price files, and each ticker's latest sigma."""
    rows = load_closures(prices_dir, gap_kind)
    table = {"k": {str(level): fit_k(rows, level) for level in levels}, "sigma": {}}
    for path in sorted(pathlib.Path(prices_dir).glob("*.csv")):
        _, _, closes = read_bars(path)
        sigma = float(ewma_sigma(closes)[-1])
        if not math.isfinite(sigma):
            raise ValueError(f"{path.name} holds fewer than {WARMUP + 1} usable bars")
        table["sigma"][path.stem] = round(sigma, 6)
    return table


def shipped_validation(gap_kind, prices_dir=PRICES_DIR) -> dict:
    """The README's out-of-sample figures (core/data/haircut_validation.json): fit before 2020, test 2020-2024."""
    return validate(load_closures(prices_dir, gap_kind), split=VALIDATION_SPLIT, end=VALIDATION_END, coverage=0.99)


def document_json(doc: dict, *, sort_keys: bool = False) -> str:
    """A shipped JSON file's exact text, so a refit of the same prices leaves it byte for byte unchanged."""
    return json.dumps(doc, indent=1, sort_keys=sort_keys, default=float) + "\n"


_TABLE: dict | None = None


def default_table() -> dict:
    global _TABLE
    if _TABLE is None:
        _TABLE = json.loads(K_TABLE_PATH.read_text())
    return _TABLE


def k_for(coverage: float) -> dict[str, float]:
    """The fitted k table at the nearest shipped coverage level at or above `coverage`."""
    levels = sorted(float(level) for level in default_table()["k"])
    chosen = next((level for level in levels if level >= coverage - 1e-9), levels[-1])
    return default_table()["k"][str(chosen)]


def default_sigma(ticker: str) -> float | None:
    return default_table()["sigma"].get(ticker)


def policy_bps_calibrated(*, ticker: str, closure_kind: str, coverage: float,
                          fallback_sigma: float | None = None) -> int:
    """Calibrated haircut for an asset: shipped k for the coverage x the underlying's latest sigma."""
    sigma = default_sigma(ticker) or fallback_sigma or 0.0
    return haircut_bps("calibrated", closure_kind, sigma, k_table=k_for(coverage))
