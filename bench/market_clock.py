"""Market-clock lookups per second: the compiled clock vs exchange_calendars' own calls, same instants.

Baseline: exchange_calendars `is_open_on_minute` (and `is_open_at_time` on a sample). Lower bound: a bare
bisect on the compiled array. Writes bench/results/market_clock.json.
"""
import bisect
import json
import pathlib
import sys
import time
from datetime import datetime, timezone

import numpy as np
import pandas as pd

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from oracles.clock import CALENDAR_END, CALENDAR_START, MarketClock  # noqa: E402


def rate(fn, items) -> float:
    start = time.perf_counter()
    for x in items:
        fn(x)
    return len(items) / (time.perf_counter() - start)


def main(n: int = 50_000) -> dict:
    import exchange_calendars as xcals

    cal = xcals.get_calendar("XNYS", start=CALENDAR_START, end=CALENDAR_END)
    clock = MarketClock.get("XNYS")
    rng = np.random.default_rng(42)
    seconds = rng.integers(946_944_000, 2_050_000_000, n, dtype=np.int64) // 60 * 60
    stamps = [pd.Timestamp(int(s), unit="s", tz="UTC") for s in seconds]
    dts = [datetime.fromtimestamp(int(s), timezone.utc) for s in seconds]
    ints = [int(s) for s in seconds]
    opens, closes = clock.opens, clock.closes

    mismatches = sum(clock.is_open(d) != cal.is_open_on_minute(s) for d, s in zip(dts[:5_000], stamps[:5_000]))
    xc_minute = rate(cal.is_open_on_minute, stamps)
    xc_time = rate(cal.is_open_at_time, stamps[:2_000])
    ours = rate(clock.is_open, dts)
    ours_state = rate(clock.state, dts)
    ours_epoch = rate(clock.is_open_epoch, ints)

    def bare(s):
        i = bisect.bisect_right(opens, s) - 1
        return i >= 0 and s < closes[i]

    lower = rate(bare, ints)
    ns = seconds * 10**9
    start = time.perf_counter()
    for _ in range(10):
        clock.is_open_many(ns)
    vectorised = 10 * n / (time.perf_counter() - start)
    result = {
        "instants": n,
        "mismatches_vs_exchange_calendars": int(mismatches),
        "exchange_calendars_is_open_on_minute_per_second": round(xc_minute),
        "exchange_calendars_is_open_at_time_per_second": round(xc_time),
        "clock_is_open_per_second": round(ours),
        "clock_state_per_second": round(ours_state),
        "clock_is_open_epoch_per_second": round(ours_epoch),
        "speedup_epoch_vs_is_open_on_minute": round(ours_epoch / xc_minute, 1),
        "speedup_vectorised_vs_is_open_on_minute": round(vectorised / xc_minute, 1),
        "clock_vectorised_per_second": round(vectorised),
        "bisect_lower_bound_per_second": round(lower),
        "speedup_vs_is_open_on_minute": round(ours / xc_minute, 1),
        "speedup_vs_is_open_at_time": round(ours / xc_time, 1),
    }
    print(f"{'method':44} {'lookups/s':>14}")
    for key, label in [("exchange_calendars_is_open_at_time_per_second", "exchange_calendars is_open_at_time"),
                       ("exchange_calendars_is_open_on_minute_per_second", "exchange_calendars is_open_on_minute"),
                       ("clock_state_per_second", "MarketClock.state (full session state)"),
                       ("clock_is_open_per_second", "MarketClock.is_open (datetime in)"),
                       ("clock_is_open_epoch_per_second", "MarketClock.is_open_epoch (epoch seconds in)"),
                       ("clock_vectorised_per_second", "MarketClock.is_open_many (numpy)"),
                       ("bisect_lower_bound_per_second", "bare bisect (lower bound)")]:
        print(f"{label:44} {result[key]:>14,}")
    print(f"speedup vs is_open_on_minute: datetime API {result['speedup_vs_is_open_on_minute']}x, epoch API "
          f"{result['speedup_epoch_vs_is_open_on_minute']}x, vectorised "
          f"{result['speedup_vectorised_vs_is_open_on_minute']}x; vs is_open_at_time "
          f"{result['speedup_vs_is_open_at_time']}x; mismatches: {mismatches}")
    out = ROOT / "bench" / "results" / "market_clock.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
