"""Market clock: exchange_calendars compiled once into sorted arrays, answered with bisect (no Django).

exchange_calendars is the source of truth for sessions, holidays, early closes and unplanned closures;
this module only indexes its answers so a lookup costs a bisect instead of a pandas call.

Sessions (US Eastern, DST-aware), Chainlink marketStatus names:
- regular: [open, close) of an exchange session (13:00 close on early-close days);
- post_market: [close, 20:00) on the session's date (17:00 on early-close days);
- pre_market: [04:00, open) on the next session's date;
- overnight: [20:00 on the eve of the next session, 04:00 on its date) - so Sunday 20:00 starts the week;
- closed: everything else (weekends, holidays, the rest of a day before a holiday).
"""
from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np

SESSION_PRE, SESSION_REGULAR, SESSION_POST, SESSION_OVERNIGHT, SESSION_CLOSED = (
    "pre_market", "regular", "post_market", "overnight", "closed")
CLOSURE_KINDS = ("overnight", "weekend", "holiday", "holiday_weekend", "unplanned")
ALWAYS_OPEN, ALWAYS_CLOSED = "24/7", "ALWAYS_CLOSED"
CALENDAR_START = "2000-01-01"
CALENDAR_END = "2036-12-31"  # far ahead: a simulator that keeps running must not fall off the end
ET = ZoneInfo("America/New_York")
UTC = timezone.utc


class ClockRangeError(ValueError):
    """The instant is outside the compiled calendar."""


@dataclass(frozen=True)
class ClockState:
    session: str
    is_open: bool
    closure_kind: str | None  # kind of the whole gap last regular close -> next regular open
    early_close: bool  # the current session (or, while shut, the next one) closes early
    next_open: datetime | None  # first regular open strictly after t
    next_close: datetime | None  # first regular close strictly after t
    last_close: datetime | None
    seconds_since_close: int | None  # None while the regular session is open


def _to_seconds(t: datetime) -> int:
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return int(t.timestamp())


def _from_seconds(s: int) -> datetime:
    return datetime.fromtimestamp(s, UTC)


def _epoch_seconds(series) -> list[int]:
    naive = series.dt.tz_convert("UTC").dt.tz_localize(None)
    return [int(x) for x in naive.to_numpy().astype("datetime64[s]").astype(np.int64)]


def _et_seconds(day: date, hour: int, minute: int = 0) -> int:
    return int(datetime(day.year, day.month, day.day, hour, minute, tzinfo=ET).timestamp())


class MarketClock:
    """One exchange calendar compiled to int64 second arrays."""

    def __init__(self, name: str, start: str = CALENDAR_START, end: str = CALENDAR_END):
        import exchange_calendars as xcals

        cal = xcals.get_calendar(name, start=start, end=end)
        self.name = name
        sessions = [ts.date() for ts in cal.sessions]
        self._dates = sessions
        self.opens = _epoch_seconds(cal.opens)
        self.closes = _epoch_seconds(cal.closes)
        self.opens_ns = np.asarray(self.opens, dtype=np.int64) * 10**9
        self.closes_ns = np.asarray(self.closes, dtype=np.int64) * 10**9
        early = {ts.date() for ts in cal.early_closes}
        self._early = [d in early for d in sessions]
        adhoc = {ts.date() for ts in cal.adhoc_holidays}
        self._adhoc = adhoc
        self._pre_start = [_et_seconds(d, 4) for d in sessions]
        self._post_end = [_et_seconds(d, 17 if e else 20) for d, e in zip(sessions, self._early)]
        self._overnight_start = [_et_seconds(d - timedelta(days=1), 20) for d in sessions]
        # gap kind before each session i (from session i-1's close); index 0 has no known predecessor
        self._gap_before = [None] + [self.gap_kind(sessions[i - 1], sessions[i]) for i in range(1, len(sessions))]
        self.start = _from_seconds(self.opens[0] - 86_400)
        self.end = _from_seconds(self.closes[-1])

    @classmethod
    @functools.lru_cache(maxsize=None)
    def get(cls, calendar: str = "XNYS"):
        if calendar == ALWAYS_OPEN:
            return AlwaysOpenClock()
        if calendar == ALWAYS_CLOSED:
            return AlwaysClosedClock()
        return cls(calendar)

    # --- gap classification --------------------------------------------------------------

    def gap_kind(self, prev_session: date, next_session: date) -> str:
        """Closure kind of the gap between two consecutive sessions (API.md market-status rules)."""
        weekend = holiday = unplanned = False
        day = prev_session + timedelta(days=1)
        while day < next_session:
            if day.weekday() >= 5:
                weekend = True
            elif day in self._adhoc:
                unplanned = True
            else:
                holiday = True
            day += timedelta(days=1)
        if unplanned:
            return "unplanned"
        if weekend and holiday:
            return "holiday_weekend"
        if holiday:
            return "holiday"
        if weekend:
            return "weekend"
        return "overnight"

    def sessions(self) -> list[date]:
        return list(self._dates)

    # --- scalar lookups ------------------------------------------------------------------------

    def _index(self, t: datetime) -> tuple[int, int]:
        s = _to_seconds(t)
        if s < self.opens[0] - 86_400 or s >= self.closes[-1]:
            raise ClockRangeError(f"{t.isoformat()} is outside the compiled calendar "
                                  f"({self.start.date()} to {self.end.date()})")
        return s, bisect.bisect_right(self.opens, s) - 1

    def is_open(self, t: datetime) -> bool:
        s, i = self._index(t)
        return i >= 0 and s < self.closes[i]

    def is_open_epoch(self, seconds: int) -> bool:
        """Fast path for callers that already hold UTC epoch seconds (backtests, the scanner)."""
        i = bisect.bisect_right(self.opens, seconds) - 1
        return i >= 0 and seconds < self.closes[i]

    def next_open(self, t: datetime) -> datetime:
        s, i = self._index(t)
        return _from_seconds(self.opens[i + 1])

    def next_close(self, t: datetime) -> datetime:
        s, _ = self._index(t)
        return _from_seconds(self.closes[bisect.bisect_right(self.closes, s)])

    def last_open(self, t: datetime) -> datetime | None:
        s, i = self._index(t)
        return _from_seconds(self.opens[i]) if i >= 0 else None

    def session(self, t: datetime) -> str:
        return self.state(t).session

    def state(self, t: datetime) -> ClockState:
        s, i = self._index(t)
        if i >= 0 and s < self.closes[i]:
            return ClockState(SESSION_REGULAR, True, None, self._early[i], _from_seconds(self.opens[i + 1]),
                              _from_seconds(self.closes[i]), _from_seconds(self.closes[i - 1]) if i else None, None)
        k = i + 1  # next session
        last_close = self.closes[i] if i >= 0 else None
        if i >= 0 and s < self._post_end[i]:
            session = SESSION_POST
        elif s >= self._pre_start[k]:
            session = SESSION_PRE
        elif s >= self._overnight_start[k]:
            session = SESSION_OVERNIGHT
        else:
            session = SESSION_CLOSED
        return ClockState(
            session=session,
            is_open=False,
            closure_kind=self._gap_before[k] or "overnight",
            early_close=self._early[k] if session in (SESSION_PRE, SESSION_OVERNIGHT) else (
                self._early[i] if i >= 0 and session == SESSION_POST else False),
            next_open=_from_seconds(self.opens[k]),
            next_close=_from_seconds(self.closes[k]),
            last_close=_from_seconds(last_close) if last_close is not None else None,
            seconds_since_close=s - last_close if last_close is not None else None,
        )

    # --- vectorised -------------------------------------------------------------------------------

    def is_open_many(self, ts_ns: np.ndarray) -> np.ndarray:
        """Regular-session membership for many UTC-nanosecond instants at once."""
        ts_ns = np.asarray(ts_ns, dtype=np.int64)
        i = np.searchsorted(self.opens_ns, ts_ns, side="right") - 1
        ok = i >= 0
        closes = self.closes_ns[np.clip(i, 0, None)]
        return ok & (ts_ns < closes)

    def closed_spans(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Regular-market closures overlapping [start, end], for shading charts."""
        s, e = _to_seconds(start), _to_seconds(end)
        lo = max(bisect.bisect_right(self.closes, s) - 1, 0)
        hi = min(bisect.bisect_right(self.opens, e) + 1, len(self.opens))
        spans = []
        for i in range(lo, hi - 1):
            a, b = max(self.closes[i], s), min(self.opens[i + 1], e)
            if a < b:
                spans.append((_from_seconds(a), _from_seconds(b)))
        return spans


class _ConstantClock:
    """Calendars that never change state: a token's own 24/7 market, or a pre-IPO 'always closed' one."""

    name = ""
    open_ = True
    start = datetime(2000, 1, 1, tzinfo=UTC)
    end = datetime(2100, 1, 1, tzinfo=UTC)

    def state(self, t: datetime) -> ClockState:
        if self.open_:
            return ClockState(SESSION_REGULAR, True, None, False, None, None, None, None)
        # pre-IPO: no exchange session ever; treat it as one long unscheduled closure (widest haircut)
        return ClockState(SESSION_CLOSED, False, "unplanned", False, None, None, None, None)

    def is_open(self, t: datetime) -> bool:
        return self.open_

    def session(self, t: datetime) -> str:
        return self.state(t).session

    def next_open(self, t: datetime):
        return None

    def next_close(self, t: datetime):
        return None

    def last_open(self, t: datetime):
        return None

    def is_open_many(self, ts_ns: np.ndarray) -> np.ndarray:
        return np.full(np.shape(ts_ns), self.open_, dtype=bool)

    def closed_spans(self, start: datetime, end: datetime):
        return [] if self.open_ else [(start, end)]

    def gap_kind(self, prev_session, next_session) -> str:
        return "overnight"

    def sessions(self):
        return []


class AlwaysOpenClock(_ConstantClock):
    name = ALWAYS_OPEN
    open_ = True


class AlwaysClosedClock(_ConstantClock):
    name = ALWAYS_CLOSED
    open_ = False
