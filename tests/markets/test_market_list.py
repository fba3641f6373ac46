"""markets.selectors.market_list and market_by_symbol: views kept per raw row are the views built afresh, and any
change to a reserve's or its asset's columns, or a new second, shows at once."""
import dataclasses

import pytest

from markets import selectors
from markets.api.serializers import MarketSerializer
from markets.models import Asset, Reserve
from tests.factories import make_universe

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_memo():
    """Each test starts with the process's memo empty, so that no earlier test's entries fill it mid-test."""
    selectors._views.clear()
    selectors._built.clear()


def _fresh(now: int) -> dict[str, selectors.MarketView]:
    """Every market built from Reserve instances, without the process's memo."""
    engine = selectors.pool_engine_name()
    reserves = Reserve.objects.select_related("asset").order_by("asset_id")
    return {r.asset.symbol: selectors.market_view(r, now, engine) for r in reserves}


def _fields(view: selectors.MarketView) -> dict:
    """A view's values and its reserve's and asset's columns (a Model compares by primary key only)."""
    reserve = view.reserve
    return {**{f.name: getattr(view, f.name) for f in dataclasses.fields(view) if f.name not in ("reserve", "key")},
            **{f.attname: getattr(reserve, f.attname) for f in Reserve._meta.concrete_fields},
            **{f"asset.{f.attname}": getattr(reserve.asset, f.attname) for f in Asset._meta.concrete_fields}}


def _listed(monkeypatch, now: int) -> dict[str, selectors.MarketView]:
    monkeypatch.setattr(selectors, "now_seconds", lambda: now)
    return {v.reserve.asset.symbol: v for v in selectors.market_list()}


def test_kept_views_are_the_views_built_afresh(monkeypatch):
    make_universe()
    now = selectors.now_seconds()
    first, again = _listed(monkeypatch, now), _listed(monkeypatch, now)
    fresh = _fresh(now)
    assert list(first) == list(fresh)  # asset order
    for symbol, view in fresh.items():
        assert _fields(first[symbol]) == _fields(again[symbol]) == _fields(view)
        assert again[symbol] is first[symbol]  # the same state in the same second: not built again
        assert MarketSerializer(first[symbol]).data == MarketSerializer(view).data


def test_a_changed_reserve_or_asset_column_shows_at_once(monkeypatch):
    """Changes made behind the ORM's back (no signal, no save) still show: the rows are compared whole."""
    make_universe()
    now = selectors.now_seconds()
    before = _listed(monkeypatch, now)
    Reserve.objects.filter(asset__symbol="TSLAx").update(total_scaled_debt=10**70 + 1, paused=True)
    Asset.objects.filter(symbol="AAPLx").update(name="Apple, renamed")
    after = _listed(monkeypatch, now)
    assert after["TSLAx"].reserve.total_scaled_debt == 10**70 + 1 and after["TSLAx"].reserve.paused
    assert after["TSLAx"].total_borrowed != before["TSLAx"].total_borrowed
    assert after["AAPLx"].reserve.asset.name == "Apple, renamed"
    assert before["TSLAx"].reserve.total_scaled_debt != 10**70 + 1  # what a caller held is not changed under it
    assert after["NVDAx"] is before["NVDAx"]
    fresh = _fresh(now)
    assert all(_fields(after[s]) == _fields(v) for s, v in fresh.items())


def test_a_new_second_accrues_anew(monkeypatch):
    make_universe()
    Reserve.objects.filter(asset__symbol="USDC").update(total_scaled_debt=10**24, variable_borrow_rate=10**26)
    now = selectors.now_seconds()
    first = _listed(monkeypatch, now)["USDC"]
    later = _listed(monkeypatch, now + 3600)["USDC"]
    assert later.total_borrowed > first.total_borrowed
    assert _fields(later) == _fields(_fresh(now + 3600)["USDC"])


def test_market_by_symbol_is_the_listed_market_and_unknown_is_none(monkeypatch):
    make_universe()
    now = selectors.now_seconds()
    listed = _listed(monkeypatch, now)
    assert _fields(selectors.market_by_symbol("SPYx")) == _fields(listed["SPYx"])
    assert selectors.market_by_symbol("NOPE") is None


def test_a_full_memo_is_emptied_not_grown(monkeypatch):
    make_universe()
    monkeypatch.setattr(selectors._views, "size", 30)
    monkeypatch.setattr(selectors._built, "size", 30)
    now = selectors.now_seconds()
    for second in range(5):
        _listed(monkeypatch, now + second)
        assert len(selectors._views) <= 30 and len(selectors._built) <= 30
    assert _fields(_listed(monkeypatch, now + 5)["USDC"]) == _fields(_fresh(now + 5)["USDC"])
