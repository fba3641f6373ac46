"""Price series for the replayed feed (no Django, integer prices with 8 decimals).

The simulated feed's price processes live in core.profiles (one per issuer profile), shared with
`manage.py feed_replay`.
"""
from __future__ import annotations


def replay_prices(ticker: str) -> list[tuple[str, int]]:
    """(label, price) in the order a replay feed publishes them: each session's open, then its close."""
    from core.prices import PRICES_DIR, bar_price, daily_rows

    out = []
    for day, raw_open, _, raw_close in daily_rows(PRICES_DIR / f"{ticker}.csv"):
        opened, closed = bar_price(raw_open), bar_price(raw_close)
        if opened > 0 and closed > 0:  # a bar without prices is not a session to replay
            out.append((f"{day.isoformat()} open", opened))
            out.append((f"{day.isoformat()} close", closed))
    return out
