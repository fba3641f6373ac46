"""The shipped daily price files (`Date,Open,High,Low,Close,Volume`, one per underlying): the one reader."""
from __future__ import annotations

import csv
import pathlib
from collections.abc import Iterator
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

PRICES_DIR = pathlib.Path(__file__).resolve().parent / "data" / "prices" / "daily"

PRICE_UNIT = 10**8  # prices carry 8 decimals, as Aave's base currency


def daily_rows(path: pathlib.Path) -> Iterator[tuple[date, str, str, str]]:
    """(session, open, low, close) per row, the prices as written; each caller converts and filters them."""
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            yield date.fromisoformat(row["Date"][:10]), row["Open"], row["Low"], row["Close"]


def bar_price(raw: str) -> int:
    """A price as written in a bar file, in 8-decimal units, rounded half-up exactly (never through a float)."""
    return int((Decimal(raw) * PRICE_UNIT).to_integral_value(ROUND_HALF_UP))
