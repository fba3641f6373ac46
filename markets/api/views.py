from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from markets.errors import NotFound

from .. import selectors, services
from ..models import Heartbeat, Reserve, is_symbol
from .serializers import AssetSerializer, AuditEntrySerializer, MarketPatchSerializer, MarketSerializer


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
    try:
        if not is_symbol(symbol):
            raise Reserve.DoesNotExist
        return Reserve.objects.select_related("asset").get(asset__symbol=symbol)
    except Reserve.DoesNotExist:
        raise NotFound(f"Unknown asset {symbol!r}.", code="unknown_asset") from None


class MarketDetailView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=MarketSerializer)
    def get(self, request, symbol: str):
        return Response(MarketSerializer(selectors.market_view(_reserve(symbol))).data)


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


class AuditListView(generics.ListAPIView):
    """Who changed what, when, from what, to what, and why."""

    serializer_class = AuditEntrySerializer
    permission_classes = [permissions.IsAdminUser]

    def get_queryset(self):
        return selectors.audit_list()


def healthz(request):
    """Database, broker and worker (last heartbeat) state; 200 when the web process is up."""
    state = {"status": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        state["database"] = {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # noqa: BLE001 - health reports every failure
        state["database"] = {"ok": False, "error": str(exc)[:200]}
        state["status"] = "degraded"
    try:
        from config.celery_app import app

        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            transport = conn.transport_cls
        state["broker"] = {"ok": True, "transport": str(transport)}
    except Exception as exc:  # noqa: BLE001
        state["broker"] = {"ok": False, "error": str(exc)[:200]}
        state["status"] = "degraded"
    try:
        beat = Heartbeat.objects.filter(name="worker").first()
        age = (timezone.now() - beat.at).total_seconds() if beat else None
        state["worker"] = {"ok": age is not None and age < 120, "last_heartbeat": beat.at.isoformat() if beat else None,
                           "age_seconds": round(age, 1) if age is not None else None}
    except Exception as exc:  # noqa: BLE001
        state["worker"] = {"ok": False, "error": str(exc)[:200]}
    return JsonResponse(state, status=200)
