"""rounds_backfill: a fresh install's charts start with weeks of shipped daily history, not minutes."""
from datetime import UTC, datetime

import pytest

from core.amounts import parse_price
from core.prices import bar_price
from markets.models import Asset
from markets.services import universe_load
from oracles.models import OracleRound
from oracles.services import feeds_ensure, rounds_backfill

pytestmark = pytest.mark.django_db

FRIDAY_NOON = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)  # the day after Thanksgiving: an early close


def test_history_comes_before_the_first_live_round_and_runs_once():
    universe_load()
    written = rounds_backfill(sessions=10, now=FRIDAY_NOON)
    tsla = Asset.objects.get(symbol="TSLAx")
    history = list(OracleRound.objects.filter(asset=tsla).order_by("round_id"))
    assert len(history) == 20 and {r.source for r in history} == {"history"}  # an open and a close a session
    assert all(a.created_at < b.created_at for a, b in zip(history, history[1:]))
    assert (FRIDAY_NOON - history[0].created_at).days >= 13  # ten sessions back, over a weekend and a holiday
    assert history[-1].created_at < FRIDAY_NOON
    # the last shipped close (2024-12-31 $403.84) is where the live feed starts: the line is continuous
    assert history[-1].reference_price == parse_price("403.84")
    # that session's open, scaled by the same factor (the file's close is 403.8399963378906)
    assert history[-2].reference_price == bar_price("423.7900085449219") * 40384000000 // bar_price("403.8399963378906")
    usdc = OracleRound.objects.filter(asset__symbol="USDC")
    assert usdc.count() == 10 and {r.reference_price for r in usdc} == {10**8}
    assert not OracleRound.objects.filter(asset__symbol="SPACEXpre").exists()  # no shipped bars, no history
    assert rounds_backfill(sessions=10, now=FRIDAY_NOON) == 0  # idempotent
    assert written == OracleRound.objects.count()
    feeds_ensure()
    live = OracleRound.objects.filter(asset=tsla).order_by("-round_id").first()
    assert live.source != "history" and live.round_id == 21 and live.created_at > history[-1].created_at
