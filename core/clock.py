"""Market clock: exchange_calendars compiled once into sorted arrays, answered with bisect (no Django).

exchange_calendars is the source of truth for sessions, holidays, early closes and unplanned closures;
this module only indexes its answers, so a lookup costs one bisect instead of a pandas call.

Range: every instant in [CALENDAR_START 00:00 UTC, the day after CALENDAR_END 00:00 UTC). The calendar
is built a month wider on each side so the first and last days of the range still have a previous close
and a next open. Outside the range every lookup raises ClockRangeError (a ValueError).

Sessions, in the exchange's time zone (America/New_York for XNYS/XNAS, DST-aware), named as Chainlink's
marketStatus. Every interval is half-open [from, to):
- regular: [open, close) of an exchange session (close is 13:00 on early-close days);
- post_market: [close, close + 4 h), i.e. 16:00-20:00, and 13:00-17:00 on early-close days (NYSE Arca and
  Nasdaq end late trading at 17:00 then);
- pre_market: [04:00, open) on a session's date;
- overnight: [20:00 on the calendar day before a session, 04:00 on the session's date). So Sunday 20:00
  starts the week, and the overnight into a Friday ends the week at 04:00 Friday;
- closed: everything else: Friday 20:00 to Sunday 20:00, whole holidays, the evening of a day whose next
  calendar day has no session (e.g. Wednesday 20:00 before Thanksgiving), and 17:00-20:00 after an early
  close.

ClockState fields beyond the session:
- closure_kind: the kind of the whole gap from the last regular close to the next regular open (API.md);
  None while the regular session is open. Precedence: unplanned > holiday_weekend > holiday > weekend >
  overnight. Weekday closures listed in the calendar's regular_holidays are "holiday"; any other weekday
  without a session (exchange_calendars' adhoc_holidays: 9/11, Sandy, days of mourning) is "unplanned".
- early_close: the trading day that t belongs to closes early. That day is the session itself during
  regular and post_market, and the coming session during pre_market and overnight (24/5 brokers book
  overnight trades to the next trading day). "closed" belongs to no trading day, so it is always False.
- next_open / next_close: first regular open / close strictly after t (as exchange_calendars).
- last_close: the most recent regular close at or before t (while open: the previous session's close).
  seconds_since_close counts from it, 0 at the close instant, and is None while open.

Special calendars: "24/7" (a token's own market: always regular/open) and "ALWAYS_CLOSED" (pre-IPO: always
closed; closure_kind "unplanned" because no reopening is scheduled, so the widest haircut applies; no
opens or closes, so next_open/next_close/last_close are None).
"""
from __future__ import annotations

import functools
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

SESSION_PRE, SESSION_REGULAR, SESSION_POST, SESSION_OVERNIGHT, SESSION_CLOSED = (
    "pre_market", "regular", "post_market", "overnight", "closed")
SESSIONS = (SESSION_PRE, SESSION_REGULAR, SESSION_POST, SESSION_OVERNIGHT, SESSION_CLOSED)
CLOSURE_KINDS = ("overnight", "weekend", "holiday", "holiday_weekend", "unplanned")
ALWAYS_OPEN, ALWAYS_CLOSED = "24/7", "ALWAYS_CLOSED"
CALENDARS = ("XNYS", "XNAS", ALWAYS_OPEN, ALWAYS_CLOSED)  # every calendar an asset or a clock query may name
CALENDAR_START = "2000-01-01"  # the shipped prices start 1999-12-31, which the padding covers for gap_kind
CALENDAR_END = "2036-12-31"  # 10 years ahead so a long-running simulator never falls off the end; XNYS has
# no upper bound in exchange_calendars (bound_max() is None) and building to 2036 takes ~0.3 s
PAD = timedelta(days=31)  # calendar built this much wider on each side (see module docstring)
POST_MARKET = timedelta(hours=4)
_NS = 10**9


class ClockRangeError(ValueError):
    """The instant is outside the compiled calendar."""


@dataclass(frozen=True)
class ClockState:
    session: str
    is_open: bool
    closure_kind: str | None  # kind of the whole gap last regular close -> next regular open
    early_close: bool  # the trading day t belongs to closes early (module docstring)
    next_open: datetime | None  # first regular open strictly after t
    next_close: datetime | None  # first regular close strictly after t
    last_close: datetime | None  # most recent regular close at or before t (previous session's while open)
    seconds_since_close: int | None  # None while the regular session is open


def _seconds(values) -> np.ndarray:
    """UTC epoch seconds of a tz-aware pandas datetime Series/Index, as int64."""
    import pandas as pd

    return np.asarray(pd.DatetimeIndex(values).tz_convert("UTC").as_unit("s").asi8, dtype=np.int64)


def _local_seconds(days: list[date], hour: int, tz: str) -> np.ndarray:
    """Epoch seconds of hour:00 local time on each day (04:00 and 20:00 never fall in a DST gap)."""
    import pandas as pd

    idx = pd.DatetimeIndex(days) + pd.Timedelta(hours=hour)
    return _seconds(idx.tz_localize(tz))


@functools.cache
def _compiled(calendar: str):
    if calendar == ALWAYS_OPEN:
        return AlwaysOpenClock()
    if calendar == ALWAYS_CLOSED:
        return AlwaysClosedClock()
    return MarketClock(calendar)


class MarketClock:
    """One exchange calendar compiled to sorted second/nanosecond arrays."""

    def __init__(self, name: str = "XNYS", start: str = CALENDAR_START, end: str = CALENDAR_END):
        import exchange_calendars as xcals

        first, last = date.fromisoformat(start), date.fromisoformat(end)
        cal = xcals.get_calendar(name, start=(first - PAD).isoformat(), end=(last + PAD).isoformat())
        self.name = name
        self.start = datetime(first.year, first.month, first.day, tzinfo=UTC)
        self.end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
        self._lo, self._hi = self.start.timestamp(), self.end.timestamp()
        self._lo_ns, self._hi_ns = int(self._lo) * _NS, int(self._hi) * _NS

        days = [ts.date() for ts in cal.sessions]
        n = len(days)
        self._days = days
        self._day_index = {d: k for k, d in enumerate(days)}
        opens, closes = _seconds(cal.opens), _seconds(cal.closes)
        early = np.isin(np.asarray(cal.sessions.values, dtype="datetime64[D]"),
                        np.asarray(cal.early_closes.values, dtype="datetime64[D]")).tolist()

        # weekend days come from the calendar's weekmask; regular holidays from its rules
        self._weekend = {i for i, c in enumerate(cal.weekmask) if c == "0"}
        rules = cal.regular_holidays
        self._regular_holidays = (set() if rules is None else
                                  {ts.date() for ts in rules.holidays(cal.sessions[0], cal.sessions[-1])})
        self._adhoc = {ts.date() for ts in cal.adhoc_holidays}
        self._gap_before = [None] + [self._classify(days[k - 1], days[k]) for k in range(1, n)]

        # regular-session edges, open/close alternating: bisect parity says open or not
        self._opens_s, self._closes_s = opens.tolist(), closes.tolist()
        edges = np.empty(2 * n, dtype=np.int64)
        edges[0::2], edges[1::2] = opens, closes
        self._edges = [float(e) for e in edges]  # floats: compared against datetime.timestamp() floats
        self._edges_ns = edges * _NS
        self._opens_dt = [datetime.fromtimestamp(s, UTC) for s in self._opens_s]
        self._closes_dt = [datetime.fromtimestamp(s, UTC) for s in self._closes_s]

        # every session boundary (regular and extended hours) as segments; ClockState fields other than
        # seconds_since_close are constant inside a segment, so state() is one bisect plus a table read
        pre = _local_seconds(days, 4, str(cal.tz))
        overnight = _local_seconds([d - timedelta(days=1) for d in days], 20, str(cal.tz))
        post_end = closes + int(POST_MARKET.total_seconds())
        starts, names, rows = [], [], []

        def add(at: int, session: str, k_next: int, early_day: bool) -> None:
            if session == SESSION_REGULAR:  # the whole state is constant: build it once
                i = k_next - 1
                row = (ClockState(session, True, None, early_day, self._opens_dt[k_next], self._closes_dt[i],
                                  self._closes_dt[i - 1] if i else None, None), None, None)
            else:  # all but seconds_since_close, and the last close to count it from
                row = (None, (session, False, self._gap_before[k_next], early_day,
                              self._opens_dt[k_next], self._closes_dt[k_next], self._closes_dt[k_next - 1]),
                       self._closes_s[k_next - 1])
            starts.append(int(at))
            names.append(session)
            rows.append(row)

        for k in range(n):  # the padding sessions at either end only anchor last_close / next_open
            if k:
                if post_end[k - 1] < overnight[k]:
                    add(post_end[k - 1], SESSION_CLOSED, k, False)
                add(overnight[k], SESSION_OVERNIGHT, k, early[k])
                add(pre[k], SESSION_PRE, k, early[k])
            if k + 1 < n:
                add(opens[k], SESSION_REGULAR, k + 1, early[k])
                add(closes[k], SESSION_POST, k + 1, early[k])
        self._seg_starts = [float(s) for s in starts]
        self._seg_starts_ns = np.asarray(starts, dtype=np.int64) * _NS
        self._seg_names = names
        self._seg_codes = np.asarray([SESSIONS.index(s) for s in names], dtype=np.int8)
        self._seg_rows = rows
        self._names = np.asarray(SESSIONS)
        assert self._seg_starts[0] <= self._lo and self._hi <= opens[-1], "padding must cover the range"

    @classmethod
    def get(cls, calendar: str = "XNYS") -> MarketClock | _ConstantClock:
        """The compiled clock for a calendar name, built once per process ("24/7", "ALWAYS_CLOSED" too)."""
        return _compiled(calendar)

    # --- gap classification --------------------------------------------------------------

    def _classify(self, prev_session: date, next_session: date) -> str:
        weekend = holiday = unplanned = False
        day = prev_session + timedelta(days=1)
        while day < next_session:
            if day.weekday() in self._weekend:
                weekend = True
            elif day in self._regular_holidays:
                holiday = True
            elif day not in self._day_index:  # a weekday closure outside the holiday rules: adhoc
                unplanned = True
            day += timedelta(days=1)
        if unplanned:
            return "unplanned"
        if weekend and holiday:
            return "holiday_weekend"
        return "holiday" if holiday else "weekend" if weekend else "overnight"

    def gap_kind(self, prev_session: date, next_session: date) -> str:
        """Closure kind of the gap between two sessions (O(1) for consecutive ones, as in backtests).

        Sessions between the two dates (a missing data bar) are skipped, not counted as closures.
        """
        prev_session, next_session = _as_date(prev_session), _as_date(next_session)
        k = self._day_index.get(next_session)
        if k and self._days[k - 1] == prev_session:
            return self._gap_before[k]
        if not prev_session < next_session:
            raise ValueError(f"{prev_session} is not before {next_session}")
        if prev_session < self._days[0] or next_session > self._days[-1]:
            raise ClockRangeError(f"{prev_session}..{next_session} is outside the {self.name} calendar")
        return self._classify(prev_session, next_session)

    def sessions(self) -> list[date]:
        """Session dates inside the range, oldest first."""
        lo, hi = self.start.date(), self.end.date()
        return [d for d in self._days if lo <= d < hi]

    # --- scalar lookups ------------------------------------------------------------------------

    def _x(self, t: datetime) -> float:
        if t.tzinfo is None:
            t = t.replace(tzinfo=UTC)
        x = t.timestamp()
        if not self._lo <= x < self._hi:
            raise self._range_error(t)
        return x

    def _range_error(self, t) -> ClockRangeError:
        return ClockRangeError(f"{t} is outside the {self.name} calendar's range "
                               f"[{self.start.isoformat()}, {self.end.isoformat()})")

    def is_open(self, t: datetime) -> bool:
        # the hot path (oracle reads, backtests): _x inlined to save a call
        if t.tzinfo is None:
            t = t.replace(tzinfo=UTC)
        x = t.timestamp()
        if not self._lo <= x < self._hi:
            raise self._range_error(t)
        return bisect_right(self._edges, x) & 1 == 1

    def is_open_epoch(self, seconds: float) -> bool:
        """Fast path for callers that already hold UTC epoch seconds (backtests, the scanner)."""
        if not self._lo <= seconds < self._hi:
            raise self._range_error(seconds)
        return bisect_right(self._edges, seconds) & 1 == 1

    def next_open(self, t: datetime) -> datetime:
        return self._opens_dt[(bisect_right(self._edges, self._x(t)) + 1) // 2]

    def next_close(self, t: datetime) -> datetime:
        return self._closes_dt[bisect_right(self._edges, self._x(t)) // 2]

    def last_open(self, t: datetime) -> datetime:
        """Open of the session in progress, or of the most recent one."""
        return self._opens_dt[(bisect_right(self._edges, self._x(t)) - 1) // 2]

    def session(self, t: datetime) -> str:
        return self._seg_names[bisect_right(self._seg_starts, self._x(t)) - 1]

    def state(self, t: datetime) -> ClockState:
        x = self._x(t)
        fixed, row, last_close = self._seg_rows[bisect_right(self._seg_starts, x) - 1]
        return fixed or ClockState(*row, int(x - last_close))

    # --- vectorised -------------------------------------------------------------------------------

    def _check_ns(self, ts_ns) -> np.ndarray:
        ts_ns = np.asarray(ts_ns, dtype=np.int64)
        if ts_ns.size and (ts_ns.min() < self._lo_ns or ts_ns.max() >= self._hi_ns):
            raise ClockRangeError(f"some instants are outside the {self.name} calendar's range "
                                  f"[{self.start.isoformat()}, {self.end.isoformat()})")
        return ts_ns

    def is_open_many(self, ts_ns: np.ndarray) -> np.ndarray:
        """Regular-session membership for many int64 UTC-nanosecond instants at once."""
        ts_ns = self._check_ns(ts_ns)
        return (np.searchsorted(self._edges_ns, ts_ns, side="right") & 1).astype(bool)

    def session_many(self, ts_ns: np.ndarray) -> np.ndarray:
        """Session names for many int64 UTC-nanosecond instants at once."""
        ts_ns = self._check_ns(ts_ns)
        return self._names[self._seg_codes[np.searchsorted(self._seg_starts_ns, ts_ns, side="right") - 1]]

    def closed_spans(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Regular-market closures overlapping [start, end], for shading charts."""
        s, e = _epoch(start), _epoch(end)
        opens, closes = self._opens_s, self._closes_s
        lo = max(bisect_right(closes, s) - 1, 0)
        hi = min(bisect_right(opens, e) + 1, len(opens))
        spans = []
        for i in range(lo, hi - 1):
            a, b = max(closes[i], s), min(opens[i + 1], e)
            if a < b:
                spans.append((datetime.fromtimestamp(a, UTC), datetime.fromtimestamp(b, UTC)))
        return spans


def _epoch(t: datetime) -> float:
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp()


def _as_date(d) -> date:
    return d.date() if isinstance(d, datetime) else d


class _ConstantClock:
    """Calendars that never change state: a token's own 24/7 market, or a pre-IPO 'always closed' one.

    They have no range limit and no sessions; next_open/next_close/last_close are None.
    """

    name = ""
    open_ = True
    start = datetime(2000, 1, 1, tzinfo=UTC)
    end = datetime(2100, 1, 1, tzinfo=UTC)

    def state(self, t: datetime) -> ClockState:
        if self.open_:
            return ClockState(SESSION_REGULAR, True, None, False, None, None, None, None)
        # pre-IPO: no exchange session is ever scheduled, so treat it as one long unplanned closure
        return ClockState(SESSION_CLOSED, False, "unplanned", False, None, None, None, None)

    def is_open(self, t: datetime) -> bool:
        return self.open_

    def is_open_epoch(self, seconds: float) -> bool:
        return self.open_

    def session(self, t: datetime) -> str:
        return SESSION_REGULAR if self.open_ else SESSION_CLOSED

    def next_open(self, t: datetime):
        return None

    def next_close(self, t: datetime):
        return None

    def last_open(self, t: datetime):
        return None

    def is_open_many(self, ts_ns: np.ndarray) -> np.ndarray:
        return np.full(np.shape(ts_ns), self.open_, dtype=bool)

    def session_many(self, ts_ns: np.ndarray) -> np.ndarray:
        return np.full(np.shape(ts_ns), self.session(None))

    def closed_spans(self, start: datetime, end: datetime):
        return [] if self.open_ else [(start, end)]

    def gap_kind(self, prev_session, next_session) -> str:
        return "overnight" if self.open_ else "unplanned"

    def sessions(self) -> list[date]:
        return []


class AlwaysOpenClock(_ConstantClock):
    name = ALWAYS_OPEN
    open_ = True


class AlwaysClosedClock(_ConstantClock):
    name = ALWAYS_CLOSED
    open_ = False
