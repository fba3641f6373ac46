from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.api.fields import (
    AsciiDateField,
    AsciiDateTimeField,
    AsciiDecimalField,
    PercentField,
    StrictBooleanField,
    StrictChoiceField,
    StrictIntegerField,
    UsdPriceField,
)
from core.amounts import format_price
from core.clock import CALENDARS, CLOSURE_KINDS


class OraclePriceSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    reference_price = serializers.CharField(help_text="USD decimal string")
    token_price = serializers.CharField(help_text=(
        "USD decimal string: the token's own market price (the issuer profile's); while the token has no market "
        "(token_market_open false: a 24/5 token at weekends and on holidays) its last trade, which no rule uses"))
    token_market_open = serializers.BooleanField(help_text=(
        "whether the token trades now (Robinhood and 24/5 CEX venues: not at weekends nor on holidays)"))
    effective_price = serializers.CharField(help_text="reference x (1 - haircut); for an own-market profile "
                                                      "(StableStock, Aster, Trade.xyz, Ventuals, or a CEX wallet "
                                                      "reselling one) while closed, no more than token_price")
    haircut_bps = serializers.IntegerField()
    session = serializers.CharField()
    is_open = serializers.BooleanField()
    closure_kind = serializers.CharField(allow_null=True)
    price_age_seconds = serializers.IntegerField(help_text="Since the reference price last changed")
    flags = serializers.ListField(child=serializers.ChoiceField(["stale", "depeg", "outlier", "halted", "unknown"]))
    round = serializers.IntegerField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)
    source = serializers.CharField()
    issuer_profile = serializers.CharField(help_text="core.profiles: how the token behaves while NYSE is shut")
    band_low = serializers.CharField(allow_null=True, help_text="USD decimal string; null where the profile has "
                                                                "no band (Aster, Trade.xyz have one)")
    band_high = serializers.CharField(allow_null=True, help_text="USD decimal string; null without a band")
    depeg = serializers.BooleanField(help_text="the token's own price is more than 2% from the reference")
    seize_price = serializers.CharField(help_text="USD decimal string: the price seized collateral is counted at")

    @staticmethod
    def from_read(read) -> dict:
        return {
            "symbol": read.symbol, "reference_price": format_price(read.reference_price),
            "token_price": format_price(read.token_price), "token_market_open": read.token_market_open,
            "effective_price": format_price(read.effective_price),
            "haircut_bps": read.haircut_bps, "session": read.session, "is_open": read.is_open,
            "closure_kind": read.closure_kind, "price_age_seconds": read.price_age_seconds,
            "flags": list(read.flags), "round": read.round_id, "updated_at": read.updated_at, "source": read.source,
            "issuer_profile": read.profile,
            "band_low": None if read.band_low is None else format_price(read.band_low),
            "band_high": None if read.band_high is None else format_price(read.band_high),
            "depeg": "depeg" in read.flags, "seize_price": format_price(read.seize_price),
        }


class HaircutTableSerializer(serializers.Serializer):
    overnight = serializers.IntegerField()
    weekend = serializers.IntegerField()
    holiday = serializers.IntegerField()
    holiday_weekend = serializers.IntegerField()
    unplanned = serializers.IntegerField()




class MarketStatusQuerySerializer(serializers.Serializer):
    calendar = StrictChoiceField(CALENDARS, required=False, default="XNYS",
                                 message=f"Unknown calendar {{input!r}}; use one of {', '.join(CALENDARS)}.")
    at = AsciiDateTimeField(required=False, help_text="ISO-8601 instant")


class MarketStatusSerializer(serializers.Serializer):
    calendar = serializers.CharField()
    at = serializers.DateTimeField()
    session = serializers.ChoiceField(["pre_market", "regular", "post_market", "overnight", "closed"])
    is_open = serializers.BooleanField()
    closure_kind = serializers.CharField(allow_null=True)
    early_close = serializers.BooleanField()
    next_open = serializers.DateTimeField(allow_null=True)
    next_close = serializers.DateTimeField(allow_null=True)
    seconds_since_close = serializers.IntegerField(allow_null=True)


@extend_schema_field({"type": "string", "maxLength": 1000})
class ReasonField(serializers.Field):
    """An optional reason for the audit log: a string of at most 1000 characters; anything falsy is none."""

    default_error_messages = {"invalid": "reason must be a string of at most 1000 characters."}

    def __init__(self, **kwargs):
        super().__init__(required=False, default="", **kwargs)

    def to_internal_value(self, data):
        if not data:
            return ""
        if not isinstance(data, str) or len(data) > 1000:
            self.fail("invalid")
        return data

    def validate_empty_values(self, data):
        return (True, "") if data is None else super().validate_empty_values(data)


class ManualPriceSerializer(serializers.Serializer):
    price = UsdPriceField(help_text='USD decimal string, up to 8 decimals, e.g. "225.5"')
    reason = ReasonField()
    confirm = StrictBooleanField(required=False, default=False,
                                 help_text="required (true) for a price more than 10x away from the current "
                                           "one; without it such a price is a 409 confirmation_required")


class ShockSerializer(serializers.Serializer):
    percent = PercentField(help_text='Decimal string in percent, e.g. "-12.5"')
    at = StrictChoiceField(["next_open", "now"], message='at must be "next_open" or "now".')
    reason = ReasonField()


class UnpinSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, help_text="required: goes to the audit trail")


class ShockResultSerializer(serializers.Serializer):
    applied = serializers.BooleanField()
    at = serializers.CharField()
    price = OraclePriceSerializer()


class PolicySerializer(serializers.Serializer):
    mode = serializers.ChoiceField(["none", "fixed", "calibrated"], required=False)
    coverage = AsciiDecimalField(max_digits=5, decimal_places=4, min_value=Decimal("0.5"), max_value=Decimal("0.9999"),
                                        required=False, coerce_to_string=False)
    fixed_bps = serializers.DictField(child=StrictIntegerField(min_value=0, max_value=10_000), required=False)
    apply_to_liquidation_threshold = StrictBooleanField(required=False)
    pause_liquidations_when_closed = StrictBooleanField(required=False)
    reopen_grace_seconds = StrictIntegerField(min_value=0, max_value=4 * 3600, required=False)
    manual_price_liquidations = serializers.ChoiceField(["liquidate", "hold"], required=False,
                                                        help_text="Under a manual price: liquidate on it, or hold")
    reason = serializers.CharField(max_length=1000, write_only=True)

    def validate_fixed_bps(self, value):
        unknown = set(value) - set(CLOSURE_KINDS)
        if unknown:
            raise serializers.ValidationError(f"Unknown closure kinds: {', '.join(sorted(unknown))}.")
        return value


class PolicyOutSerializer(serializers.Serializer):
    mode = serializers.CharField()
    coverage = serializers.CharField()
    fixed_bps = serializers.DictField(child=serializers.IntegerField())
    apply_to_liquidation_threshold = serializers.BooleanField()
    pause_liquidations_when_closed = serializers.BooleanField()
    reopen_grace_seconds = serializers.IntegerField()
    manual_price_liquidations = serializers.CharField()
    haircuts = HaircutTableSerializer()


class SourceSerializer(serializers.Serializer):
    source = serializers.ChoiceField(["simulated", "replay", "manual", "chainlink"])
    reason = serializers.CharField(max_length=1000)
    rpc_url = serializers.URLField(required=False)
    address = serializers.RegexField(r"^0x[0-9a-fA-F]{40}$", required=False)
    ticker = serializers.RegexField(r"^[A-Z]{1,6}$", required=False)
    heartbeat_seconds = StrictIntegerField(min_value=10, max_value=7 * 86_400, required=False)


class SourceOutSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    source = serializers.CharField()
    heartbeat_seconds = serializers.IntegerField()


class BacktestInSerializer(serializers.Serializer):
    asset = serializers.CharField(help_text="a symbol with shipped price history, e.g. TSLAx")
    to = AsciiDateField(help_text="last session, YYYY-MM-DD")
    policies = serializers.ListField(child=serializers.ChoiceField(
        ["none", "kamino", "fixed", "calibrated", "pause_when_closed"]), min_length=1, max_length=5)
    parameters = serializers.DictField(child=serializers.IntegerField(), required=False,
                                       help_text="what-if overrides: ltv_bps, liquidation_threshold_bps, "
                                                 "liquidation_bonus_bps")
    engine = StrictChoiceField(["v3.3", "v4"], required=False, message='engine must be "v3.3" or "v4".',
                               help_text="liquidation rules; omitted: the pool's engine")
    seize_at = StrictChoiceField(["reference", "haircut"], required=False, default="reference",
                                 message='seize_at must be "reference" or "haircut".',
                                 help_text="price the seized collateral is counted at: reference (default) or "
                                           "haircut (the old rule, to compare)")
    seed = StrictIntegerField(required=False, min_value=0, max_value=2**32 - 1,
                              help_text="fixes every random draw (the recommendation's simulated paths)")
    recommend = StrictBooleanField(required=False, default=False,
                                   help_text="also recommend LTV/LT per engine and policy (result.recommendation)")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = AsciiDateField(help_text="first session, YYYY-MM-DD")  # a Python keyword
        return fields


class BacktestProgressSerializer(serializers.Serializer):
    processed = serializers.IntegerField(help_text="sessions walked, over every policy")
    total = serializers.IntegerField()
    percent = serializers.FloatField()


class BacktestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    asset = serializers.CharField()
    to = serializers.DateField()
    policies = serializers.ListField(child=serializers.CharField())
    parameters = serializers.DictField(child=serializers.IntegerField())
    engine = serializers.CharField(allow_null=True, help_text='"v3.3" or "v4"; null: the pool\'s engine at run time')
    seize_at = serializers.ChoiceField(["reference", "haircut"])
    seed = serializers.IntegerField(allow_null=True)
    recommend = serializers.BooleanField()
    status = serializers.ChoiceField(["queued", "running", "done", "failed"])
    progress = BacktestProgressSerializer()
    result = serializers.JSONField(allow_null=True, help_text='{"policies": {NAME: {"bad_debt_usd", '
                                                              '"liquidations", "unnecessary_liquidations", ...}}}')
    error = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        return fields

    @staticmethod
    def from_job(job) -> dict:
        percent = round(100 * job.processed / job.total, 1) if job.total else 0.0
        return {"id": job.pk, "asset": job.asset.symbol, "from": job.date_from.isoformat(),
                "to": job.date_to.isoformat(), "policies": job.policies, "parameters": job.parameters or {},
                "engine": job.engine or None, "seize_at": job.seize_at, "seed": job.seed, "recommend": job.recommend,
                "status": job.status, "progress": {"processed": job.processed, "total": job.total, "percent": percent},
                "result": job.result, "error": job.error, "created_at": job.created_at, "started_at": job.started_at,
                "finished_at": job.finished_at}
