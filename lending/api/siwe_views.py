"""Sign-In with Ethereum (EIP-4361): nonce, then verify, then a token. Nonces live server-side, single use."""
import secrets
import string
import warnings
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.authtoken.models import Token
from rest_framework.response import Response
from rest_framework.settings import api_settings

from common.errors import DomainError
from lending.models import SiweNonce

from .. import identity, services
from .views import AuthThrottled

NONCE_TTL = timedelta(minutes=10)
_ALPHABET = string.ascii_letters + string.digits


class NonceSerializer(serializers.Serializer):
    nonce = serializers.CharField()


class VerifySerializer(serializers.Serializer):
    message = serializers.CharField(max_length=4000, trim_whitespace=False)
    signature = serializers.RegexField(r"^0x[0-9a-fA-F]{130}$")


class SiweTokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    address = serializers.CharField(help_text="EIP-55 checksummed")


class SiweAddressSerializer(serializers.Serializer):
    address = serializers.CharField(help_text="EIP-55 checksummed")


class SiweNonceView(AuthThrottled):
    @extend_schema(responses=NonceSerializer)
    def get(self, request):
        nonce = "".join(secrets.choice(_ALPHABET) for _ in range(17))
        SiweNonce.objects.create(nonce=nonce)
        SiweNonce.objects.filter(created_at__lt=timezone.now() - 2 * NONCE_TTL).delete()
        return Response({"nonce": nonce})


def _parse(message: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from siwe import SiweMessage

        try:
            return SiweMessage.from_message(message=message)
        except Exception:  # noqa: BLE001 - any parse failure is the caller's malformed message
            raise DomainError("message is not a valid EIP-4361 message.", code="invalid_message",
                              field="message") from None


def _claim_signed_address(request) -> str:
    """The address a valid EIP-4361 signature for this host proves, once its fresh nonce is claimed (call
    inside a transaction: an error after the claim rolls it back)."""
    serializer = VerifySerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    message = _parse(serializer.validated_data["message"])
    if message.domain != request.get_host():
        raise DomainError(f"The message is for {message.domain!r}, not this host.", code="domain_mismatch",
                          field="message", status=401)
    try:
        message.verify(serializer.validated_data["signature"], domain=request.get_host(), nonce=message.nonce)
    except Exception as exc:  # noqa: BLE001 - expired, not yet valid, bad signature...
        raise DomainError(f"Signature check failed: {type(exc).__name__}.", code="invalid_signature",
                          field="signature", status=401) from None
    # healthchecks-style claim: exactly one request may use a fresh nonce
    claimed = SiweNonce.objects.filter(nonce=message.nonce, used_at__isnull=True,
                                       created_at__gte=timezone.now() - NONCE_TTL).update(used_at=timezone.now())
    if claimed != 1:
        raise DomainError("Unknown, used or expired nonce; ask for a new one.", code="invalid_nonce",
                          field="message", status=401)
    return message.address


class SiweVerifyView(AuthThrottled):
    """Sign in with a wallet: the account holding this address, or a new one on first sign-in."""

    @extend_schema(request=VerifySerializer, responses=SiweTokenSerializer)
    def post(self, request):
        with transaction.atomic():
            address = _claim_signed_address(request)
            user = services.wallet_sign_in(address)
            token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key, "address": identity.address_display(address)})


class SiweLinkView(AuthThrottled):
    """Link a wallet to the signed-in account by signing with it (same message and nonce rules as verify).
    409 if the address is linked to another account."""

    permission_classes = [permissions.IsAuthenticated]
    authentication_classes = api_settings.DEFAULT_AUTHENTICATION_CLASSES

    @extend_schema(request=VerifySerializer, responses=SiweAddressSerializer)
    def post(self, request):
        with transaction.atomic():
            address = _claim_signed_address(request)
            account = services.wallet_link(user=request.user, address=address)
        return Response({"address": identity.address_display(account.eth_address)})
