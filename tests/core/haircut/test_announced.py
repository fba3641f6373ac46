"""Announced ad-hoc closures take the holiday k; unforeseen ones stay unplanned; the calendar's kind is untouched."""
from datetime import date

import exchange_calendars as xcals
import pytest

from core.clock import MarketClock
from core.haircut import announced
from core.haircut import calibrated as haircut

GAP_KIND = MarketClock.get("XNYS").gap_kind


def test_every_adhoc_closure_since_2000_is_classified():
    """A closure added to exchange_calendars fails here until someone decides whether it was announced."""
    adhoc = {ts.date() for ts in xcals.get_calendar("XNYS", start="2000-01-01").adhoc_holidays if ts.year >= 2000}
    assert adhoc == set(announced.ANNOUNCED) | announced.UNFORESEEN
    assert not set(announced.ANNOUNCED) & announced.UNFORESEEN
    assert all(said < day for day, said in announced.ANNOUNCED.items())


@pytest.mark.parametrize("prev, nxt, calendar, priced", [
    (date(2018, 12, 4), date(2018, 12, 6), "unplanned", "holiday"),  # G.H.W. Bush, a Wednesday
    (date(2004, 6, 10), date(2004, 6, 14), "unplanned", "holiday_weekend"),  # Reagan, a Friday
    (date(2006, 12, 29), date(2007, 1, 3), "unplanned", "holiday_weekend"),  # Ford, after New Year's Day
    (date(2025, 1, 8), date(2025, 1, 10), "unplanned", "holiday"),  # Carter
    (date(2001, 9, 10), date(2001, 9, 17), "unplanned", "unplanned"),  # 9/11
    (date(2012, 10, 26), date(2012, 10, 31), "unplanned", "unplanned"),  # Sandy, announced after Friday's close
    (date(2024, 7, 3), date(2024, 7, 5), "holiday", "holiday"),
    (date(2024, 8, 2), date(2024, 8, 5), "weekend", "weekend"),
    (date(2024, 8, 5), date(2024, 8, 6), "overnight", "overnight"),
])
def test_haircut_kind(prev, nxt, calendar, priced):
    assert GAP_KIND(prev, nxt) == calendar
    assert announced.haircut_kind(GAP_KIND, prev, nxt) == priced


def test_haircut_gap_kind_is_a_drop_in():
    kind = announced.haircut_gap_kind(GAP_KIND)
    assert kind(date(2018, 12, 4), date(2018, 12, 6)) == "holiday"
    assert kind(date(2024, 8, 2), date(2024, 8, 5)) == "weekend"


def test_a_closure_announced_after_the_previous_close_stays_unplanned(monkeypatch):
    monkeypatch.setitem(announced.ANNOUNCED, date(2018, 12, 5), date(2018, 12, 5))
    assert announced.haircut_kind(GAP_KIND, date(2018, 12, 4), date(2018, 12, 6)) == "unplanned"


def test_closures_keep_the_calendar_kind_beside_the_priced_one():
    november = [date(2018, 11, 1 + i) for i in range(30)]
    dates = [d for d in november if d.weekday() < 5 and d != date(2018, 11, 22)]  # Thanksgiving
    dates += [date(2018, 12, 3), date(2018, 12, 4), date(2018, 12, 6)]
    closes = [100.0 + (i % 3) for i in range(len(dates))]
    rows = haircut.closures("X", dates, closes, closes, GAP_KIND)
    last = rows[-1]
    assert (last.date, last.kind, last.calendar_kind) == (date(2018, 12, 6), "holiday", "unplanned")
    legacy = haircut.closures("X", dates, closes, closes, GAP_KIND, haircut.LEGACY)[-1]
    assert (legacy.kind, legacy.calendar_kind) == ("unplanned", "")
    assert haircut.evaluate([last], {"holiday": 1.0})["closures"][0]["closure"] == "unplanned"
