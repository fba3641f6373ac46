"""Market status for people: a badge per stock token (Regular, Pre-market, After hours, Overnight, Closed: weekend /
holiday / early close), the haircut in force now, and the next open or close for the live countdown."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from core.clock import ALWAYS_CLOSED, ALWAYS_OPEN, MarketClock
from markets import selectors as market_selectors
from oracles.selectors import oracle_reads

SESSION_LABELS = {"regular": "Regular", "pre_market": "Pre-market", "post_market": "After hours",
                  "overnight": "Overnight", "closed": "Closed"}
CLOSURE_LABELS = {"weekend": "weekend", "holiday": "holiday", "holiday_weekend": "holiday weekend",
                  "unplanned": "unplanned", "overnight": "overnight"}
_EXCHANGE_TZ = {"XNYS": "America/New_York", "XNAS": "America/New_York"}


def market_status(asset, read, *, now: datetime | None = None) -> dict | None:
    """The badge of a stock token (None for a stablecoin): label, CSS class, haircut bps, the countdown's target
    and its text as of `now`."""
    if asset.kind == "stablecoin":
        return None
    now = now or datetime.now(UTC)
    if asset.calendar == ALWAYS_OPEN:
        return {"label": "Open 24/7", "css": "regular", "haircut_bps": read.haircut_bps, "until": None,
                "event": "", "countdown": ""}
    if asset.calendar == ALWAYS_CLOSED:
        return {"label": "Closed: not listed", "css": "closed", "haircut_bps": read.haircut_bps, "until": None,
                "event": "no listing date", "countdown": ""}
    state = MarketClock.get(asset.calendar).state(now)
    label = SESSION_LABELS.get(state.session, state.session)
    if state.session == "closed":
        reason = CLOSURE_LABELS.get(state.closure_kind or "", state.closure_kind or "")
        tz = _EXCHANGE_TZ.get(asset.calendar)
        if state.last_close and tz and (now - state.last_close).total_seconds() < 8 * 3600 and \
                state.last_close.astimezone(ZoneInfo(tz)).hour < 16:
            reason = "early close"  # 17:00-20:00 on the day of a 13:00 close
        label = f"Closed: {reason}" if reason else "Closed"
    if state.is_open:
        until, event = state.next_close, "regular session closes"
    else:
        until, event = state.next_open, "regular session opens"
    return {"label": label, "css": state.session.replace("_", "-"), "haircut_bps": read.haircut_bps,
            "until": until, "event": event, "countdown": countdown_text(until, now=now)}


def countdown_text(until: datetime | None, *, now: datetime | None = None) -> str:
    """"2d 3h 04m" to `until` (server-rendered; frontend/static/frontend/app.js keeps it live)."""
    if until is None:
        return ""
    seconds = max(0, int((until - (now or datetime.now(UTC))).total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h {minutes:02d}m"
    if hours:  # seconds shown under a day, so the live countdown visibly ticks
        return f"{hours}h {minutes:02d}m {seconds % 60:02d}s"
    return f"{minutes}m {seconds % 60:02d}s"


def market_rows(now=None) -> list[dict]:
    """Every reserve with its oracle read and market status (the anonymous markets table and the dashboard)."""
    now = now or datetime.now(UTC)
    views = market_selectors.market_list()
    reads = oracle_reads([v.reserve.asset for v in views], at=now, shared=True)
    return [{"view": v, "asset": v.reserve.asset, "reserve": v.reserve, "read": reads[v.reserve.asset.symbol],
             "status": market_status(v.reserve.asset, reads[v.reserve.asset.symbol], now=now)} for v in views]
