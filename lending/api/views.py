from django.contrib.auth import authenticate, user_logged_in
from django.db import IntegrityError, transaction
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.idempotency import IDEMPOTENCY_KEY, BodyAfterCommit, idempotent
from common.api.lockout import raise_if_locked_out
from common.api.pagination import NewestFirstCursor
from common.api.throttling import ScopedIPThrottle, ScopedRateThrottle
from common.errors import DomainError

from .. import selectors, services
from .serializers import (
    AccountSerializer,
    ActionRequestSerializer,
    CollateralRequestSerializer,
    CredentialsSerializer,
    LedgerEntrySerializer,
    LiquidationEventSerializer,
    LiquidationFilterSerializer,
    OutlookSerializer,
    RegisterSerializer,
    TokenSerializer,
    WhatIfRequestSerializer,
    WhatIfSerializer,
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


def account_body(user, account=None) -> dict:
    """The account's answer; `account` when the caller has already read the user's account."""
    return AccountSerializer.from_summary(selectors.account_summary(account or services.account_for_user(user)))


def account_response(user, status_code=200) -> Response:
    return Response(account_body(user), status=status_code)


class AccountActionView(APIView):
    """An action on the signed-in account whose answer is the account afterwards, read once the action has
    committed (the pool's reserve row is not held locked while the answer is built)."""

    permission_classes = [permissions.IsAuthenticated]
    throttle_classes = [ScopedRateThrottle, ScopedIPThrottle]
    throttle_scope = "actions"

    acted_on = None  # the account the action locked, kept for its answer (a replay reads it afresh)

    def committed_body(self, request) -> dict:
        return account_body(request.user, self.acted_on)

    def account(self, request):
        self.acted_on = services.account_for_user(request.user)
        return self.acted_on


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


class ActionView(AccountActionView):
    """Shared shape of the amount actions: {asset, amount} in, the updated account out."""

    allow_max = False
    service = None

    @extend_schema(request=ActionRequestSerializer, responses=AccountSerializer, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def post(self, request):
        serializer = ActionRequestSerializer(data=request.data, context={"allow_max": self.allow_max})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        type(self).service(account=self.account(request), symbol=data["asset"], amount=data["amount"])
        return BodyAfterCommit()


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


class CollateralView(AccountActionView):
    @extend_schema(request=CollateralRequestSerializer, responses=AccountSerializer, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def post(self, request):
        serializer = CollateralRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.account_set_collateral(account=self.account(request), symbol=data["asset"],
                                        enabled=data["enabled"])
        return BodyAfterCommit()


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

    @extend_schema(parameters=[LiquidationFilterSerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = LiquidationFilterSerializer(data=self.request.query_params.dict())
        filters.is_valid(raise_exception=True)
        return selectors.liquidation_list(user=self.request.user, **{
            "account": None, "asset": None, "since": None, **filters.validated_data})


class WhatIfView(APIView):
    """A stress test that changes nothing: shock prices, see who goes under water and what the keeper would
    liquidate, with Aave's exact amounts and the resulting bad debt."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(request=WhatIfRequestSerializer, responses=WhatIfSerializer, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def post(self, request):
        serializer = WhatIfRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return Response(selectors.what_if_shock(shocks_bps=data["shocks"], when=data["at"]))
