"""common.api.serializers.MemoOutputMixin on the markets: a remembered answer is the answer DRF renders, a changed
market renders anew, and the key covers every field the serializer reads."""
import dataclasses

import pytest

from markets import selectors
from markets.api.serializers import MarketSerializer
from markets.models import Reserve
from tests.common.test_fast_output import drf_rendering
from tests.factories import make_universe

pytestmark = pytest.mark.django_db


def _rendered() -> list[dict]:
    return MarketSerializer(selectors.market_list(), many=True).data


def test_a_remembered_market_is_what_drf_renders_and_a_change_renders_anew():
    make_universe()
    first = _rendered()
    again = _rendered()  # from the memo
    assert first == again == drf_rendering(MarketSerializer, selectors.market_list())
    Reserve.objects.filter(asset__symbol="TSLAx").update(paused=True, deficit=777)
    before = {m["symbol"]: m for m in first}
    after = {m["symbol"]: m for m in _rendered()}
    assert (after["TSLAx"]["paused"], before["TSLAx"]["paused"]) == (True, False)
    assert after["TSLAx"]["deficit"] != before["TSLAx"]["deficit"]
    assert list(after.values()) == drf_rendering(MarketSerializer, selectors.market_list())


def test_every_field_read_is_in_the_key():
    make_universe()
    view_fields = {f.name for f in dataclasses.fields(selectors.MarketView)} - {"reserve"}
    for field in MarketSerializer().fields.values():
        path = field.source_attrs
        if path[0] == "reserve":  # every column of the row is in the key; of the asset, these two
            assert path[1] != "asset" or path[2] in ("symbol", "decimals"), field.field_name
        else:
            assert path[0] in view_fields, field.field_name
    view = dataclasses.replace(selectors.market_list()[0], key=None)  # a view built from a Reserve instance
    key = MarketSerializer().memo_key(view)
    assert all(getattr(view, name) in key for name in view_fields - {"key"})
    assert all(getattr(view.reserve, f.attname) in key for f in Reserve._meta.concrete_fields)


def test_a_view_from_a_raw_row_is_keyed_by_the_row_and_totals_it_follows_from(monkeypatch):
    make_universe()
    Reserve.objects.filter(asset__symbol="USDC").update(total_scaled_debt=10**24, variable_borrow_rate=10**26)
    now = selectors.now_seconds()
    monkeypatch.setattr(selectors, "now_seconds", lambda: now)
    views = {v.reserve.asset.symbol: v for v in selectors.market_list()}
    for view in views.values():
        row, supplied, borrowed, engine = MarketSerializer().memo_key(view)
        assert (supplied, borrowed, engine) == (view.total_supplied, view.total_borrowed, view.liquidation_engine)
        # the key's row is the reserve's and its asset's columns: the view is rebuilt from it exactly
        rebuilt = selectors.market_view(selectors._reserves.instance(row), now, engine)
        assert rebuilt == view
        assert MarketSerializer(rebuilt).data == MarketSerializer(view).data
    monkeypatch.setattr(selectors, "now_seconds", lambda: now + 60)
    later = {v.reserve.asset.symbol: v for v in selectors.market_list()}
    assert later["TSLAx"].key == views["TSLAx"].key  # no rate: the same answer a minute on, not rendered again
    assert later["USDC"].key != views["USDC"].key and later["USDC"].total_borrowed > views["USDC"].total_borrowed


def test_a_new_row_is_rendered_without_building_the_requests_fields():
    make_universe()
    view = selectors.market_list()[0]
    serializer = MarketSerializer(context={"request": None})
    MarketSerializer.__dict__.get("_memo", {}).clear()
    assert serializer.to_representation(view) == drf_rendering(MarketSerializer, [view])[0]
    assert "fields" not in serializer.__dict__  # DRF's deep copy of the declared fields: not made for a request


def test_callers_get_their_own_copy():
    make_universe()
    first = _rendered()
    first[0]["symbol"] = "changed by a caller"
    assert _rendered()[0]["symbol"] != "changed by a caller"
