from datetime import datetime, timezone

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.idempotency import IDEMPOTENCY_KEY, idempotent
from common.errors import DomainError, NotFound
from markets.models import Asset, is_symbol
from core.amounts import AmountError, parse_iso_datetime, parse_percent_bps, parse_price

from .. import selectors, services
from core.clock import ClockRangeError, MarketClock
from ..models import HaircutPolicy, OracleFeed
from .serializers import (
    BacktestInSerializer,
    BacktestSerializer,
    HaircutTableSerializer,
    ManualPriceSerializer,
    MarketStatusSerializer,
    OraclePriceSerializer,
    PolicyOutSerializer,
    PolicySerializer,
    ShockResultSerializer,
    ShockSerializer,
    SourceOutSerializer,
    SourceSerializer,
)

CALENDARS = ("XNYS", "XNAS", "24/7", "ALWAYS_CLOSED")


def _asset(symbol: str) -> Asset:
    try:
        if not is_symbol(symbol):
            raise Asset.DoesNotExist
        return Asset.objects.get(symbol=symbol)
    except Asset.DoesNotExist:
        raise NotFound(f"Unknown asset {symbol!r}.", code="unknown_asset") from None


class OraclePriceListView(generics.ListAPIView):
    """Every asset's oracle read: reference, token and effective price, session, haircut, flags."""

    permission_classes = [permissions.AllowAny]
    serializer_class = OraclePriceSerializer

    def get_queryset(self):
        reads = selectors.oracle_reads(Asset.objects.order_by("id"))
        return [OraclePriceSerializer.from_read(read) for read in reads.values()]


class OraclePriceDetailView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=OraclePriceSerializer)
    def get(self, request, symbol: str):
        return Response(OraclePriceSerializer.from_read(selectors.oracle_read(_asset(symbol))))


class HaircutTableView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=HaircutTableSerializer)
    def get(self, request, symbol: str):
        asset = _asset(symbol)
        return Response(selectors.asset_haircut_table(asset))


class MarketStatusView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(parameters=[OpenApiParameter("calendar", str, enum=list(CALENDARS), required=False),
                               OpenApiParameter("at", str, required=False, description="ISO-8601 instant")],
                   responses=MarketStatusSerializer)
    def get(self, request):
        calendar = request.query_params.get("calendar", "XNYS")
        if calendar not in CALENDARS:
            raise DomainError(f"Unknown calendar {calendar!r}; use one of {', '.join(CALENDARS)}.",
                              code="invalid", field="calendar")
        raw = request.query_params.get("at")
        at = datetime.now(timezone.utc)
        if raw is not None:
            try:
                at = parse_iso_datetime(raw, name="at")
            except AmountError as exc:
                raise DomainError(str(exc), code="invalid", field="at") from None
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


def _reason(data: dict) -> str:
    reason = data.get("reason") or ""
    if not isinstance(reason, str) or len(reason) > 1000:
        raise DomainError("reason must be a string of at most 1000 characters.", code="invalid", field="reason")
    return reason


class ManualPriceView(StaffView):
    @extend_schema(request=ManualPriceSerializer, responses={201: OraclePriceSerializer}, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def post(self, request, symbol: str):
        asset = _asset(symbol)
        data = request.data if isinstance(request.data, dict) else {}
        try:
            price = parse_price(data.get("price"))
        except AmountError as exc:
            raise DomainError(f"{exc} Send a positive USD decimal string, e.g. \"225.5\".", code="invalid_price",
                              field="price") from None
        confirm = data.get("confirm", False)
        if not isinstance(confirm, bool):
            raise DomainError("confirm must be a JSON boolean.", code="invalid", field="confirm")
        services.oracle_set_manual_price(asset=asset, price=price, actor=request.user, reason=_reason(data),
                                         confirm=confirm)
        return Response(OraclePriceSerializer.from_read(selectors.oracle_read(asset)), status=status.HTTP_201_CREATED)


class ShockView(StaffView):
    @extend_schema(request=ShockSerializer, responses={200: ShockResultSerializer}, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def post(self, request, symbol: str):
        asset = _asset(symbol)
        data = request.data if isinstance(request.data, dict) else {}
        try:
            bps = parse_percent_bps(data.get("percent"))
        except AmountError as exc:
            raise DomainError(str(exc).replace("A percent", "percent"), code="invalid", field="percent") from None
        at = data.get("at")
        if at not in ("next_open", "now"):
            raise DomainError("at must be \"next_open\" or \"now\".", code="invalid", field="at")
        services.oracle_shock(asset=asset, percent_bps=bps, at=at, actor=request.user, reason=_reason(data))
        read = selectors.oracle_read(asset)
        applied = at == "now" or read.source == "manual"
        return Response({"applied": applied, "at": at, "price": OraclePriceSerializer.from_read(read)})


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
        data = request.data if isinstance(request.data, dict) else {}
        for name in ("apply_to_liquidation_threshold", "pause_liquidations_when_closed"):
            if name in data and not isinstance(data[name], bool):
                raise DomainError(f"{name} must be a JSON boolean.", code="invalid", field=name)
        if "reopen_grace_seconds" in data and (isinstance(data["reopen_grace_seconds"], bool)
                                               or not isinstance(data["reopen_grace_seconds"], int)):
            raise DomainError("reopen_grace_seconds must be a JSON integer.", code="invalid",
                              field="reopen_grace_seconds")
        serializer = PolicySerializer(data=data)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        reason = changes.pop("reason")
        services.haircut_policy_update(asset=asset, changes=changes, actor=request.user, reason=reason)
        return Response(_policy_out(asset))


class SourceView(StaffView):
    @extend_schema(request=SourceSerializer, responses=SourceOutSerializer)
    def patch(self, request, symbol: str):
        asset = _asset(symbol)
        serializer = SourceSerializer(data=request.data if isinstance(request.data, dict) else {})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        source, reason = data.pop("source"), data.pop("reason")
        heartbeat = data.pop("heartbeat_seconds", None)
        if source == "chainlink" and not ({"rpc_url", "address"} <= set(data) or
                                          {"rpc_url", "address"} <= set(OracleFeed.objects.get(asset=asset).config)):
            raise DomainError("A chainlink source needs rpc_url and address.", code="required", field="address")
        feed = services.feed_source_update(asset=asset, source=source, config=data, actor=request.user,
                                           reason=reason)
        if heartbeat:
            OracleFeed.objects.filter(pk=feed.pk).update(heartbeat_seconds=heartbeat)
            feed.refresh_from_db()
        return Response({"symbol": asset.symbol, "source": feed.source, "heartbeat_seconds": feed.heartbeat_seconds})


class BacktestListView(StaffView):
    """Backtests of closed-market policies on real daily bars: queue one, or list them (newest first)."""

    @extend_schema(responses=BacktestSerializer(many=True))
    def get(self, request):
        return Response([BacktestSerializer.from_job(job) for job in selectors.backtest_list()[:50]])

    @extend_schema(request=BacktestInSerializer, responses={202: BacktestSerializer}, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        serializer = BacktestInSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        job = services.backtest_create(asset=_asset(str(values["asset"])), start=values["from"], end=values["to"],
                                       policies=list(values["policies"]), overrides=data.get("parameters"),
                                       actor=request.user)
        return Response(BacktestSerializer.from_job(selectors.backtest_get(backtest_id=job.pk)),
                        status=status.HTTP_202_ACCEPTED)


class BacktestDetailView(StaffView):
    @extend_schema(responses=BacktestSerializer)
    def get(self, request, backtest_id: int):
        job = selectors.backtest_get(backtest_id=backtest_id)
        if job is None:
            raise NotFound(f"No backtest {backtest_id}.", code="not_found")
        return Response(BacktestSerializer.from_job(job))

