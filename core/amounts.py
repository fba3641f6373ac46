"""Parsing and formatting token amounts as exact decimal strings (no floats, no Decimal context surprises)."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime

MAX_WHOLE_DIGITS = 40
MAX_UINT256 = 2**256 - 1
PRICE_DECIMALS = 8
# Highest manual price: $1,000,000,000 a token. Stored prices are 64-bit integers (at most ~$92.2 billion); this
# leaves room for a +1000% shock on top without overflowing the column.
MAX_PRICE = 10**9 * 10**PRICE_DECIMALS
# Only ASCII digits count: Python's \d, int() and Decimal() also read Arabic-Indic, fullwidth or bold digits.
_AMOUNT = re.compile(r"([0-9]+)(?:\.([0-9]+))?")
_PERCENT = re.compile(r"(-?)([0-9]{1,4})(?:\.([0-9]{1,2}))?")
_UINT = re.compile(r"[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MIN_DATE, MAX_DATE = date(1900, 1, 1), date(2100, 12, 31)


class AmountError(ValueError):
    pass


def parse_amount(raw, decimals: int, *, allow_max: bool = False, allow_zero: bool = False) -> int | str:
    """A decimal string in token units -> base units. Rejects JSON numbers, signs, exponents, NaN, too many
    decimals and absurd lengths before converting anything (see DESIGN.md section 9)."""
    if isinstance(raw, bool) or not isinstance(raw, str):
        raise AmountError("Amounts must be sent as decimal strings, e.g. \"1000.5\"; a JSON number loses precision.")
    text = raw.strip()
    if allow_max and text.lower() == "max":
        return "max"
    if len(text) > MAX_WHOLE_DIGITS + decimals + 1:
        raise AmountError("Amount is too long.")
    if text.startswith("-"):
        raise AmountError("Amount must be positive.")
    match = _AMOUNT.fullmatch(text)
    if not match:
        raise AmountError("Amount must be a plain decimal number such as \"250\" or \"0.5\".")
    whole, frac = match.group(1), match.group(2) or ""
    if len(whole) > MAX_WHOLE_DIGITS:
        raise AmountError("Amount is too large.")
    if len(frac) > decimals:
        raise AmountError(f"Amount has more than {decimals} decimals, the token's precision.")
    value = int(whole) * 10**decimals + int(frac.ljust(decimals, "0") or 0)
    if value == 0 and not allow_zero:
        raise AmountError("Amount must be greater than zero.")
    if value > MAX_UINT256:
        raise AmountError("Amount is too large.")
    return value


def parse_price(raw) -> int:
    """A positive USD decimal string (at most 8 decimals, at most MAX_PRICE) -> 8-decimal integer."""
    if not isinstance(raw, str) or len(raw) > 40:
        raise AmountError("price must be a USD decimal string such as \"225.5\" (at most 8 decimals).")
    try:
        price = parse_amount(raw, PRICE_DECIMALS)
    except AmountError as exc:
        raise AmountError(str(exc).replace("Amount", "price")) from None
    if price > MAX_PRICE:
        raise AmountError(f"price must be at most ${format_price(MAX_PRICE)}.")
    return price


def parse_uint(raw, *, high: int, name: str = "value") -> int:
    """A whole number 0..high given as ASCII digits (a JSON integer is accepted as is)."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and len(raw.strip()) <= len(str(high)) and _UINT.fullmatch(raw.strip()):
        value = int(raw.strip())
    else:
        raise AmountError(f"{name} must be a whole number written with the digits 0-9.")
    if not 0 <= value <= high:
        raise AmountError(f"{name} must be between 0 and {high}.")
    return value


def parse_iso_date(raw, *, name: str = "date") -> date:
    """YYYY-MM-DD in ASCII digits, between MIN_DATE and MAX_DATE."""
    text = raw.strip() if isinstance(raw, str) else ""
    try:
        value = date.fromisoformat(text) if _DATE.fullmatch(text) else None
    except ValueError:
        value = None
    if value is None:
        raise AmountError(f"{name} must be a date as YYYY-MM-DD.")
    if not MIN_DATE <= value <= MAX_DATE:
        raise AmountError(f"{name} must be between {MIN_DATE} and {MAX_DATE}.")
    return value


def parse_iso_datetime(raw, *, name: str = "datetime") -> datetime:
    """An ISO-8601 instant in ASCII (naive means UTC), years MIN_DATE..MAX_DATE."""
    text = raw.strip() if isinstance(raw, str) else ""
    value = None
    if text.isascii() and text.isprintable() and 10 <= len(text) <= 40 and _DATE.fullmatch(text[:10]):
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            value = None
    if value is None:
        raise AmountError(f"{name} must be an ISO-8601 instant, e.g. 2024-11-29T17:00:00Z.")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if not MIN_DATE <= value.date() <= MAX_DATE:
        raise AmountError(f"{name} must be between {MIN_DATE} and {MAX_DATE}.")
    return value


def format_amount(value: int, decimals: int) -> str:
    """Exact decimal string with the token's full precision where not zero ("1.5", "0.000000000000000001")."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10**decimals)
    if decimals == 0 or frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{str(frac).rjust(decimals, '0').rstrip('0')}"


def format_price(value: int) -> str:
    return format_amount(value, 8)


def format_wad(value: int) -> str:
    return format_amount(value, 18)


def parse_percent_bps(raw, *, low_bps: int = -9_900, high_bps: int = 100_000) -> int:
    """A non-zero percent move as a decimal string ("-12.5", at most 2 decimals) -> basis points."""
    match = _PERCENT.fullmatch(raw.strip()) if isinstance(raw, str) else None
    if not match:
        raise AmountError("A percent must be a decimal string such as \"-12.5\" (at most 2 decimals).")
    sign, whole, frac = match.groups()
    bps = int(whole) * 100 + int((frac or "").ljust(2, "0"))
    bps = -bps if sign else bps
    if bps == 0 or not low_bps <= bps <= high_bps:
        raise AmountError(f"A percent must be non-zero, at least {low_bps / 100:g} and at most {high_bps / 100:g}.")
    return bps
