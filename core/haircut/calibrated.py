"""Closed-market haircuts (no Django): half-width = k(closure kind, coverage) x sigma_daily.

The model (DESIGN.md section 3; the figures behind each choice are in core/data/haircut_validation.json and
the README):
- sigma_daily = max(RiskMetrics EWMA (lambda 0.94), RMS of the last LONG_WINDOW close-to-close log returns),
  using only bars up to the closure's previous close (`ewma_sigma`, floored by default: callers scale the
  fitted k by it). The floor keeps the haircut from collapsing in calm spells: misses cluster where the EWMA
  has fallen below its long-run level (the first day of a sell-off, 2019-05-06/13, 2020-01-27), and at equal
  out-of-sample coverage the floor costs less.
- k is fitted on standardised *down*-gaps z = -gap / sigma only (an asymmetric quantile: the haircut covers
  falls, and coverage is counted on down-gaps).
- k depends on the closure kind, not on hours closed (weekends are hardly riskier than weekday nights), and a
  weekend or holiday k is never below the overnight one (a thin sample must not price a closure milder).
  The quantile level per kind is chosen by rolling-origin validation on years held back inside the fitting
  window, never in-sample at the target: a k fitted at exactly the target quantile undershoots out of
  sample. Misses cluster by date (one sell-off gaps every ticker at once), so the held-out coverage must
  beat the target by one standard error counted on distinct closure dates, not on ticker-gaps.
- Ad-hoc closures announced before the previous close (days of mourning) take the holiday k
  (core/haircut/announced.py); only unforeseen ones (9/11, Sandy) take the unplanned k, the largest.
LEGACY is the first model (EWMA only, k on all gaps, no margin, every ad-hoc closure unplanned), kept so
the validation file compares the two.
"""
from __future__ import annotations

import json
import math
import pathlib
from dataclasses import dataclass
from datetime import date

import numpy as np

from core.haircut.announced import haircut_kind
from core.prices import PRICES_DIR, BarFileError, daily_rows

DATA_DIR = pathlib.Path(__file__).resolve().parent.parent / "data"
K_TABLE_PATH = DATA_DIR / "haircut_k.json"
VALIDATION_PATH = DATA_DIR / "haircut_validation.json"
# two out-of-sample splits: fit before the first date, test through the second (README table)
VALIDATION_SPLITS = ((date(2015, 1, 1), date(2019, 12, 31)), (date(2020, 1, 1), date(2024, 12, 31)))
VALIDATION_SPLIT, VALIDATION_END = VALIDATION_SPLITS[-1]
EWMA_LAMBDA = 0.94
LONG_WINDOW = 250  # one year of sessions
WARMUP = 20
MAX_BPS = 5_000  # a cap only: k is never fitted to reach it
KINDS = ("overnight", "weekend", "holiday", "holiday_weekend", "unplanned")
SPARSE_KINDS = ("holiday", "holiday_weekend", "unplanned")
LEVELS_TRIED = 20  # candidate quantile levels between the target and 95% of the way to 1
FIRST_FOLD = 5  # rolling-origin validation starts once five years are available to fit on


@dataclass(frozen=True)
class Model:
    name: str
    long_window: int  # 0: the EWMA alone
    down_only: bool  # fit k on down-gaps only
    margin_se: float  # held-out coverage must beat the target by this many standard errors (dates)
    announced_as_holiday: bool  # announced ad-hoc closures take the holiday k


MODEL = Model("floor250_down_se1", LONG_WINDOW, True, 1.0, True)
LEGACY = Model("ewma", 0, False, 0.0, False)


@dataclass(frozen=True)
class Closure:
    ticker: str
    date: date  # the reopening session
    kind: str  # the kind the haircut prices (announced ad-hoc closures: holiday)
    gap: float  # open / previous close - 1
    sigma: float  # daily sigma known at the previous close
    calendar_kind: str = ""  # the exchange calendar's kind (API.md closure_kind), when it differs


def read_bars(path: pathlib.Path) -> tuple[list[date], np.ndarray, np.ndarray]:
    """Sessions with their opens and closes as floats (statistics only; exact prices: backtest.load_bars)."""
    dates, opens, closes = [], [], []
    for day, raw_open, _, raw_close in daily_rows(path):
        o, c = float(raw_open), float(raw_close)
        if dates and day <= dates[-1]:
            raise ValueError(f"dates must increase: {day} follows {dates[-1]}")
        if math.isfinite(o) and math.isfinite(c) and o > 0 and c > 0:
            dates.append(day)
            opens.append(o)
            closes.append(c)
    return dates, np.asarray(opens), np.asarray(closes)


def ewma_sigma(closes: np.ndarray, lam: float = EWMA_LAMBDA, *, floor_window: int = LONG_WINDOW) -> np.ndarray:
    """The haircut's daily sigma: the EWMA of log returns, floored by the RMS of the last `floor_window` of them
    (floor_window=0: the bare EWMA). sigma[t] uses returns up to close t (no look-ahead when applied to the gap
    into t+1). The floor is on by default because every caller (backtest, paths, recommend) multiplies it by a k
    fitted on floored sigmas; a bare EWMA there would under-cover."""
    sigma = _ewma(closes, lam)
    return np.fmax(sigma, long_sigma(closes, floor_window)) if floor_window else sigma


def _ewma(closes: np.ndarray, lam: float) -> np.ndarray:
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


def long_sigma(closes: np.ndarray, window: int = LONG_WINDOW) -> np.ndarray:
    """RMS of the last `window` log returns up to close t (fewer while the history is shorter)."""
    r = np.diff(np.log(closes))
    sigma = np.full(len(closes), np.nan)
    if len(r) < WARMUP:
        return sigma
    cum = np.concatenate([[0.0], np.cumsum(r * r)])
    t = np.arange(WARMUP, len(closes))
    n = np.minimum(window, t)
    sigma[WARMUP:] = np.sqrt((cum[t] - cum[t - n]) / n)
    return sigma


def haircut_sigma(closes: np.ndarray, model: Model = MODEL) -> np.ndarray:
    """The daily sigma a model's k scales: the EWMA, floored by the model's long-window RMS."""
    return ewma_sigma(closes, floor_window=model.long_window)


def closures(ticker: str, dates, opens, closes, gap_kind, model: Model = MODEL) -> list[Closure]:
    sigma = haircut_sigma(closes, model)
    out = []
    for t in range(1, len(dates)):
        s = sigma[t - 1]
        if not np.isfinite(s) or s <= 0:
            continue
        calendar = gap_kind(dates[t - 1], dates[t])
        kind = haircut_kind(gap_kind, dates[t - 1], dates[t]) if model.announced_as_holiday else calendar
        out.append(Closure(ticker, dates[t], kind, float(opens[t] / closes[t - 1] - 1), float(s),
                           calendar if calendar != kind else ""))
    return out


def load_closures(prices_dir: pathlib.Path, gap_kind, model: Model = MODEL) -> list[Closure]:
    """Every close-to-open gap of every <TICKER>.csv in the folder; a bad file raises ValueError naming it."""
    return _load(prices_dir, gap_kind, (model,))[0]


def _load(prices_dir: pathlib.Path, gap_kind, models: tuple[Model, ...]) -> list[list[Closure]]:
    """load_closures for several models, reading each file once."""
    out: list[list[Closure]] = [[] for _ in models]
    for path in sorted(pathlib.Path(prices_dir).glob("*.csv")):
        try:
            bars = read_bars(path)
            for rows, model in zip(out, models, strict=True):
                rows += closures(path.stem, *bars, gap_kind, model)
        except BarFileError:  # already names the file, the line and what is wrong
            raise
        except KeyError as exc:
            raise ValueError(f"{path.name} has no {exc} column (expected Date,Open,High,Low,Close,Volume)") from None
        except (ValueError, TypeError) as exc:  # a malformed row, dates out of order or outside the calendar
            raise ValueError(f"{path.name}: {exc}") from None
    return out


def haircut_fraction(k: float, sigma: float) -> float:
    return min(math.ceil(k * sigma * 10_000), MAX_BPS) / 10_000


def _fractions(k, sigma: np.ndarray) -> np.ndarray:
    """haircut_fraction, vectorised (same float operations, so the same results)."""
    return np.minimum(np.ceil(np.multiply.outer(k, sigma) * 10_000), MAX_BPS) / 10_000


class _Sample:
    """Closures as arrays, for fitting."""

    def __init__(self, rows: list[Closure]):
        self.year = np.asarray([c.date.year for c in rows], dtype=int)
        self.day = np.asarray([c.date.toordinal() for c in rows], dtype=int)
        self.gap = np.asarray([c.gap for c in rows], dtype=float)
        self.sigma = np.asarray([c.sigma for c in rows], dtype=float)
        self.kind = np.asarray([c.kind for c in rows], dtype=object)
        self.z = -self.gap / self.sigma if rows else np.zeros(0)
        self.down = self.gap < 0


def _quantiles(z: np.ndarray, levels) -> np.ndarray:
    return np.quantile(z, levels, method="higher") if len(z) else np.zeros(np.shape(levels))


def _validated_level(s: _Sample, mask: np.ndarray, coverage: float, model: Model) -> float:
    """Smallest quantile level whose k, fitted on earlier years only, covers the later down-gaps with
    coverage >= target + margin_se standard errors (on distinct dates: misses cluster by date)."""
    years = sorted(set(s.year[mask].tolist()))
    folds = years[FIRST_FOLD:]
    if not folds:
        return coverage
    levels = np.linspace(coverage, min(0.9995, coverage + (1 - coverage) * 0.95), LEVELS_TRIED)
    fit_mask = mask & s.down if model.down_only else mask
    hit, total = np.zeros(len(levels)), 0
    for y in folds:
        k = _quantiles(s.z[fit_mask & (s.year < y)], levels)
        test = mask & s.down & (s.year == y)
        hit += (s.gap[test] >= -_fractions(k, s.sigma[test])).sum(axis=1)
        total += int(test.sum())
    if not total:
        return coverage
    dates = len(set(s.day[mask & s.down & (s.year >= folds[0])].tolist()))
    need = coverage + model.margin_se * math.sqrt(coverage * (1 - coverage) / dates)
    ok = np.nonzero(hit / total >= need)[0]
    return float(levels[ok[0]] if len(ok) else levels[-1])


def fit_k(rows: list[Closure], coverage: float = 0.99, model: Model = MODEL) -> dict[str, float]:
    """k per closure kind. Sparse kinds borrow strength from all non-overnight gaps."""
    s = _Sample(rows)

    def fitted(mask: np.ndarray) -> float:
        if not mask.any():
            return 0.0
        level = _validated_level(s, mask, coverage, model)
        return float(_quantiles(s.z[mask & s.down] if model.down_only else s.z[mask], level))

    k = {"overnight": fitted(s.kind == "overnight"), "weekend": fitted(s.kind == "weekend")}
    k_long = fitted(s.kind != "overnight")
    if model is not LEGACY:  # a longer closure is never priced milder than a night
        k["weekend"], k_long = max(k["weekend"], k["overnight"]), max(k_long, k["overnight"])
    for kind in SPARSE_KINDS:
        own = s.z[(s.kind == kind) & s.down] if model.down_only else s.z[s.kind == kind]
        k[kind] = max(k_long, float(_quantiles(own, coverage)) if len(own) >= 50 else 0.0)
    k["unplanned"] = max(k.values())  # an unforeseen closure is never treated as milder than any other
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


def _bps(rows: list[Closure], k_table: dict[str, float]) -> list[int]:
    return [haircut_bps("calibrated", c.kind, c.sigma, k_table=k_table) for c in rows]


def _summary(rows: list[Closure], bps: list[int]) -> dict:
    down = [(c.gap, b) for c, b in zip(rows, bps, strict=True) if c.gap < 0]
    hit = sum(1 for gap, b in down if gap >= -b / 10_000)
    return {"closures": len(rows), "down_gaps": len(down), "misses": len(down) - hit,
            "coverage": round(hit / len(down), 6) if down else None,
            "mean_haircut_bps": round(sum(bps) / len(rows), 2) if rows else None}


def evaluate(rows: list[Closure], k_table: dict[str, float]) -> dict:
    """Coverage of down-gaps and the mean haircut, per the haircut_coverage contract. `closure` is the
    calendar's kind (API.md); the haircut priced `Closure.kind`."""
    bps = _bps(rows, k_table)
    out = [{"ticker": c.ticker, "date": c.date.isoformat(), "closure": c.calendar_kind or c.kind, "haircut_bps": b,
            "gap": round(c.gap, 8)} for c, b in zip(rows, bps, strict=True)]
    summary = _summary(rows, bps)
    return {"closures": out, "coverage": summary["coverage"], "mean_haircut_bps": summary["mean_haircut_bps"]}


def breakdown(rows: list[Closure], k_table: dict[str, float], key) -> dict[str, dict]:
    """Closures, down-gaps, misses, coverage and mean haircut grouped by key(closure) (the kind priced, the
    ticker), kinds in their usual order."""
    groups: dict[str, list[Closure]] = {}
    for c in rows:
        groups.setdefault(key(c), []).append(c)
    order = sorted(groups, key=lambda g: (KINDS.index(g) if g in KINDS else len(KINDS), g))
    return {name: _summary(groups[name], _bps(groups[name], k_table)) for name in order}


def hindsight_fixed_bps(rows: list[Closure], target: float) -> int:
    """Smallest fixed haircut (bps) whose coverage of these down-gaps reaches `target`."""
    downs = sorted(-c.gap for c in rows if c.gap < 0)
    if not downs:
        return 0
    need = math.ceil(target * len(downs) - 1e-9)
    return math.ceil(downs[max(need, 1) - 1] * 10_000 - 1e-9) if need else 0


def validate(rows: list[Closure], *, split: date, end: date, coverage: float = 0.99,
             model: Model = MODEL) -> dict:
    """Fit before `split`, test on [split, end]: pooled, per kind priced and per ticker (with the fixed
    haircut that would have reached the same coverage in hindsight)."""
    train = [c for c in rows if c.date < split]
    test = [c for c in rows if split <= c.date <= end]
    k_table = fit_k(train, coverage, model)
    pooled = _summary(test, _bps(test, k_table))
    per_ticker = breakdown(test, k_table, lambda c: c.ticker)
    for ticker, row in per_ticker.items():
        fixed = hindsight_fixed_bps([c for c in test if c.ticker == ticker], row["coverage"] or 0)
        row["hindsight_fixed_bps"] = fixed
        row["ratio"] = round(row["mean_haircut_bps"] / fixed, 3) if fixed else None
    return {"k": k_table, "coverage": pooled["coverage"], "mean_haircut_bps": pooled["mean_haircut_bps"],
            "closures": len(test), "down_gaps": pooled["down_gaps"],
            "per_kind": breakdown(test, k_table, lambda c: c.kind), "per_ticker": per_ticker}


def _describe(model: Model) -> dict:
    return {"name": model.name, "sigma": (f"max(EWMA {EWMA_LAMBDA}, RMS of the last {model.long_window} returns)"
                                          if model.long_window else f"EWMA {EWMA_LAMBDA}"),
            "k_fitted_on": "down-gaps" if model.down_only else "all gaps",
            "validation_margin_se": model.margin_se,
            "announced_adhoc_closures": "holiday" if model.announced_as_holiday else "unplanned"}


# --- the shipped default table (core/data/haircut_k.json, written by `manage.py haircut_fit`) -------------

SHIPPED_LEVELS = (0.95, 0.99, 0.995)


def fit_default_table(gap_kind, prices_dir=PRICES_DIR, levels=SHIPPED_LEVELS) -> dict:
    """k per coverage level, fitted on every closure of the price files, and each ticker's latest sigma."""
    rows = load_closures(prices_dir, gap_kind)
    table = {"k": {str(level): fit_k(rows, level) for level in levels}, "sigma": {}}
    for path in sorted(pathlib.Path(prices_dir).glob("*.csv")):
        _, _, closes = read_bars(path)
        sigma = float(haircut_sigma(closes)[-1])
        if not math.isfinite(sigma):
            raise ValueError(f"{path.name} holds fewer than {WARMUP + 1} usable bars")
        table["sigma"][path.stem] = round(sigma, 6)
    return table


def shipped_validation(gap_kind, prices_dir=PRICES_DIR, splits=VALIDATION_SPLITS, coverage: float = 0.99) -> dict:
    """The README's out-of-sample figures (core/data/haircut_validation.json): the legacy model and this one,
    each fitted before a split date and tested on the years after it."""
    old, new = _load(prices_dir, gap_kind, (LEGACY, MODEL))
    rows = {"old": old, "new": new}
    out = {"coverage_target": coverage, "models": {"old": _describe(LEGACY), "new": _describe(MODEL)},
           "splits": []}
    for split, end in splits:
        entry = {"fit_before": split.isoformat(), "test_from": split.isoformat(), "test_to": end.isoformat()}
        for name, model in (("old", LEGACY), ("new", MODEL)):
            entry[name] = validate(rows[name], split=split, end=end, coverage=coverage, model=model)
        out["splits"].append(entry)
    return out


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
