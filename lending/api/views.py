from django.contrib.auth import authenticate, user_logged_in
from django.db import IntegrityError, transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.idempotency import IDEMPOTENCY_KEY, idempotent
from common.api.pagination import NewestFirstCursor
from common.api.lockout import raise_if_locked_out
from common.api.throttling import ScopedIPThrottle, ScopedRateThrottle
from common.errors import DomainError
from markets.models import is_symbol
from core.amounts import AmountError, parse_amount, parse_iso_datetime, parse_percent_bps

from .. import selectors, services
from .serializers import (
    AccountSerializer,
    ActionRequestSerializer,
    CollateralRequestSerializer,
    CredentialsSerializer,
    RegisterSerializer,
    LedgerEntrySerializer,
    LiquidationEventSerializer,
    OutlookSerializer,
    WhatIfRequestSerializer,
    WhatIfSerializer,
    TokenSerializer,
)




class AuthThrottled(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle, ScopedIPThrottle]
    throttle_scope = "auth"


class RegisterView(AuthThrottled):
    @extend_schema(request=RegisterSerializer, responses={201: TokenSerializer})
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                user = services.user_register(**serializer.validated_data)
                token = Token.objects.create(user=user)
        except IntegrityError:
            raise DomainError("That username is taken.", code="username_taken", field="username",
                              status=409) from None
        return Response({"token": token.key}, status=status.HTTP_201_CREATED)


class TokenView(AuthThrottled):
    @extend_schema(request=CredentialsSerializer, responses={200: TokenSerializer})
    def post(self, request):
        serializer = CredentialsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request, **serializer.validated_data)
        if user is None:
            raise_if_locked_out(request)
            raise DomainError("Wrong username or password.", code="invalid_credentials", status=401)
        # A token is a login: axes clears this (username, address)'s failures, as after the HTML login.
        user_logged_in.send(sender=type(user), request=request, user=user)
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


def account_response(user, status_code=200) -> Response:
    summary = selectors.account_summary(services.account_for_user(user))
    return Response(AccountSerializer.from_summary(summary), status=status_code)


class AccountView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=AccountSerializer)
    def get(self, request):
        return account_response(request.user)


class AccountOutlookView(APIView):
    """The account's HF and borrowing power at the next NYSE close and the next open, at today's prices and
    positions (interest included): what the closed-market haircut will do before any price moves."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=OutlookSerializer(many=True))
    def get(self, request):
        account = services.account_for_user(request.user)
        return Response([OutlookSerializer.from_outlook(o) for o in selectors.account_outlook(account)])


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise DomainError("The body must be a JSON object.", code="invalid")
    return request.data


def _asset_and_amount(request, *, allow_max: bool):
    data = _body(request)
    symbol = data.get("asset")
    if "asset" not in data:
        raise DomainError("asset is required.", code="required", field="asset")
    if "amount" not in data:
        raise DomainError("amount is required.", code="required", field="amount")
    raw = data["amount"]
    if not isinstance(raw, str):
        raise DomainError("amount must be a decimal string such as \"1000.5\"; JSON numbers lose precision.",
                          code="invalid_amount", field="amount")
    asset = services.asset_by_symbol(symbol)
    try:
        amount = parse_amount(raw, asset.decimals, allow_max=allow_max)
    except AmountError as exc:
        raise DomainError(str(exc), code="invalid_amount", field="amount") from None
    return asset, amount


class ActionView(APIView):
    """Shared shape of the amount actions: {asset, amount} in, the updated account out."""

    permission_classes = [permissions.IsAuthenticated]
    throttle_classes = [ScopedRateThrottle, ScopedIPThrottle]
    throttle_scope = "actions"
    allow_max = False
    service = None

    @extend_schema(request=ActionRequestSerializer, responses=AccountSerializer, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def post(self, request):
        asset, amount = _asset_and_amount(request, allow_max=self.allow_max)
        account = services.account_for_user(request.user)
        type(self).service(account=account, symbol=asset.symbol, amount=amount)
        return account_response(request.user)


class FaucetView(ActionView):
    """Test tokens into your wallet, bounded per day."""

    service = services.account_faucet


class SupplyView(ActionView):
    """Supply from your wallet into the pool. A first supply turns the asset on as collateral."""

    service = services.account_supply


class WithdrawView(ActionView):
    """Withdraw supplied tokens; "max" withdraws all. Refused if HF would drop below 1."""

    allow_max = True
    service = services.account_withdraw


class BorrowView(ActionView):
    """Borrow against your collateral, within borrowing power and caps."""

    service = services.account_borrow


class RepayView(ActionView):
    """Repay debt from your wallet; "max" repays all of it."""

    allow_max = True
    service = services.account_repay


class CollateralView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    throttle_classes = [ScopedRateThrottle, ScopedIPThrottle]
    throttle_scope = "actions"

    @extend_schema(request=CollateralRequestSerializer, responses=AccountSerializer, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def post(self, request):
        data = _body(request)
        if "asset" not in data:
            raise DomainError("asset is required.", code="required", field="asset")
        if not isinstance(data.get("enabled"), bool):
            raise DomainError("enabled must be a JSON boolean.", code="invalid", field="enabled")
        asset = services.asset_by_symbol(data["asset"])
        services.account_set_collateral(account=services.account_for_user(request.user), symbol=asset.symbol,
                                        enabled=data["enabled"])
        return account_response(request.user)


class HistoryView(generics.ListAPIView):
    """Every action and liquidation of your account, newest first."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = LedgerEntrySerializer
    pagination_class = NewestFirstCursor

    def get_queryset(self):
        return selectors.account_history(services.account_for_user(self.request.user))


class ScanAcceptedSerializer(serializers.Serializer):
    round_key = serializers.CharField()
    status = serializers.CharField()


class AdminScanView(APIView):
    """Enqueue a liquidation scan now (the beat scan is the safety net)."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(request=None, responses={202: ScanAcceptedSerializer}, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def post(self, request):
        import secrets

        round_key = f"manual-{secrets.token_hex(6)}"
        services.liquidation_scan_enqueue(round_key=round_key)
        return Response({"round_key": round_key, "status": "queued"}, status=status.HTTP_202_ACCEPTED)


class LiquidationListView(generics.ListAPIView):
    """Liquidations: your own, or all of them for staff. Filters: account, asset, since."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = LiquidationEventSerializer
    pagination_class = NewestFirstCursor

    @extend_schema(parameters=[
        OpenApiParameter("account", int, required=False),
        OpenApiParameter("asset", str, required=False),
        OpenApiParameter("since", str, required=False, description="ISO-8601"),
    ])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        account = params.get("account")
        if account is not None and not (account.isascii() and account.isdigit() and len(account) < 19):
            raise DomainError("account must be an integer id.", code="invalid", field="account")
        since = None
        if params.get("since"):
            try:
                since = parse_iso_datetime(params["since"], name="since")
            except AmountError as exc:
                raise DomainError(str(exc), code="invalid", field="since") from None
        asset = params.get("asset") or None
        if asset is not None and not is_symbol(asset):
            raise DomainError("asset must be a symbol such as \"TSLAx\".", code="invalid", field="asset")
        return selectors.liquidation_list(user=self.request.user, account=int(account) if account else None,
                                          asset=asset, since=since)


class WhatIfView(APIView):
    """A stress test that changes nothing: shock prices, see who goes under water and what the keeper would
    liquidate, with Aave's exact amounts and the resulting bad debt."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(request=WhatIfRequestSerializer, responses=WhatIfSerializer, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def post(self, request):
        from common.errors import NotFound
        from markets.models import Asset

        data = _body(request)
        shocks = data.get("shocks")
        if not isinstance(shocks, dict) or not shocks or len(shocks) > 50:
            raise DomainError('shocks must be an object of 1-50 {symbol: percent}, e.g. {"TSLAx": "-20"}.',
                              code="invalid", field="shocks")
        known = set(Asset.objects.values_list("symbol", flat=True))
        parsed = {}
        for symbol, raw in shocks.items():
            if not is_symbol(symbol) or symbol not in known:
                raise NotFound(f"Unknown asset {symbol!r}.", code="unknown_asset", field="shocks")
            try:
                parsed[symbol] = parse_percent_bps(raw)
            except AmountError as exc:
                raise DomainError(f"{symbol}: {exc}", code="invalid", field=f"shocks.{symbol}") from None
        at = data.get("at", "now")
        if at not in selectors.WHAT_IF_WHEN:
            raise DomainError('at must be "now" or "next_close".', code="invalid", field="at")
        return Response(selectors.what_if_shock(shocks_bps=parsed, when=at))
