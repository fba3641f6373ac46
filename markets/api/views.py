from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors, services
from ..models import Reserve
from .serializers import AssetSerializer, MarketPatchSerializer, MarketSerializer, PoolPatchSerializer, PoolSerializer


class AssetListView(generics.ListAPIView):
    """Every asset in the universe."""

    serializer_class = AssetSerializer
    permission_classes = [permissions.AllowAny]

    def get_queryset(self):
        return selectors.asset_list()


class MarketListView(generics.ListAPIView):
    """Every reserve with its risk parameters, totals and rates."""

    serializer_class = MarketSerializer
    permission_classes = [permissions.AllowAny]

    def get_queryset(self):
        return selectors.market_list()


def _reserve(symbol: str) -> Reserve:
    return selectors.known(symbol, selectors.reserve_by_symbol)


class MarketDetailView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=MarketSerializer)
    def get(self, request, symbol: str):
        return Response(MarketSerializer(selectors.known(symbol, selectors.market_by_symbol)).data)


class AdminMarketView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(request=MarketPatchSerializer, responses=MarketSerializer)
    def patch(self, request, symbol: str):
        _reserve(symbol)
        serializer = MarketPatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        reason = changes.pop("reason")
        reserve = services.reserve_update_parameters(symbol=symbol, actor=request.user, changes=changes,
                                                     reason=reason)
        return Response(MarketSerializer(selectors.market_view(reserve)).data)



class AdminPoolView(APIView):
    """The pool's liquidation engine (v3.3 or v4) and Aave v4's knobs; every change audited with a reason."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(responses=PoolSerializer)
    def get(self, request):
        return Response(PoolSerializer(selectors.pool_get()).data)

    @extend_schema(request=PoolPatchSerializer, responses=PoolSerializer)
    def patch(self, request):
        serializer = PoolPatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        reason = changes.pop("reason")
        pool = services.pool_update_parameters(actor=request.user, changes=changes, reason=reason)
        return Response(PoolSerializer(pool).data)
