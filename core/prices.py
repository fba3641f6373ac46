"""The shipped daily price files (`Date,Open,High,Low,Close,Volume`, one per underlying): the one reader."""
from __future__ import annotations

import csv
import pathlib
from collections.abc import Iterator
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

PRICES_DIR = pathlib.Path(__file__).resolve().parent / "data" / "prices" / "daily"

PRICE_UNIT = 10**8  # prices carry 8 decimals, as Aave's base currency


HEADER = "Date,Open,High,Low,Close,Volume"


class BarFileError(ValueError):
    """A file that is not daily bars; the message names the file and the line, for a person to fix it."""


def daily_rows(path: pathlib.Path) -> Iterator[tuple[date, str, str, str]]:
    """(session, open, low, close) per row, the prices as written (each caller converts and filters them: a zero
    or non-finite price marks a missing bar). Anyone's own files come through here (`--prices`), so a missing
    column, an empty file, a row without a date or a number, or dates that do not increase raise BarFileError."""
    name = pathlib.Path(path).name
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames:
            raise BarFileError(f"{name} is empty: expected a header {HEADER} and one row per session")
        missing = [c for c in ("Date", "Open", "Low", "Close") if c not in reader.fieldnames]
        if missing:
            raise BarFileError(f"{name} has no {', '.join(missing)} column (its header: "
                               f"{','.join(reader.fieldnames)[:80]}); expected {HEADER}")
        previous = None
        for row in reader:
            where = f"{name} line {reader.line_num}"
            raw_day = row["Date"] or ""
            try:
                day = date.fromisoformat(raw_day.strip()[:10])
            except ValueError:
                raise BarFileError(f"{where}: Date {raw_day[:40]!r} is not a date (YYYY-MM-DD)") from None
            for column in ("Open", "Low", "Close"):
                try:
                    float(row[column])
                except (TypeError, ValueError):
                    raise BarFileError(f"{where}: {column} {(row[column] or '')[:40]!r} is not a number") from None
            if previous is not None and day <= previous:
                raise BarFileError(f"{where}: {day} follows {previous}; dates must increase, one row per session")
            previous = day
            yield day, row["Open"], row["Low"], row["Close"]
        if previous is None:
            raise BarFileError(f"{name} has a header but no rows")


def bar_price(raw: str) -> int:
    """A price as written in a bar file, in 8-decimal units, rounded half-up exactly (never through a float)."""
    return int((Decimal(raw) * PRICE_UNIT).to_integral_value(ROUND_HALF_UP))
