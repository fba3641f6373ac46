"""The compiled market clock agrees with exchange_calendars, and gets every tricky instant right."""
from datetime import datetime, timedelta, timezone

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oracles.clock import CALENDAR_END, CALENDAR_START, ClockRangeError, MarketClock

UTC = timezone.utc
CLOCK = MarketClock.get("XNYS")
CAL = xcals.get_calendar("XNYS", start=CALENDAR_START, end=CALENDAR_END)


def et(text: str) -> datetime:
    return pd.Timestamp(text, tz="America/New_York").to_pydatetime().astimezone(UTC)


instants = st.integers(int(datetime(2000, 1, 5, tzinfo=UTC).timestamp()),
                       int(datetime(2035, 12, 1, tzinfo=UTC).timestamp()))


@settings(max_examples=3000, deadline=None)
@given(instants)
def test_agrees_with_exchange_calendars(seconds):
    t = datetime.fromtimestamp(seconds, UTC)
    minute = pd.Timestamp(t).floor("min")
    # exchange_calendars minutes are [open, close) with side="left"
    assert CLOCK.is_open(minute.to_pydatetime()) == CAL.is_open_on_minute(minute)
    assert CLOCK.next_open(t) == CAL.next_open(pd.Timestamp(t)).to_pydatetime()
    assert CLOCK.next_close(t) == CAL.next_close(pd.Timestamp(t)).to_pydatetime()
    state = CLOCK.state(t)
    assert state.is_open == (state.session == "regular")
    assert (state.closure_kind is None) == state.is_open


def test_vectorised_agrees_with_scalar():
    rng = np.random.default_rng(7)
    ts = rng.integers(946_944_000, 2_080_000_000, 20_000, dtype=np.int64) * 10**9
    many = CLOCK.is_open_many(ts)
    scalar = [CLOCK.is_open(datetime.fromtimestamp(int(t) // 10**9, UTC)) for t in ts]
    assert many.tolist() == scalar


@pytest.mark.parametrize("instant, session, kind, early", [
    ("2024-11-28 12:00", "closed", "holiday", False),  # Thanksgiving (Thursday)
    ("2024-11-29 12:59", "regular", None, True),  # early close day
    ("2024-11-29 13:00", "post_market", "weekend", True),  # closes at 13:00; extended hours to 17:00
    ("2024-11-29 17:30", "closed", "weekend", False),
    ("2024-07-03 12:30", "regular", None, True),
    ("2024-03-29 12:00", "closed", "holiday_weekend", False),  # Good Friday
    ("2025-01-20 10:00", "closed", "holiday_weekend", False),  # MLK Monday
    ("2025-12-24 18:00", "closed", "holiday", False),  # Christmas Thursday: Wed close -> Fri open
    ("2024-11-25 09:29", "pre_market", "weekend", False),  # Monday 09:29 ET
    ("2024-11-24 20:30", "overnight", "weekend", False),  # Sunday evening
    ("2024-11-25 21:00", "overnight", "overnight", False),
    ("2024-11-25 16:30", "post_market", "overnight", False),  # regular market shut: overnight gap
    ("2024-11-23 12:00", "closed", "weekend", False),  # Saturday
    ("2012-10-29 12:00", "closed", "unplanned", False),  # Hurricane Sandy
    ("2025-01-09 12:00", "closed", "unplanned", False),  # President Carter's funeral
    ("2018-12-05 12:00", "closed", "unplanned", False),
])
def test_named_instants(instant, session, kind, early):
    state = CLOCK.state(et(instant))
    assert (state.session, state.closure_kind, state.early_close) == (session, kind, early)


def test_dst_switches_move_the_open_in_utc():
    # 2024-03-10 and 2024-11-03: the Monday after opens at 13:30Z (EDT) vs 14:30Z (EST)
    assert CLOCK.next_open(datetime(2024, 3, 10, 12, tzinfo=UTC)) == datetime(2024, 3, 11, 13, 30, tzinfo=UTC)
    assert CLOCK.next_open(datetime(2024, 11, 3, 12, tzinfo=UTC)) == datetime(2024, 11, 4, 14, 30, tzinfo=UTC)


def test_next_open_and_close_are_strictly_after():
    open_ = et("2024-11-25 09:30")
    assert CLOCK.is_open(open_)
    assert CLOCK.next_open(open_) == et("2024-11-26 09:30")
    close = et("2024-11-25 16:00")
    assert not CLOCK.is_open(close)
    assert CLOCK.next_close(close) == et("2024-11-26 16:00")
    assert CLOCK.state(close).seconds_since_close == 0


def test_out_of_range_raises():
    with pytest.raises(ClockRangeError):
        CLOCK.state(datetime(1990, 1, 1, tzinfo=UTC))
    with pytest.raises(ClockRangeError):
        CLOCK.state(datetime(2040, 1, 1, tzinfo=UTC))


def test_calendar_reaches_years_ahead():
    assert CLOCK.end > datetime.now(UTC) + timedelta(days=5 * 365)


def test_special_calendars():
    pre_ipo, token = MarketClock.get("ALWAYS_CLOSED"), MarketClock.get("24/7")
    now = datetime.now(UTC)
    assert not pre_ipo.state(now).is_open and pre_ipo.state(now).closure_kind == "unplanned"
    assert token.state(now).is_open and token.state(now).session == "regular"
    assert pre_ipo.is_open_many(np.zeros(3, dtype=np.int64)).tolist() == [False] * 3
