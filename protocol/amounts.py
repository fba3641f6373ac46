"""Parsing and formatting token amounts as exact decimal strings (no floats, no Decimal context surprises)."""
from __future__ import annotations

import re

MAX_WHOLE_DIGITS = 40
_AMOUNT = re.compile(r"^(\d+)(?:\.(\d+))?$")
_PERCENT = re.compile(r"^(-?)(\d{1,4})(?:\.(\d{1,2}))?$")


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
    match = _AMOUNT.match(text)
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
    match = _PERCENT.match(raw.strip()) if isinstance(raw, str) else None
    if not match:
        raise AmountError("A percent must be a decimal string such as \"-12.5\" (at most 2 decimals).")
    sign, whole, frac = match.groups()
    bps = int(whole) * 100 + int((frac or "").ljust(2, "0"))
    bps = -bps if sign else bps
    if bps == 0 or not low_bps <= bps <= high_bps:
        raise AmountError(f"A percent must be non-zero, at least {low_bps / 100:g} and at most {high_bps / 100:g}.")
    return bps
