from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.amounts import format_amount

from ..models import Asset, Reserve


class AssetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Asset
        fields = ["symbol", "name", "kind", "decimals", "issuer_profile", "underlying", "calendar"]


RISK_FIELDS = list(Reserve.PARAMETER_FIELDS)


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
    total_supplied = serializers.SerializerMethodField()
    total_borrowed = serializers.SerializerMethodField()
    available_liquidity = serializers.SerializerMethodField()
    utilization = serializers.SerializerMethodField()
    utilization_ray = serializers.SerializerMethodField()
    variable_borrow_rate_ray = serializers.SerializerMethodField()
    liquidity_rate_ray = serializers.SerializerMethodField()
    liquidity_index_ray = serializers.SerializerMethodField()
    variable_borrow_index_ray = serializers.SerializerMethodField()
    borrow_apy = serializers.CharField(help_text="Percent, display only")
    supply_apy = serializers.CharField(help_text="Percent, display only")
    deficit = serializers.SerializerMethodField()
    grace_until = serializers.DateTimeField(source="reserve.grace_until", allow_null=True)

    def _fmt(self, obj, value):
        return format_amount(value, obj.reserve.asset.decimals)

    @extend_schema_field(serializers.CharField(help_text="Decimal string, token units"))
    def get_total_supplied(self, obj):
        return self._fmt(obj, obj.total_supplied)

    @extend_schema_field(serializers.CharField(help_text="Decimal string, token units"))
    def get_total_borrowed(self, obj):
        return self._fmt(obj, obj.total_borrowed)

    @extend_schema_field(serializers.CharField(help_text="Decimal string, token units"))
    def get_available_liquidity(self, obj):
        return self._fmt(obj, obj.reserve.virtual_balance)

    @extend_schema_field(serializers.CharField(help_text="Fraction 0..1 as a decimal string"))
    def get_utilization(self, obj):
        return format_amount(obj.utilization_ray, 27)

    @extend_schema_field(serializers.CharField(help_text="Ray integer string"))
    def get_utilization_ray(self, obj):
        return str(obj.utilization_ray)

    @extend_schema_field(serializers.CharField(help_text="Ray integer string"))
    def get_variable_borrow_rate_ray(self, obj):
        return str(obj.reserve.variable_borrow_rate)

    @extend_schema_field(serializers.CharField(help_text="Ray integer string"))
    def get_liquidity_rate_ray(self, obj):
        return str(obj.reserve.liquidity_rate)

    @extend_schema_field(serializers.CharField(help_text="Ray integer string"))
    def get_liquidity_index_ray(self, obj):
        return str(obj.reserve.liquidity_index)

    @extend_schema_field(serializers.CharField(help_text="Ray integer string"))
    def get_variable_borrow_index_ray(self, obj):
        return str(obj.reserve.variable_borrow_index)

    @extend_schema_field(serializers.CharField(help_text="Bad debt, decimal string in token units"))
    def get_deficit(self, obj):
        return self._fmt(obj, obj.reserve.deficit)


_BPS = dict(min_value=0, max_value=100_000, required=False)


class MarketPatchSerializer(serializers.Serializer):
    """Any subset of risk parameters plus a required reason. Integers must be JSON integers."""

    ltv_bps = serializers.IntegerField(**_BPS)
    liquidation_threshold_bps = serializers.IntegerField(**_BPS)
    liquidation_bonus_bps = serializers.IntegerField(**_BPS)
    liquidation_protocol_fee_bps = serializers.IntegerField(**_BPS)
    reserve_factor_bps = serializers.IntegerField(**_BPS)
    supply_cap = serializers.IntegerField(min_value=0, max_value=68_719_476_735, required=False)
    borrow_cap = serializers.IntegerField(min_value=0, max_value=68_719_476_735, required=False)
    borrowing_enabled = serializers.BooleanField(required=False)
    collateral_enabled = serializers.BooleanField(required=False)
    frozen = serializers.BooleanField(required=False)
    paused = serializers.BooleanField(required=False)
    optimal_usage_bps = serializers.IntegerField(**_BPS)
    base_rate_bps = serializers.IntegerField(**_BPS)
    slope1_bps = serializers.IntegerField(**_BPS)
    slope2_bps = serializers.IntegerField(**_BPS)
    reason = serializers.CharField(max_length=1000, allow_blank=False, trim_whitespace=True)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            for name, field in self.fields.items():
                value = data.get(name)
                if isinstance(field, serializers.IntegerField) and name in data and (
                        isinstance(value, bool) or not isinstance(value, int)):
                    raise serializers.ValidationError({name: [f"{name} must be a JSON integer."]}, code="invalid")
                if isinstance(field, serializers.BooleanField) and name in data and not isinstance(value, bool):
                    raise serializers.ValidationError({name: [f"{name} must be a JSON boolean."]}, code="invalid")
            unknown = set(data) - set(self.fields)
            if unknown:
                name = sorted(unknown)[0]
                raise serializers.ValidationError({name: [f"Unknown field {name}."]}, code="unknown_field")
        return super().to_internal_value(data)


