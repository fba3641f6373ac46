"""common.api.serializers.FastOutputMixin renders exactly what DRF's own to_representation renders."""
import datetime

import pytest
from rest_framework import serializers

from common.api.serializers import FastOutputMixin
from markets import selectors
from markets.api.serializers import MarketSerializer
from markets.models import Reserve
from tests.factories import make_universe

pytestmark = pytest.mark.django_db


def drf_rendering(serializer_class, instances):
    class Plain(serializer_class):
        def to_representation(self, instance):
            return serializers.Serializer.to_representation(self, instance)
    return Plain(instances, many=True).data


def test_the_markets_render_as_drf_renders_them():
    make_universe()
    Reserve.objects.filter(asset__symbol="TSLAx").update(grace_until=datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC),
                                                         deficit=12_345, paused=True)
    views = selectors.market_list()
    fast = MarketSerializer(views, many=True).data
    assert fast == drf_rendering(MarketSerializer, views)
    assert len(fast) == Reserve.objects.count() and {m["symbol"] for m in fast} >= {"TSLAx", "USDC"}
    tsla = next(m for m in fast if m["symbol"] == "TSLAx")
    assert tsla["grace_until"] == "2026-01-02T00:00:00Z" and tsla["paused"] is True
    assert list(fast[0]) == list(MarketSerializer().fields)  # the declared order


def test_nulls_nested_paths_and_whole_object_fields():
    class Row:
        def __init__(self, name, inner):
            self.name, self.inner = name, inner

    class Inner:
        when = None
        size = 7

    class Out(FastOutputMixin, serializers.Serializer):
        name = serializers.CharField()
        size = serializers.IntegerField(source="inner.size")
        when = serializers.DateTimeField(source="inner.when", allow_null=True)
        whole = serializers.SerializerMethodField()

        def get_whole(self, obj):
            return (obj.name or "-").upper()

    rows = [Row("a", Inner()), Row(None, Inner())]
    assert Out(rows, many=True).data == drf_rendering(Out, rows) == [
        {"name": "a", "size": 7, "when": None, "whole": "A"}, {"name": None, "size": 7, "when": None, "whole": "-"}]


def test_a_missing_attribute_is_left_to_drf():
    class Bare:
        name = "x"

    class Out(FastOutputMixin, serializers.Serializer):
        name = serializers.CharField()
        size = serializers.IntegerField(source="inner.size", read_only=True)  # left out, as DRF does
        when = serializers.DateTimeField(source="inner.when", default=None, read_only=True)

    assert Out(Bare()).data == drf_rendering(Out, [Bare()])[0] == {"name": "x", "when": None}
