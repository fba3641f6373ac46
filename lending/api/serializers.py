from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.api.fields import (
    AmountField,
    AsciiDateTimeField,
    DecimalStringField,
    PriceField,
    StrictBooleanField,
    StrictChoiceField,
    WadField,
)
from common.errors import NotFound
from core.amounts import AmountError, format_amount, format_price, format_wad, parse_amount, parse_percent_bps
from markets.models import Asset, is_symbol

from .. import selectors, services
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


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": 20, "example": "TSLAx"})
class SymbolField(serializers.Field):
    """An asset symbol as sent: the serializer resolves it (lending.services.asset_by_symbol), which also refuses
    null and non-strings with the asset's own error codes."""

    def __init__(self, **kwargs):
        super().__init__(error_messages={"required": "{name} is required."}, **kwargs)

    def validate_empty_values(self, data):
        return (True, None) if data is None else super().validate_empty_values(data)

    def fail(self, key, **kwargs):
        super().fail(key, name=self.field_name, **kwargs)

    def to_internal_value(self, data):
        return data


class InputSerializer(serializers.Serializer):
    """A request body: a JSON object, each error answered with the first field's code and message."""

    default_error_messages = {"invalid": "The body must be a JSON object."}


class ActionRequestSerializer(InputSerializer):
    """{asset, amount}: the amount parsed with the asset's decimals; "max" only where the view's context allows."""

    asset = SymbolField()
    amount = DecimalStringField(error_messages={"required": "amount is required."},
                                help_text='Decimal string in token units, e.g. "1000.5"; "max" on withdraw and repay')

    def validate(self, attrs):
        asset = services.asset_by_symbol(attrs["asset"])
        try:
            amount = parse_amount(attrs["amount"], asset.decimals, allow_max=self.context.get("allow_max", False))
        except AmountError as exc:
            raise serializers.ValidationError({"amount": str(exc)}, code="invalid_amount") from None
        return {"asset": asset, "amount": amount}


class CollateralRequestSerializer(InputSerializer):
    asset = SymbolField()
    enabled = StrictBooleanField()

    def validate(self, attrs):
        return {**attrs, "asset": services.asset_by_symbol(attrs["asset"])}


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
    amount = AmountField(decimals_from="asset.decimals", help_text="Decimal string in token units")

    class Meta:
        model = LedgerEntry
        fields = ["id", "kind", "asset", "amount", "detail", "created_at"]


class LiquidationEventSerializer(serializers.ModelSerializer):
    account = serializers.IntegerField(source="account_id")
    debt_asset = serializers.CharField(source="debt_asset.symbol")
    collateral_asset = serializers.CharField(source="collateral_asset.symbol")
    debt_repaid = AmountField(decimals_from="debt_asset.decimals")
    collateral_seized = AmountField(decimals_from="collateral_asset.decimals",
                                    help_text="Collateral-token units, fee included")
    protocol_fee = AmountField(decimals_from="collateral_asset.decimals", help_text="Collateral-token units")
    deficit = AmountField(decimals_from="debt_asset.decimals", help_text="Debt-token units turned into reserve deficit")
    health_factor_before = WadField()
    health_factor_after = WadField(allow_null=True)
    price = PriceField(source="collateral_price", help_text="Collateral price used, USD")
    debt_price = PriceField(help_text="Debt price used, USD")
    oracle_round = serializers.IntegerField(source="oracle_round.round_id", allow_null=True, read_only=True)

    class Meta:
        model = LiquidationEvent
        fields = ["id", "account", "debt_asset", "collateral_asset", "debt_repaid", "collateral_seized",
                  "protocol_fee", "deficit", "health_factor_before", "health_factor_after", "price", "debt_price",
                  "session", "oracle_round", "step", "latency_ms", "created_at"]


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


@extend_schema_field({"type": "object", "additionalProperties": {"type": "string", "minLength": 1}})
class ShocksField(serializers.Field):
    """{symbol: percent} for 1-50 known assets -> {symbol: bps}; an unknown symbol is a 404."""

    default_error_messages = {
        "invalid": 'shocks must be an object of 1-50 {{symbol: percent}}, e.g. {{"TSLAx": "-20"}}.'}

    def validate_empty_values(self, data):
        if data is None or data is serializers.empty:
            self.fail("invalid")
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        if not isinstance(data, dict) or not 1 <= len(data) <= 50:
            self.fail("invalid")
        known = set(Asset.objects.filter(symbol__in=[s for s in data if is_symbol(s)]).values_list("symbol", flat=True))
        parsed = {}
        for symbol, raw in data.items():
            if symbol not in known:
                raise NotFound(f"Unknown asset {symbol!r}.", code="unknown_asset", field="shocks")
            try:
                parsed[symbol] = parse_percent_bps(raw)
            except AmountError as exc:
                raise serializers.ValidationError({symbol: [f"{symbol}: {exc}"]}, code="invalid") from None
        return parsed


class WhatIfRequestSerializer(InputSerializer):
    shocks = ShocksField(help_text='{symbol: percent}, e.g. {"TSLAx": "-20"}')
    at = StrictChoiceField(list(selectors.WHAT_IF_WHEN), required=False, default="now",
                           message='at must be "now" or "next_close".',
                           help_text="next_close: as just after the next NYSE close, under its haircut policy")


class WhatIfAccountSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    health_factor_before = serializers.CharField()
    health_factor_after = serializers.CharField(allow_null=True)
    bad_debt_usd = serializers.CharField()


class WhatIfLiquidatedSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    username = serializers.CharField(allow_null=True)
    health_factor_before = serializers.CharField()
    health_factor_after = serializers.CharField(allow_null=True)
    debt_repaid_usd = serializers.CharField()
    collateral_seized_usd = serializers.CharField(help_text="at the seize (reference) price")
    bad_debt_usd = serializers.CharField()
    liquidations = serializers.IntegerField(help_text="keeper steps on this account")


class WhatIfSerializer(serializers.Serializer):
    engine = serializers.CharField(help_text="the pool's liquidation engine: v3.3 or v4")
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
    liquidated_accounts = WhatIfLiquidatedSerializer(many=True, help_text="deepest first, at most 1,000")
    liquidated_accounts_truncated = serializers.BooleanField()


@extend_schema_field({"type": "integer"})
class AccountIdField(serializers.Field):
    """An account id in ASCII digits (a query parameter)."""

    default_error_messages = {"invalid": "account must be an integer id."}

    def to_internal_value(self, data):
        if not (isinstance(data, str) and data.isascii() and data.isdigit() and len(data) < 19):
            self.fail("invalid")
        return int(data)


class LiquidationFilterSerializer(serializers.Serializer):
    """The liquidation list's query parameters."""

    account = AccountIdField(required=False)
    since = AsciiDateTimeField(required=False, help_text="ISO-8601")
    asset = serializers.CharField(required=False, allow_blank=True, help_text='a symbol such as "TSLAx"')

    def to_internal_value(self, data):
        if not data.get("since"):  # an empty since means no filter
            data = {k: v for k, v in data.items() if k != "since"}
        return super().to_internal_value(data)

    def validate_asset(self, value):
        if value and not is_symbol(value):
            raise serializers.ValidationError('asset must be a symbol such as "TSLAx".', code="invalid")
        return value or None
