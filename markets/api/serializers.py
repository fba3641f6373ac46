from rest_framework import serializers

from common.api.fields import AmountField, RayField, StrictBooleanField, StrictIntegerField

from ..models import Asset


class AssetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Asset
        fields = ["symbol", "name", "kind", "decimals", "issuer_profile", "underlying", "calendar"]


_DECIMALS = "reserve.asset.decimals"


class MarketSerializer(serializers.Serializer):
    """A reserve: its risk parameters (JSON integers/booleans), totals (decimal strings), rates (ray strings)."""

    symbol = serializers.CharField(source="reserve.asset.symbol")
    decimals = serializers.IntegerField(source="reserve.asset.decimals")
    ltv_bps = serializers.IntegerField(source="reserve.ltv_bps")
    liquidation_threshold_bps = serializers.IntegerField(source="reserve.liquidation_threshold_bps")
    liquidation_bonus_bps = serializers.IntegerField(source="reserve.liquidation_bonus_bps")
    liquidation_protocol_fee_bps = serializers.IntegerField(source="reserve.liquidation_protocol_fee_bps")
    reserve_factor_bps = serializers.IntegerField(source="reserve.reserve_factor_bps")
    supply_cap = serializers.IntegerField(source="reserve.supply_cap")
    borrow_cap = serializers.IntegerField(source="reserve.borrow_cap")
    borrowing_enabled = serializers.BooleanField(source="reserve.borrowing_enabled")
    collateral_enabled = serializers.BooleanField(source="reserve.collateral_enabled")
    frozen = serializers.BooleanField(source="reserve.frozen")
    paused = serializers.BooleanField(source="reserve.paused")
    optimal_usage_bps = serializers.IntegerField(source="reserve.optimal_usage_bps")
    base_rate_bps = serializers.IntegerField(source="reserve.base_rate_bps")
    slope1_bps = serializers.IntegerField(source="reserve.slope1_bps")
    slope2_bps = serializers.IntegerField(source="reserve.slope2_bps")
    total_supplied = AmountField(decimals_from=_DECIMALS, help_text="Decimal string, token units")
    total_borrowed = AmountField(decimals_from=_DECIMALS, help_text="Decimal string, token units")
    available_liquidity = AmountField(source="reserve.virtual_balance", decimals_from=_DECIMALS,
                                      help_text="Decimal string, token units")
    utilization = AmountField(source="utilization_ray", decimals=27, help_text="Fraction 0..1 as a decimal string")
    utilization_ray = RayField(help_text="Ray integer string")
    variable_borrow_rate_ray = RayField(source="reserve.variable_borrow_rate", help_text="Ray integer string")
    liquidity_rate_ray = RayField(source="reserve.liquidity_rate", help_text="Ray integer string")
    liquidity_index_ray = RayField(source="reserve.liquidity_index", help_text="Ray integer string")
    variable_borrow_index_ray = RayField(source="reserve.variable_borrow_index", help_text="Ray integer string")
    borrow_apy = serializers.CharField(help_text="Percent, display only")
    supply_apy = serializers.CharField(help_text="Percent, display only")
    deficit = AmountField(source="reserve.deficit", decimals_from=_DECIMALS,
                          help_text="Bad debt, decimal string in token units")
    grace_until = serializers.DateTimeField(source="reserve.grace_until", allow_null=True)


_BPS = dict(min_value=0, max_value=100_000, required=False)


class MarketPatchSerializer(serializers.Serializer):
    """Any subset of risk parameters plus a required reason. Integers must be JSON integers."""

    ltv_bps = StrictIntegerField(**_BPS)
    liquidation_threshold_bps = StrictIntegerField(**_BPS)
    liquidation_bonus_bps = StrictIntegerField(**_BPS)
    liquidation_protocol_fee_bps = StrictIntegerField(**_BPS)
    reserve_factor_bps = StrictIntegerField(**_BPS)
    supply_cap = StrictIntegerField(min_value=0, max_value=68_719_476_735, required=False)
    borrow_cap = StrictIntegerField(min_value=0, max_value=68_719_476_735, required=False)
    borrowing_enabled = StrictBooleanField(required=False)
    collateral_enabled = StrictBooleanField(required=False)
    frozen = StrictBooleanField(required=False)
    paused = StrictBooleanField(required=False)
    optimal_usage_bps = StrictIntegerField(**_BPS)
    base_rate_bps = StrictIntegerField(**_BPS)
    slope1_bps = StrictIntegerField(**_BPS)
    slope2_bps = StrictIntegerField(**_BPS)
    reason = serializers.CharField(max_length=1000, allow_blank=False, trim_whitespace=True)

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        if unknown:
            raise serializers.ValidationError({unknown[0]: [f"Unknown field {unknown[0]}."]}, code="unknown_field")
        return super().to_internal_value(data)
