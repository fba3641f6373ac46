"""The compiled market clock agrees with exchange_calendars, and gets every tricky instant right.

Plain pytest: no Django settings or database needed.
"""
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pytest
from dateutil.easter import easter
from hypothesis import given, settings
from hypothesis import strategies as st

from core.clock import (
    CALENDAR_END,
    CALENDAR_START,
    CLOSURE_KINDS,
    SESSIONS,
    ClockRangeError,
    ClockState,
    MarketClock,
)

ET = ZoneInfo("America/New_York")
CLOCK = MarketClock.get("XNYS")
CAL = xcals.get_calendar("XNYS", start=CALENDAR_START, end=CALENDAR_END)
REGULAR_HOLIDAYS = set(CAL.regular_holidays.holidays(CAL.sessions[0], CAL.sessions[-1]).date)
ADHOC = {ts.date() for ts in CAL.adhoc_holidays}


def et(text: str) -> datetime:
    """An America/New_York wall-clock time as a UTC datetime."""
    return pd.Timestamp(text, tz="America/New_York").to_pydatetime().astimezone(UTC)


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


# --- an independent reference built from exchange_calendars' own API, one call at a time ---------------

def reference_session(t: datetime) -> str:
    local = t.astimezone(ET)
    day, clock_time = local.date(), local.time()
    if CAL.is_session(day):
        open_, close = CAL.session_open(day), CAL.session_close(day)
        if open_ <= t < close:
            return "regular"
        if close <= t < close + timedelta(hours=4):  # 16:00-20:00, or 13:00-17:00 after an early close
            return "post_market"
        if time(4) <= clock_time and t < open_:
            return "pre_market"
        if clock_time < time(4):
            return "overnight"
    if clock_time >= time(20) and CAL.is_session(day + timedelta(days=1)):
        return "overnight"
    return "closed"


def reference_gap_kind(prev_session: date, next_session: date) -> str:
    days = [prev_session + timedelta(days=n) for n in range(1, (next_session - prev_session).days)]
    if any(d in ADHOC for d in days):
        return "unplanned"
    weekend = any(d.weekday() >= 5 for d in days)
    holiday = any(d.weekday() < 5 and d in REGULAR_HOLIDAYS for d in days)  # the rules list some weekend dates
    return {(True, True): "holiday_weekend", (False, True): "holiday", (True, False): "weekend"}.get(
        (weekend, holiday), "overnight")


def is_early(session: pd.Timestamp) -> bool:
    return CAL.session_close(session).tz_convert(ET).time() < time(16)


# --- property test: random instants plus instants crowded around every edge ---------------------------

LO = int(et("2000-01-05 00:00").timestamp())  # exchange_calendars' previous_close needs a session before t
HI = int(datetime(2031, 1, 1, tzinfo=UTC).timestamp())
_edges = np.concatenate([CAL.opens.astype("int64") // 10**9, CAL.closes.astype("int64") // 10**9,
                         CAL.closes.astype("int64") // 10**9 + 4 * 3600])
_local = pd.DatetimeIndex(CAL.sessions)
_edges = np.concatenate([_edges, (_local + pd.Timedelta(hours=4)).tz_localize(ET).asi8 // 10**9,
                         (_local - pd.Timedelta(hours=4)).tz_localize(ET).asi8 // 10**9])  # 20:00 the day before
EDGES = sorted(int(e) for e in _edges if LO + 300 < e < HI - 300)
instants = st.one_of(
    st.integers(LO, HI),
    st.builds(lambda edge, offset: edge + offset, st.sampled_from(EDGES), st.integers(-90, 90)),
)


@settings(max_examples=3000, deadline=None)
@given(instants)
def test_agrees_with_exchange_calendars(seconds):
    t = utc(seconds)
    ts = pd.Timestamp(t)
    minute = ts.floor("min")
    # exchange_calendars' minutes are [open, close) (side="left"); every edge is a whole minute
    assert CLOCK.is_open(t) == CAL.is_open_on_minute(minute)
    assert CLOCK.next_open(t) == CAL.next_open(ts)  # both strictly after t
    assert CLOCK.next_close(t) == CAL.next_close(ts)

    state = CLOCK.state(t)
    assert state.session == reference_session(t) == CLOCK.session(t)
    assert state.is_open == CLOCK.is_open(t) == (state.session == "regular")
    assert (state.next_open, state.next_close) == (CLOCK.next_open(t), CLOCK.next_close(t))
    if state.is_open:
        assert state.closure_kind is None and state.seconds_since_close is None
        assert state.last_close == CAL.previous_close(minute)
        assert state.early_close == is_early(CAL.minute_to_session(minute))
    else:
        # exchange_calendars' previous_close is strictly before the minute; ours is at or before t
        assert state.last_close == CAL.previous_close(minute + pd.Timedelta(minutes=1))
        assert state.seconds_since_close == int(seconds - state.last_close.timestamp()) >= 0
        prev_session = CAL.minute_to_session(state.last_close - timedelta(minutes=1)).date()
        next_session = CAL.minute_to_session(state.next_open).date()
        assert state.closure_kind == reference_gap_kind(prev_session, next_session)
        if state.session in ("pre_market", "overnight"):
            assert state.early_close == is_early(pd.Timestamp(next_session))
        elif state.session == "post_market":
            assert state.early_close == is_early(pd.Timestamp(prev_session))
        else:
            assert state.early_close is False


def test_every_minute_agrees_with_exchange_calendars():
    # all 19 million minutes of the range, a year at a time, against exchange_calendars' trading minutes
    trading = CAL.minutes.as_unit("ns").asi8
    for year in range(2000, 2037):
        lo, hi = (pd.Timestamp(f"{y}-01-01", tz="UTC").value for y in (year, year + 1))
        minutes = np.arange(lo, hi, 60 * 10**9, dtype=np.int64)
        expected = trading[(trading >= lo) & (trading < hi)]
        assert np.array_equal(minutes[CLOCK.is_open_many(minutes)], expected), year


def test_every_session_edge_has_the_reference_session():
    # reference_session vectorised with pandas; every edge is on :00 or :30, so checking each half hour
    # and the minute before it covers every edge of the range from both sides
    days = np.asarray(CAL.sessions.values, dtype="datetime64[D]")
    opens, closes = (pd.DatetimeIndex(x).as_unit("ns").asi8 for x in (CAL.opens, CAL.closes))
    hour = 3600 * 10**9
    for year in range(2000, 2037):
        lo, hi = (pd.Timestamp(f"{y}-01-01", tz="UTC").value for y in (year, year + 1))
        half_hours = np.arange(lo + 60 * 10**9, hi, 1800 * 10**9, dtype=np.int64)
        minutes = np.sort(np.concatenate([half_hours, half_hours - 60 * 10**9]))
        local = pd.DatetimeIndex(minutes, tz="UTC").tz_convert(ET)
        day = np.asarray(local.tz_localize(None).normalize().values, dtype="datetime64[D]")
        clock_hour = np.asarray(local.hour)
        k = np.clip(np.searchsorted(days, day), 0, len(days) - 1)
        session_day = days[k] == day
        o, c = opens[k], closes[k]
        next_is_session = np.isin(day + np.timedelta64(1, "D"), days)
        expected = np.full(len(minutes), "closed", dtype=object)
        expected[(clock_hour >= 20) & next_is_session] = "overnight"
        expected[session_day & (clock_hour < 4)] = "overnight"
        expected[session_day & (clock_hour >= 4) & (minutes < o)] = "pre_market"
        expected[session_day & (minutes >= c) & (minutes < c + 4 * hour)] = "post_market"
        expected[session_day & (minutes >= o) & (minutes < c)] = "regular"
        got = CLOCK.session_many(minutes)
        assert np.array_equal(got.astype(object), expected), (year, minutes[got != expected][:3])


def test_vectorised_agrees_with_scalar():
    rng = np.random.default_rng(7)
    seconds = rng.integers(int(CLOCK.start.timestamp()), int(CLOCK.end.timestamp()), 20_000, dtype=np.int64)
    seconds[:2000] = rng.choice(np.asarray(EDGES), 2000) + rng.integers(-2, 2, 2000)  # on and beside edges
    ns = seconds * 10**9
    assert CLOCK.is_open_many(ns).tolist() == [CLOCK.is_open(utc(s)) for s in seconds.tolist()]
    assert CLOCK.is_open_many(ns).tolist() == [CLOCK.is_open_epoch(s) for s in seconds.tolist()]
    assert CLOCK.session_many(ns).tolist() == [CLOCK.session(utc(s)) for s in seconds.tolist()]


def test_sub_second_instants_at_the_edges():
    open_ = et("2024-11-25 09:30")
    assert not CLOCK.is_open(open_ - timedelta(microseconds=1))
    assert CLOCK.is_open(open_)
    close = et("2024-11-25 16:00")
    assert CLOCK.is_open(close - timedelta(microseconds=1))
    assert not CLOCK.is_open(close)
    ns = np.array([int(open_.timestamp()) * 10**9 - 1, int(close.timestamp()) * 10**9 - 1], dtype=np.int64)
    assert CLOCK.is_open_many(ns).tolist() == [False, True]


# --- named instants -------------------------------------------------------------------------------------

@pytest.mark.parametrize("instant, session, kind, early", [
    # Thanksgiving 2024: Wednesday's evening has no overnight, Thursday is shut, Friday closes at 13:00
    ("2024-11-27 19:59", "post_market", "holiday", False),
    ("2024-11-27 20:00", "closed", "holiday", False),
    ("2024-11-28 12:00", "closed", "holiday", False),
    ("2024-11-28 20:00", "overnight", "holiday", True),
    ("2024-11-29 08:00", "pre_market", "holiday", True),
    ("2024-11-29 12:59", "regular", None, True),
    ("2024-11-29 13:00", "post_market", "weekend", True),  # extended hours end at 17:00 on early-close days
    ("2024-11-29 16:59", "post_market", "weekend", True),
    ("2024-11-29 17:00", "closed", "weekend", False),
    # July 3 2024 (Wednesday) closes at 13:00; July 4 is a weekday holiday
    ("2024-07-03 12:59", "regular", None, True),
    ("2024-07-03 13:00", "post_market", "holiday", True),
    ("2024-07-03 20:30", "closed", "holiday", False),
    ("2024-07-04 20:30", "overnight", "holiday", False),
    # Good Friday 2024-03-29
    ("2024-03-28 20:30", "closed", "holiday_weekend", False),
    ("2024-03-29 12:00", "closed", "holiday_weekend", False),
    ("2024-03-31 20:30", "overnight", "holiday_weekend", False),
    # MLK Monday 2025-01-20: no Sunday overnight, Monday night's overnight leads to Tuesday
    ("2025-01-19 20:30", "closed", "holiday_weekend", False),
    ("2025-01-20 10:00", "closed", "holiday_weekend", False),
    ("2025-01-20 20:30", "overnight", "holiday_weekend", False),
    ("2025-01-21 09:29", "pre_market", "holiday_weekend", False),
    # Christmas 2024 is a Wednesday, Christmas 2025 a Thursday; both Christmas Eves close at 13:00
    ("2024-12-24 14:00", "post_market", "holiday", True),
    ("2024-12-25 12:00", "closed", "holiday", False),
    ("2024-12-26 09:29", "pre_market", "holiday", False),
    ("2025-12-24 18:00", "closed", "holiday", False),
    ("2025-12-25 20:30", "overnight", "holiday", False),
    # an ordinary week
    ("2024-11-22 20:00", "closed", "weekend", False),  # Friday night: no overnight into Saturday
    ("2024-11-23 12:00", "closed", "weekend", False),
    ("2024-11-24 19:59", "closed", "weekend", False),
    ("2024-11-24 20:00", "overnight", "weekend", False),  # Sunday evening starts the week
    ("2024-11-25 03:59", "overnight", "weekend", False),
    ("2024-11-25 04:00", "pre_market", "weekend", False),
    ("2024-11-25 09:29", "pre_market", "weekend", False),  # Monday 09:29 ET is still in the weekend gap
    ("2024-11-25 09:30", "regular", None, False),
    ("2024-11-25 16:00", "post_market", "overnight", False),
    ("2024-11-25 20:00", "overnight", "overnight", False),
    # unplanned closures (exchange_calendars' adhoc_holidays)
    ("2012-10-26 20:30", "closed", "unplanned", False),  # Friday before Hurricane Sandy
    ("2012-10-29 12:00", "closed", "unplanned", False),
    ("2012-10-30 20:30", "overnight", "unplanned", False),
    ("2018-12-05 12:00", "closed", "unplanned", False),  # President G. H. W. Bush's funeral
    ("2025-01-08 20:30", "closed", "unplanned", False),
    ("2025-01-09 12:00", "closed", "unplanned", False),  # President Carter's funeral
    ("2025-01-10 09:00", "pre_market", "unplanned", False),
])
def test_named_instants(instant, session, kind, early):
    state = CLOCK.state(et(instant))
    assert (state.session, state.closure_kind, state.early_close) == (session, kind, early)
    assert state.is_open == (session == "regular")


def test_thanksgiving_2024():
    assert not CLOCK.is_open(et("2024-11-28 12:00"))
    assert CLOCK.next_open(et("2024-11-27 16:00")) == et("2024-11-29 09:30")
    assert CLOCK.next_close(et("2024-11-28 12:00")) == et("2024-11-29 13:00") == datetime(2024, 11, 29, 18,
                                                                                           tzinfo=UTC)
    friday = CLOCK.state(et("2024-11-29 14:00"))
    assert friday.last_close == et("2024-11-29 13:00") and friday.seconds_since_close == 3600


def test_july_3_closes_early():
    assert CLOCK.next_close(et("2024-07-03 10:00")) == et("2024-07-03 13:00")
    assert CLOCK.next_open(et("2024-07-03 10:00")) == et("2024-07-05 09:30")
    assert CLOCK.gap_kind(date(2024, 7, 3), date(2024, 7, 5)) == "holiday"


def test_named_gaps():
    assert CLOCK.gap_kind(date(2024, 3, 28), date(2024, 4, 1)) == "holiday_weekend"  # Good Friday
    assert CLOCK.gap_kind(date(2025, 1, 17), date(2025, 1, 21)) == "holiday_weekend"  # MLK
    assert CLOCK.gap_kind(date(2025, 12, 24), date(2025, 12, 26)) == "holiday"  # Christmas Thursday
    assert CLOCK.gap_kind(date(2024, 11, 22), date(2024, 11, 25)) == "weekend"
    assert CLOCK.gap_kind(date(2024, 11, 25), date(2024, 11, 26)) == "overnight"
    assert CLOCK.gap_kind(date(2012, 10, 26), date(2012, 10, 31)) == "unplanned"  # Sandy, two days
    assert CLOCK.gap_kind(date(2025, 1, 8), date(2025, 1, 10)) == "unplanned"
    assert CLOCK.gap_kind(pd.Timestamp("2025-01-08"), pd.Timestamp("2025-01-10")) == "unplanned"
    # not consecutive (a missing data bar): the session in between is skipped, not counted as a closure
    assert CLOCK.gap_kind(date(2024, 11, 22), date(2024, 11, 26)) == "weekend"
    with pytest.raises(ValueError):
        CLOCK.gap_kind(date(2024, 11, 26), date(2024, 11, 25))
    with pytest.raises(ClockRangeError):
        CLOCK.gap_kind(date(1990, 1, 2), date(1990, 1, 4))


def test_gap_census_2000_to_2036():
    sessions = CLOCK.sessions()
    kinds = {(a, b): CLOCK.gap_kind(a, b) for a, b in pairwise(sessions)}
    assert set(kinds.values()) == set(CLOSURE_KINDS)
    assert all(kind == reference_gap_kind(a, b) for (a, b), kind in kinds.items())
    assert sorted(pair for pair, kind in kinds.items() if kind == "unplanned") == [
        (date(2001, 9, 10), date(2001, 9, 17)),  # 9/11
        (date(2004, 6, 10), date(2004, 6, 14)),  # Reagan's funeral (a Friday)
        (date(2006, 12, 29), date(2007, 1, 3)),  # Ford's funeral next to New Year's Day
        (date(2012, 10, 26), date(2012, 10, 31)),  # Hurricane Sandy
        (date(2018, 12, 4), date(2018, 12, 6)),  # G. H. W. Bush's funeral
        (date(2025, 1, 8), date(2025, 1, 10)),  # Carter's funeral
    ]
    for year in range(2000, 2037):
        good_friday = easter(year) - timedelta(days=2)
        assert kinds[(good_friday - timedelta(days=1), good_friday + timedelta(days=3))] == "holiday_weekend"
        thanksgiving = max(d for d in (date(year, 11, n) for n in range(22, 29)) if d.weekday() == 3)
        assert kinds[(thanksgiving - timedelta(days=1), thanksgiving + timedelta(days=1))] == "holiday"


def test_weekday_closures_are_either_regular_or_adhoc():
    # the holiday/unplanned split relies on exchange_calendars listing each weekday closure exactly once
    assert not REGULAR_HOLIDAYS & ADHOC
    sessions = set(CLOCK.sessions())
    day = date(2000, 1, 1)
    while day <= date(2036, 12, 31):
        if day.weekday() < 5 and day not in sessions:
            assert day in REGULAR_HOLIDAYS or day in ADHOC, day
        day += timedelta(days=1)


def test_early_close_flag_matches_every_session():
    for session, open_ in zip(CAL.sessions, CAL.opens):
        assert CLOCK.state(open_.to_pydatetime()).early_close == is_early(session), session


def test_dst_switches_move_the_open_in_utc():
    # 2024-03-10 and 2024-11-03 are Sundays; the Monday after opens at 13:30Z (EDT) vs 14:30Z (EST)
    assert CLOCK.next_open(datetime(2024, 3, 8, 15, tzinfo=UTC)) == datetime(2024, 3, 11, 13, 30, tzinfo=UTC)
    assert CLOCK.next_open(datetime(2024, 3, 10, 12, tzinfo=UTC)) == datetime(2024, 3, 11, 13, 30, tzinfo=UTC)
    assert CLOCK.next_open(datetime(2024, 11, 1, 15, tzinfo=UTC)) == datetime(2024, 11, 4, 14, 30, tzinfo=UTC)
    assert CLOCK.next_open(datetime(2024, 11, 3, 12, tzinfo=UTC)) == datetime(2024, 11, 4, 14, 30, tzinfo=UTC)
    # Sunday 20:00 local starts the overnight: 00:00Z after spring forward, 01:00Z after fall back
    assert CLOCK.session(datetime(2024, 3, 10, 23, 59, tzinfo=UTC)) == "closed"
    assert CLOCK.session(datetime(2024, 3, 11, 0, 0, tzinfo=UTC)) == "overnight"
    assert CLOCK.session(datetime(2024, 11, 4, 0, 59, tzinfo=UTC)) == "closed"
    assert CLOCK.session(datetime(2024, 11, 4, 1, 0, tzinfo=UTC)) == "overnight"
    assert CLOCK.is_open(datetime(2024, 3, 11, 13, 30, tzinfo=UTC))
    assert not CLOCK.is_open(datetime(2024, 11, 4, 14, 29, tzinfo=UTC))


def test_next_open_and_close_are_strictly_after():
    open_, close = et("2024-11-25 09:30"), et("2024-11-25 16:00")
    assert CLOCK.next_open(open_ - timedelta(microseconds=1)) == open_
    assert CLOCK.is_open(open_) and CLOCK.next_open(open_) == et("2024-11-26 09:30")
    assert CLOCK.state(open_).next_open == et("2024-11-26 09:30")
    assert CLOCK.next_close(close - timedelta(microseconds=1)) == close
    assert not CLOCK.is_open(close) and CLOCK.next_close(close) == et("2024-11-26 16:00")
    at_close = CLOCK.state(close)
    assert (at_close.last_close, at_close.seconds_since_close) == (close, 0)
    assert CLOCK.last_open(et("2024-11-25 12:00")) == open_ == CLOCK.last_open(et("2024-11-25 23:00"))


def test_closed_spans_shade_the_gaps_between_sessions():
    spans = CLOCK.closed_spans(et("2024-11-27 12:00"), et("2024-12-02 12:00"))
    assert spans == [(et("2024-11-27 16:00"), et("2024-11-29 09:30")),  # Thanksgiving
                     (et("2024-11-29 13:00"), et("2024-12-02 09:30"))]  # early close, then the weekend
    assert CLOCK.closed_spans(et("2024-11-26 10:00"), et("2024-11-26 11:00")) == []


def test_input_time_zones():
    aware = et("2024-11-25 10:00")
    assert CLOCK.state(aware.replace(tzinfo=None)) == CLOCK.state(aware)  # naive means UTC
    assert CLOCK.state(aware.astimezone(ET)) == CLOCK.state(aware)
    assert CLOCK.state(pd.Timestamp(aware)) == CLOCK.state(aware)


def test_range_edges_and_out_of_range():
    assert CLOCK.start == datetime(2000, 1, 1, tzinfo=UTC)
    assert CLOCK.end == datetime(2037, 1, 1, tzinfo=UTC)
    assert CLOCK.end > datetime(2026, 11, 23, tzinfo=UTC) + timedelta(days=10 * 365)
    first = CLOCK.state(CLOCK.start)  # the month of padding gives the first instant a previous close
    assert (first.session, first.closure_kind) == ("closed", "weekend")
    assert first.last_close == et("1999-12-31 13:00")  # an early close
    assert first.next_open == et("2000-01-03 09:30")
    last = CLOCK.state(CLOCK.end - timedelta(microseconds=1))
    assert last.next_open == et("2037-01-02 09:30")
    for t in (CLOCK.start - timedelta(microseconds=1), CLOCK.end, datetime(1990, 1, 1, tzinfo=UTC),
              datetime(2040, 1, 1, tzinfo=UTC)):
        for lookup in (CLOCK.state, CLOCK.is_open, CLOCK.session, CLOCK.next_open, CLOCK.next_close):
            with pytest.raises(ClockRangeError):
                lookup(t)
        with pytest.raises(ClockRangeError):
            CLOCK.is_open_epoch(t.timestamp())
        with pytest.raises(ClockRangeError):
            CLOCK.is_open_many(np.array([int(t.timestamp()) * 10**9]))
    assert issubclass(ClockRangeError, ValueError)


def test_sessions_and_cache():
    assert MarketClock.get() is MarketClock.get("XNYS") is CLOCK
    sessions = CLOCK.sessions()
    assert sessions == [ts.date() for ts in CAL.sessions]
    assert (sessions[0], sessions[-1]) == (date(2000, 1, 3), date(2036, 12, 31))


def test_nasdaq_calendar_compiles_and_agrees():
    xnas = MarketClock.get("XNAS")
    cal = xcals.get_calendar("XNAS", start=CALENDAR_START, end=CALENDAR_END)
    rng = np.random.default_rng(3)
    minutes = rng.integers(int(cal.first_minute.timestamp()), int(cal.last_minute.timestamp()), 3000) // 60 * 60
    assert xnas.is_open_many(minutes * 10**9).tolist() == [
        cal.is_open_on_minute(pd.Timestamp(int(m), unit="s", tz="UTC")) for m in minutes]
    assert xnas.state(et("2025-01-09 12:00")).closure_kind == "unplanned"


def test_special_calendars():
    pre_ipo, token = MarketClock.get("ALWAYS_CLOSED"), MarketClock.get("24/7")
    instants = [datetime(1990, 1, 1, tzinfo=UTC), et("2024-11-25 12:00"), et("2024-11-23 12:00"),
                datetime(2060, 6, 1, tzinfo=UTC), datetime(2024, 1, 1)]
    for t in instants:
        assert pre_ipo.state(t) == ClockState("closed", False, "unplanned", False, None, None, None, None)
        assert not pre_ipo.is_open(t) and pre_ipo.session(t) == "closed"
        assert pre_ipo.next_open(t) is None and pre_ipo.next_close(t) is None
        assert token.state(t) == ClockState("regular", True, None, False, None, None, None, None)
        assert token.is_open(t) and token.session(t) == "regular"
        assert token.next_open(t) is None and token.next_close(t) is None
    ns = np.zeros(3, dtype=np.int64)
    assert pre_ipo.is_open_many(ns).tolist() == [False] * 3 and token.is_open_many(ns).tolist() == [True] * 3
    assert token.session_many(ns).tolist() == ["regular"] * 3
    assert pre_ipo.sessions() == [] == token.sessions()


def test_public_names():
    assert SESSIONS == ("pre_market", "regular", "post_market", "overnight", "closed")
    assert CLOSURE_KINDS == ("overnight", "weekend", "holiday", "holiday_weekend", "unplanned")
