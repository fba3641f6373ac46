from rest_framework import serializers

from common.api.fields import AmountField, RayField, StrictBooleanField, StrictChoiceField, StrictIntegerField
from common.api.serializers import FastOutputMixin, MemoOutputMixin, RejectUnknownFieldsMixin
from core.aave.engines import ENGINES

from ..models import Asset, Reserve


class AssetSerializer(serializers.ModelSerializer):
    """An asset with its issuer profile (core.profiles) and the profile's own parameters (0 or "" where unused)."""

    profile_label = serializers.SerializerMethodField()
    token_hours = serializers.SerializerMethodField(help_text='When the token itself trades: "24/7", "24/5", '
                                                              '"none"')
    mint_window = serializers.SerializerMethodField(help_text="When the issuer mints and redeems")
    closed_market_rule = serializers.SerializerMethodField(help_text="What applies while NYSE is shut")
    band_fraction_bps = serializers.SerializerMethodField(
        help_text="Half-width of the profile's price band around the last reference, bps; null without a band")
    resells_profile = serializers.CharField(read_only=True, help_text='CEX wallet: the issuer_profile it resells; '
                                                                      '"" otherwise')

    class Meta:
        model = Asset
        fields = ["symbol", "name", "kind", "decimals", "issuer_profile", "underlying", "calendar",
                  "profile_label", "token_hours", "mint_window", "closed_market_rule", "price_multiplier_bps",
                  "max_leverage", "band_bps", "band_fraction_bps", "depth_usd", "valuation_interval_days",
                  "oracle_blend_bps", "resells_profile", "venue_hours"]

    @staticmethod
    def _profile(asset: Asset):
        from core.profiles import PROFILES

        return PROFILES[asset.issuer_profile]

    def get_profile_label(self, asset: Asset) -> str:
        return self._profile(asset).label

    def get_token_hours(self, asset: Asset) -> str:
        hours = self._profile(asset).token_hours
        return (asset.venue_hours or "24/7") if hours == "per venue" else hours

    def get_mint_window(self, asset: Asset) -> str:
        from core.profiles import PROFILES

        profile = PROFILES.get(asset.resells_profile) or self._profile(asset)
        return profile.mint_window

    def get_closed_market_rule(self, asset: Asset) -> str:
        from core.profiles import PROFILES

        return (PROFILES.get(asset.resells_profile) or self._profile(asset)).closed_rule \
            if asset.issuer_profile == Asset.IssuerProfile.CEX_WALLET else self._profile(asset).closed_rule

    def get_band_fraction_bps(self, asset: Asset) -> int | None:
        from core.profiles import AssetParams

        fraction = AssetParams(asset.symbol, asset.issuer_profile, max_leverage=asset.max_leverage,
                               band_bps=asset.band_bps, resells=asset.resells_profile).band_fraction
        return round(fraction * 10_000) if fraction else None


_DECIMALS = "reserve.asset.decimals"
_RESERVE_COLUMNS = [field.attname for field in Reserve._meta.concrete_fields]


class MarketSerializer(MemoOutputMixin, FastOutputMixin, serializers.Serializer):
    """A reserve: its risk parameters (JSON integers/booleans), totals (decimal strings), rates (ray strings).

    Rendered once per process for each state of a market (MemoOutputMixin): the key is every column of the reserve
    row, the asset's symbol and decimals, and the view's totals, rates and engine, which are all the fields read."""

    def memo_key(self, view):
        if view.key is not None:  # markets.selectors: the raw row, second and engine the view follows from
            return view.key
        reserve = view.reserve
        return (view.total_supplied, view.total_borrowed, view.utilization_ray, view.borrow_apy, view.supply_apy,
                view.liquidation_engine, reserve.asset.symbol, reserve.asset.decimals,
                *[getattr(reserve, name) for name in _RESERVE_COLUMNS])

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
    liquidation_engine = serializers.ChoiceField(choices=ENGINES, help_text="The pool's liquidation rules")


_BPS = dict(min_value=0, max_value=100_000, required=False)


class MarketPatchSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
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


class PoolSerializer(serializers.Serializer):
    """The pool: its liquidation engine and Aave v4's pool-level knobs (health factors in bps, 10000 = 1.0)."""

    liquidation_engine = serializers.ChoiceField(choices=ENGINES, help_text="v3.3 (close factor) or v4 (target HF)")
    target_health_factor_bps = serializers.IntegerField(help_text="v4: the HF a liquidation restores (>= 10000)")
    liquidation_bonus_factor_bps = serializers.IntegerField(
        help_text="v4: B_min = 100% + (B_max - 100%) x this (0-10000)")
    health_factor_for_max_bonus_bps = serializers.IntegerField(
        help_text="v4: at or below this HF the bonus is the reserve's maximum (< 10000)")


class PoolPatchSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """Any subset of the pool's parameters plus a required reason. Integers must be JSON integers."""

    liquidation_engine = StrictChoiceField(ENGINES, required=False,
                                           message=f"liquidation_engine must be one of {', '.join(ENGINES)}.")
    target_health_factor_bps = StrictIntegerField(min_value=10_000, max_value=65_535, required=False)
    liquidation_bonus_factor_bps = StrictIntegerField(min_value=0, max_value=10_000, required=False)
    health_factor_for_max_bonus_bps = StrictIntegerField(min_value=0, max_value=9_999, required=False)
    reason = serializers.CharField(max_length=1000, allow_blank=False, trim_whitespace=True)
