"""Ad-hoc exchange closures the haircut prices as holidays, because they were announced ahead (no Django).

The market-status API keeps closure_kind "unplanned" for every closure outside the regular holiday rules
(API.md, core/clock.py). The haircut asks another question: when the haircut was set, at the close before
the closure, could a lender have known the market would stay shut? A closure announced by then is as
foreseeable as a holiday, so it takes the holiday k; one decided later keeps the unplanned k.

Rule: an ad-hoc closure is *announced* if the exchange announced it no later than the last session before
it. The list below is explicit and sourced rather than derived from exchange_calendars (whose adhoc list
says nothing about announcement dates); tests/core/haircut/test_announced.py checks that every XNYS ad-hoc
closure since 2000 is classified here, so one added to exchange_calendars fails that test until someone
decides.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

# closure day -> the day the NYSE announced it (national days of mourning, proclaimed after a president's death)
ANNOUNCED: dict[date, date] = {
    date(2004, 6, 11): date(2004, 6, 7),  # Reagan, died 06-05; CNN Money 2004-06-07 "nyse_reagan"
    date(2007, 1, 2): date(2006, 12, 29),  # Ford, died 2006-12-26; Crain's New York 2006-12-29 (Nasdaq 12-28)
    date(2018, 12, 5): date(2018, 12, 1),  # G.H.W. Bush, died 11-30; NYSE release on Business Wire 2018-12-01
    date(2025, 1, 9): date(2024, 12, 30),  # Carter, died 2024-12-29; Fox Business 2024-12-30 ("NYSE said Monday")
}
# decided after the last close before them: nobody could have priced them in
UNFORESEEN: frozenset[date] = frozenset({
    date(2001, 9, 11), date(2001, 9, 12), date(2001, 9, 13), date(2001, 9, 14),  # the 9/11 attacks
    date(2012, 10, 29), date(2012, 10, 30),  # Hurricane Sandy: announced Sunday 10-28, after Friday's close
})


def announced_days(prev_session: date, next_session: date) -> list[date]:
    """Announced closure days strictly inside the gap that were known at `prev_session`'s close."""
    return sorted(d for d, said in ANNOUNCED.items() if prev_session < d < next_session and said <= prev_session)


def haircut_kind(gap_kind: Callable[[date, date], str], prev_session: date, next_session: date) -> str:
    """The closure kind the haircut prices: the calendar's, except that a gap made unplanned only by
    announced closures counts as a holiday (holiday_weekend if it also spans a weekend)."""
    kind = gap_kind(prev_session, next_session)
    if kind != "unplanned":
        return kind
    days = announced_days(prev_session, next_session)
    if not days:
        return kind
    # classify the pieces between announced days; any unplanned piece keeps the whole gap unplanned
    edges = [prev_session, *days, next_session]
    pieces = [gap_kind(a, b) for a, b in zip(edges, edges[1:], strict=False) if b - a > timedelta(days=1)]
    if "unplanned" in pieces:
        return kind
    return "holiday_weekend" if {"weekend", "holiday_weekend"} & set(pieces) else "holiday"


def haircut_gap_kind(gap_kind: Callable[[date, date], str]) -> Callable[[date, date], str]:
    """A drop-in for a calendar's gap_kind that answers the kind the haircut prices (for backtest.load_bars)."""
    return lambda prev_session, next_session: haircut_kind(gap_kind, prev_session, next_session)
