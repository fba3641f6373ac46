from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.amounts import format_amount, format_price, format_wad

from ..identity import address_display
from ..models import LedgerEntry, LiquidationEvent


class CredentialsSerializer(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]{3,150}$", max_length=150,
                                      error_messages={"invalid": "Use 3-150 letters, digits and @.+-_ only."})
    password = serializers.CharField(min_length=8, max_length=128, write_only=True, trim_whitespace=False)


class RegisterSerializer(CredentialsSerializer):
    def validate(self, attrs):
        # AUTH_PASSWORD_VALIDATORS, as the HTML form applies them; the username is there for the similarity check.
        try:
            validate_password(attrs["password"], get_user_model()(username=attrs["username"]))
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": " ".join(exc.messages)}, code="weak_password") from None
        return attrs


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class ActionRequestSerializer(serializers.Serializer):
    asset = serializers.CharField(max_length=20)
    amount = serializers.RegexField(r"^([0-9]{1,40}(\.[0-9]{1,18})?|max)$", max_length=100,
                                    help_text='Decimal string in token units, e.g. "1000.5"; "max" on withdraw and '
                                              'repay')


class CollateralRequestSerializer(serializers.Serializer):
    asset = serializers.CharField(max_length=20)
    enabled = serializers.BooleanField()


class PositionSerializer(serializers.Serializer):
    asset = serializers.CharField()
    supplied = serializers.CharField()
    borrowed = serializers.CharField()
    collateral = serializers.BooleanField()


class AccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    address = serializers.CharField(allow_null=True, help_text="The linked wallet, EIP-55 checksummed")
    wallet = serializers.DictField(child=serializers.CharField())
    positions = PositionSerializer(many=True)
    total_collateral_usd = serializers.CharField()
    total_debt_usd = serializers.CharField()
    borrowing_power_usd = serializers.CharField()
    health_factor = serializers.CharField(allow_null=True)
    health_factor_wad = serializers.CharField(allow_null=True)
    liquidation_prices = serializers.DictField(child=serializers.CharField())

    @staticmethod
    def from_summary(summary) -> dict:
        dec = summary.decimals
        by_lt, by_ltv = summary.health.by_lt, summary.health.by_ltv
        hf = summary.health.health_factor
        return {
            "id": summary.account.pk,
            "address": address_display(summary.account.eth_address),
            "wallet": {sym: format_amount(v, dec[sym]) for sym, v in summary.wallet.items()},
            "positions": [
                {"asset": p["asset"], "supplied": format_amount(p["supplied"], p["decimals"]),
                 "borrowed": format_amount(p["borrowed"], p["decimals"]), "collateral": p["collateral"]}
                for p in summary.positions
            ],
            "total_collateral_usd": format_price(by_lt.total_collateral_base),
            "total_debt_usd": format_price(by_lt.total_debt_base),
            "borrowing_power_usd": format_price(by_ltv.available_borrows_base),
            "health_factor": format_wad(hf) if hf is not None else None,
            "health_factor_wad": str(hf) if hf is not None else None,
            "liquidation_prices": {sym: format_price(p) for sym, p in summary.liquidation_prices.items()},
        }


class LedgerEntrySerializer(serializers.ModelSerializer):
    asset = serializers.CharField(source="asset.symbol")
    amount = serializers.SerializerMethodField()

    class Meta:
        model = LedgerEntry
        fields = ["id", "kind", "asset", "amount", "detail", "created_at"]

    @extend_schema_field(serializers.CharField(help_text="Decimal string in token units"))
    def get_amount(self, obj):
        return format_amount(obj.amount, obj.asset.decimals)


class LiquidationEventSerializer(serializers.ModelSerializer):
    account = serializers.IntegerField(source="account_id")
    debt_asset = serializers.CharField(source="debt_asset.symbol")
    collateral_asset = serializers.CharField(source="collateral_asset.symbol")
    debt_repaid = serializers.SerializerMethodField()
    collateral_seized = serializers.SerializerMethodField()
    protocol_fee = serializers.SerializerMethodField()
    deficit = serializers.SerializerMethodField()
    health_factor_before = serializers.SerializerMethodField()
    health_factor_after = serializers.SerializerMethodField()
    price = serializers.SerializerMethodField()
    debt_price = serializers.SerializerMethodField()
    oracle_round = serializers.SerializerMethodField()

    class Meta:
        model = LiquidationEvent
        fields = ["id", "account", "debt_asset", "collateral_asset", "debt_repaid", "collateral_seized",
                  "protocol_fee", "deficit", "health_factor_before", "health_factor_after", "price", "debt_price",
                  "session", "oracle_round", "step", "latency_ms", "created_at"]

    @extend_schema_field(serializers.CharField())
    def get_debt_repaid(self, obj):
        return format_amount(obj.debt_repaid, obj.debt_asset.decimals)

    @extend_schema_field(serializers.CharField(help_text="Collateral-token units, fee included"))
    def get_collateral_seized(self, obj):
        return format_amount(obj.collateral_seized, obj.collateral_asset.decimals)

    @extend_schema_field(serializers.CharField(help_text="Collateral-token units"))
    def get_protocol_fee(self, obj):
        return format_amount(obj.protocol_fee, obj.collateral_asset.decimals)

    @extend_schema_field(serializers.CharField(help_text="Debt-token units turned into reserve deficit"))
    def get_deficit(self, obj):
        return format_amount(obj.deficit, obj.debt_asset.decimals)

    @extend_schema_field(serializers.CharField())
    def get_health_factor_before(self, obj):
        return format_wad(obj.health_factor_before)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_health_factor_after(self, obj):
        return format_wad(obj.health_factor_after) if obj.health_factor_after is not None else None

    @extend_schema_field(serializers.CharField(help_text="Collateral price used, USD"))
    def get_price(self, obj):
        return format_price(obj.collateral_price)

    @extend_schema_field(serializers.CharField(help_text="Debt price used, USD"))
    def get_debt_price(self, obj):
        return format_price(obj.debt_price)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_oracle_round(self, obj):
        return obj.oracle_round.round_id if obj.oracle_round_id else None


class OutlookSerializer(serializers.Serializer):
    label = serializers.ChoiceField(["next NYSE close", "next NYSE open"])
    at = serializers.DateTimeField()
    closure_kind = serializers.CharField(allow_null=True, help_text="the closure that begins then; null at an open")
    haircut_bps = serializers.DictField(child=serializers.IntegerField(), help_text="{symbol: bps} applied then")
    health_factor = serializers.CharField(allow_null=True)
    health_factor_wad = serializers.CharField(allow_null=True)
    borrowing_power_usd = serializers.CharField()

    @staticmethod
    def from_outlook(o: dict) -> dict:
        hf = o["health_factor"]
        return {"label": o["label"], "at": o["at"], "closure_kind": o["closure_kind"], "haircut_bps": o["haircuts"],
                "health_factor": format_wad(hf) if hf is not None else None,
                "health_factor_wad": str(hf) if hf is not None else None,
                "borrowing_power_usd": format_price(o["borrowing_power"])}


class WhatIfRequestSerializer(serializers.Serializer):
    shocks = serializers.DictField(child=serializers.CharField(), help_text='{symbol: percent}, e.g. {"TSLAx": "-20"}')
    at = serializers.ChoiceField(["now", "next_close"], required=False, default="now",
                                 help_text="next_close: as just after the next NYSE close, under its haircut policy")


class WhatIfAccountSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    health_factor_before = serializers.CharField()
    health_factor_after = serializers.CharField(allow_null=True)
    bad_debt_usd = serializers.CharField()


class WhatIfSerializer(serializers.Serializer):
    at = serializers.CharField(allow_null=True)
    shocks_bps = serializers.DictField(child=serializers.IntegerField())
    accounts_screened = serializers.IntegerField(help_text="found by the set-based screen")
    accounts_checked = serializers.IntegerField(help_text="checked exactly (at most 20,000)")
    truncated = serializers.BooleanField()
    underwater = serializers.IntegerField()
    debt_at_risk_usd = serializers.CharField()
    liquidations = serializers.IntegerField()
    accounts_liquidated = serializers.IntegerField()
    debt_repaid_usd = serializers.CharField()
    collateral_seized_usd = serializers.CharField()
    bad_debt_usd = serializers.CharField()
    left_underwater = serializers.IntegerField(help_text="under water but not liquidatable now (pauses, grace)")
    blocked = serializers.DictField(child=serializers.IntegerField())
    by_asset = serializers.DictField(child=serializers.DictField(child=serializers.CharField()))
    worst_accounts = WhatIfAccountSerializer(many=True)
