from datetime import UTC, datetime

from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from common import readcache
from common.api.idempotency import IDEMPOTENCY_KEY, idempotent
from common.api.parsers import body_object
from common.errors import DomainError, NotFound
from core.clock import ClockRangeError, MarketClock
from markets.models import Asset
from markets.selectors import asset_by_symbol, known

from .. import selectors, services
from ..models import HaircutPolicy
from .serializers import (
    BacktestInSerializer,
    BacktestSerializer,
    HaircutTableSerializer,
    ManualPriceSerializer,
    MarketStatusQuerySerializer,
    MarketStatusSerializer,
    OraclePriceSerializer,
    PolicyOutSerializer,
    PolicySerializer,
    ShockResultSerializer,
    ShockSerializer,
    SourceOutSerializer,
    SourceSerializer,
    UnpinSerializer,
)


def _asset(symbol: str) -> Asset:
    return known(symbol, asset_by_symbol)


class OraclePriceListView(generics.ListAPIView):
    """Every asset's oracle read: reference, token and effective price, session, haircut, flags."""

    permission_classes = [permissions.AllowAny]
    serializer_class = OraclePriceSerializer

    def get_queryset(self):
        reads = selectors.oracle_reads(Asset.objects.order_by("id"), shared=True)
        return [OraclePriceSerializer.from_read(read) for read in reads.values()]

    def list(self, request, *args, **kwargs):
        # after authentication and throttling: a cached answer still counts against the caller's rate
        data = readcache.cached(selectors.PRICES, request.build_absolute_uri(),
                                lambda: dict(super(OraclePriceListView, self).list(request, *args, **kwargs).data))
        return Response(data)


class OraclePriceDetailView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=OraclePriceSerializer)
    def get(self, request, symbol: str):
        return Response(known(symbol, _price))


def _price(symbol: str) -> dict | None:
    """The asset's serialized oracle read, or None for no such asset; shared for the second (known() has refused a
    malformed symbol, so none becomes a cache key)."""
    def build():
        asset = asset_by_symbol(symbol)
        return None if asset is None else OraclePriceSerializer.from_read(selectors.oracle_read(asset))
    return readcache.cached(selectors.PRICES, f"price:{symbol}", build)


class HaircutTableView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=HaircutTableSerializer)
    def get(self, request, symbol: str):
        asset = _asset(symbol)
        return Response(selectors.asset_haircut_table(asset))


class MarketStatusView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(parameters=[MarketStatusQuerySerializer], responses=MarketStatusSerializer)
    def get(self, request):
        query = MarketStatusQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        calendar = query.validated_data["calendar"]
        at = query.validated_data.get("at") or datetime.now(UTC)
        clock = MarketClock.get(calendar)
        try:
            state = clock.state(at)
        except ClockRangeError as exc:
            raise DomainError(str(exc), code="out_of_range", field="at") from None
        except (OverflowError, ValueError, OSError):
            raise DomainError("at is outside the calendar's range.", code="out_of_range", field="at") from None
        return Response({
            "calendar": calendar, "at": at, "session": state.session, "is_open": state.is_open,
            "closure_kind": state.closure_kind, "early_close": state.early_close, "next_open": state.next_open,
            "next_close": state.next_close, "seconds_since_close": state.seconds_since_close,
        })


class StaffView(APIView):
    permission_classes = [permissions.IsAdminUser]


class ManualPriceView(StaffView):
    @extend_schema(request=ManualPriceSerializer, responses={201: OraclePriceSerializer}, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def post(self, request, symbol: str):
        asset = _asset(symbol)
        serializer = ManualPriceSerializer(data=body_object(request))
        serializer.is_valid(raise_exception=True)
        services.oracle_set_manual_price(asset=asset, actor=request.user, **serializer.validated_data)
        return Response(OraclePriceSerializer.from_read(selectors.oracle_read(asset)), status=status.HTTP_201_CREATED)


class ShockView(StaffView):
    @extend_schema(request=ShockSerializer, responses={200: ShockResultSerializer}, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def post(self, request, symbol: str):
        asset = _asset(symbol)
        serializer = ShockSerializer(data=body_object(request))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        at = data["at"]
        services.oracle_shock(asset=asset, percent_bps=data["percent"], at=at, actor=request.user,
                              reason=data["reason"])
        read = selectors.oracle_read(asset)
        applied = at == "now" or read.source == "manual"
        return Response({"applied": applied, "at": at, "price": OraclePriceSerializer.from_read(read)})


class UnpinView(StaffView):
    """End a pin: back to the source the pin replaced, with a fresh round from it (scanned at once)."""

    @extend_schema(request=UnpinSerializer, responses={200: OraclePriceSerializer}, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def post(self, request, symbol: str):
        asset = _asset(symbol)
        serializer = UnpinSerializer(data=body_object(request))
        serializer.is_valid(raise_exception=True)
        services.oracle_unpin(asset=asset, actor=request.user, reason=serializer.validated_data["reason"])
        return Response(OraclePriceSerializer.from_read(selectors.oracle_read(asset)))


def _policy_out(asset: Asset) -> dict:
    policy = HaircutPolicy.objects.get(asset=asset)
    return {"mode": policy.mode, "coverage": str(policy.coverage), "fixed_bps": policy.fixed_bps,
            "apply_to_liquidation_threshold": policy.apply_to_liquidation_threshold,
            "pause_liquidations_when_closed": policy.pause_liquidations_when_closed,
            "reopen_grace_seconds": policy.reopen_grace_seconds,
            "manual_price_liquidations": policy.manual_price_liquidations,
            "haircuts": selectors.policy_haircut_table(policy, asset)}


class PolicyView(StaffView):
    @extend_schema(responses=PolicyOutSerializer)
    def get(self, request, symbol: str):
        return Response(_policy_out(_asset(symbol)))

    @extend_schema(request=PolicySerializer, responses=PolicyOutSerializer)
    def patch(self, request, symbol: str):
        asset = _asset(symbol)
        serializer = PolicySerializer(data=body_object(request))
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        reason = changes.pop("reason")
        services.haircut_policy_update(asset=asset, changes=changes, actor=request.user, reason=reason)
        return Response(_policy_out(asset))


class SourceView(StaffView):
    @extend_schema(request=SourceSerializer, responses=SourceOutSerializer)
    def patch(self, request, symbol: str):
        asset = _asset(symbol)
        serializer = SourceSerializer(data=body_object(request))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        source, reason = data.pop("source"), data.pop("reason")
        heartbeat = data.pop("heartbeat_seconds", None)
        feed = services.feed_source_update(asset=asset, source=source, config=data, actor=request.user,
                                           reason=reason, heartbeat_seconds=heartbeat)
        return Response({"symbol": asset.symbol, "source": feed.source, "heartbeat_seconds": feed.heartbeat_seconds})


class BacktestListView(StaffView):
    """Backtests of closed-market policies on real daily bars: queue one, or list them (newest first)."""

    @extend_schema(responses=BacktestSerializer(many=True))
    def get(self, request):
        return Response([BacktestSerializer.from_job(job) for job in selectors.backtest_list()[:50]])

    @extend_schema(request=BacktestInSerializer, responses={202: BacktestSerializer}, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def post(self, request):
        data = body_object(request)
        serializer = BacktestInSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        # the overrides go as sent: the service refuses a bps sent as a string ("8000") that the field would take
        job = services.backtest_create(asset=_asset(str(values["asset"])), start=values["from"], end=values["to"],
                                       policies=list(values["policies"]), overrides=data.get("parameters"),
                                       actor=request.user, engine=values.get("engine"),
                                       seize_at=values["seize_at"], seed=values.get("seed"),
                                       recommend=values["recommend"])
        return Response(BacktestSerializer.from_job(selectors.backtest_get(backtest_id=job.pk)),
                        status=status.HTTP_202_ACCEPTED)


class BacktestDetailView(StaffView):
    @extend_schema(responses=BacktestSerializer)
    def get(self, request, backtest_id: int):
        job = selectors.backtest_get(backtest_id=backtest_id)
        if job is None:
            raise NotFound(f"No backtest {backtest_id}.", code="not_found")
        return Response(BacktestSerializer.from_job(job))

