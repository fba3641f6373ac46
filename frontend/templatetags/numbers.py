"""Numbers for people: thousands separators, USD to the cent, token amounts to a sensible number of digits,
health factors to two decimals (∞ without debt), percentages rather than basis points.

Display only: every value arrives as the ledger's integers (8-decimal USD, base units, wad, bps) and is rounded
here with integer arithmetic, never through floats."""
from django import template

from core.aave.wadray import WAD

register = template.Library()

PRICE_UNIT = 10**8
UINT_MAX = 2**256 - 1
HF_WARN = 15 * WAD // 10  # colour bands: warn from 1.5 down, danger from 1.1 down (below 1 the keeper acts)
HF_DANGER = 11 * WAD // 10


def _grouped(whole: int) -> str:
    return f"{whole:,}"


def _round_div(value: int, unit: int) -> int:
    """value / unit rounded half away from zero, in integers."""
    q, r = divmod(abs(value), unit)
    q += 2 * r >= unit
    return -q if value < 0 else q


def _fixed(value: int, decimals: int, places: int) -> str:
    """A `decimals`-scaled integer shown with `places` decimals and thousands separators."""
    sign = "-" if value < 0 else ""
    scaled = _round_div(abs(value), 10 ** max(decimals - places, 0)) * 10 ** max(places - decimals, 0)
    whole, frac = divmod(scaled, 10**places)
    return f"{sign}{_grouped(whole)}" + (f".{frac:0{places}d}" if places else "")


@register.filter
def usd(value) -> str:
    """8-decimal USD -> "$12,345.67"; not zero but under a cent: "< $0.01"."""
    if value in (None, ""):
        return "—"
    value = int(value)
    if 0 < abs(value) < PRICE_UNIT // 100:
        return "< $0.01" if value > 0 else "> -$0.01"
    text = _fixed(value, 8, 2)
    return f"-${text[1:]}" if text.startswith("-") else f"${text}"


@register.filter
def tokens(value, decimals) -> str:
    """Base units -> token amount: 2 decimals from 1,000 up, 4 from 1 up, else 6 significant-ish places;
    trailing zeros dropped ("1,234.5", "0.000123")."""
    if value in (None, ""):
        return "—"
    value, decimals = int(value), int(decimals)
    unit = 10**decimals
    places = 2 if abs(value) >= 1000 * unit else 4 if abs(value) >= unit else 6
    places = min(places, decimals)
    if 0 < abs(value) < 10 ** max(decimals - places, 0):  # dust: show that it is there, never "0"
        return "< " + _fixed(1, places, places) if value > 0 else "> -" + _fixed(1, places, places)
    text = _fixed(value, decimals, places)
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def hf(value) -> str:
    """Health factor (wad; None or uint max without debt) -> "1.23" (floor, so it never looks safer) or "∞"."""
    if value in (None, "") or int(value) >= UINT_MAX:
        return "∞"
    value = int(value)
    if value >= 10**6 * WAD:
        return "> 1,000,000"
    whole, frac = divmod(value * 100 // WAD, 100)
    return f"{_grouped(whole)}.{frac:02d}"


@register.filter
def hf_band(value) -> str:
    """CSS class for a health factor: none (no debt), ok, warn (below 1.5), danger (below 1.1)."""
    if value in (None, "") or int(value) >= UINT_MAX:
        return "none"
    value = int(value)
    return "danger" if value < HF_DANGER else "warn" if value < HF_WARN else "ok"


@register.filter
def pct_bps(value) -> str:
    """Basis points -> "72.5%"."""
    if value in (None, ""):
        return "—"
    value = int(value)
    whole, frac = divmod(abs(value), 100)
    text = f"{whole:,}" + (f".{frac:02d}".rstrip("0") if frac else "")
    return f"{'-' if value < 0 else ''}{text}%"


@register.filter
def apy(value) -> str:
    """An APY string in percent ("3.2100", markets.selectors.apy_from_rate) -> "3.21%"."""
    if value in (None, ""):
        return "—"
    text = f"{float(value):,.2f}%"  # display only: the rate itself stays a ray integer
    return "0.00%" if text == "-0.00%" else text


@register.filter
def age(seconds) -> str:
    """Seconds -> "2d 0h", "3h 05m", "12 min", "40 s": how old a price is."""
    if seconds in (None, ""):
        return "—"
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {rest // 60:02d}m"
    return f"{rest // 60} min" if rest >= 60 else f"{rest} s"
