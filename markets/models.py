import re

from django.db import models

from common.fields import UIntField

SYMBOL_RE = re.compile(r"^[A-Za-z0-9._-]{1,20}$")


def is_symbol(value) -> bool:
    """Shape check before any query: NUL bytes or surrogates must never reach the database."""
    return isinstance(value, str) and bool(SYMBOL_RE.match(value))

RAY = 10**27


class Asset(models.Model):
    class Kind(models.TextChoices):
        STABLECOIN = "stablecoin"
        STOCK_TOKEN = "stock_token"
        ETF_TOKEN = "etf_token"
        PRE_IPO = "pre_ipo"

    class IssuerProfile(models.TextChoices):
        """API.md's list; each value's behaviour is declared in core.profiles.PROFILES."""
        STABLECOIN = "stablecoin"
        XSTOCKS = "xstocks"
        ONDO = "ondo_global_markets", "Ondo Global Markets"
        ROBINHOOD = "robinhood"
        STABLESTOCK = "stablestock", "StableStock"
        ASTER_PERP = "aster_perp", "Aster stock perp"
        TRADE_XYZ = "trade_xyz", "Trade.xyz (HIP-3)"
        VENTUALS = "ventuals", "Ventuals (HIP-3 pre-IPO)"
        JARSY = "jarsy", "Jarsy (pre-IPO)"
        CEX_WALLET = "cex_wallet", "CEX wallet"

    class VenueHours(models.TextChoices):
        ALWAYS = "24/7", "24/7"
        WEEKDAYS = "24/5", "24/5"

    symbol = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    decimals = models.PositiveSmallIntegerField()
    issuer_profile = models.CharField(max_length=30, choices=IssuerProfile.choices)
    underlying = models.CharField(max_length=20, blank=True, help_text="Underlying ticker, e.g. TSLA")
    calendar = models.CharField(max_length=20, default="XNYS", help_text="XNYS, XNAS, 24/7 or ALWAYS_CLOSED")
    # Ondo tokens track underlying x multiplier (bps, 10000 = 1x)
    price_multiplier_bps = models.PositiveIntegerField(default=10_000)
    volatility_bps = models.PositiveIntegerField(default=200, help_text="Daily volatility for the simulated feed")
    # Profile parameters (core.profiles.AssetParams); 0/blank where the profile has none.
    max_leverage = models.PositiveSmallIntegerField(default=0, help_text="Trade.xyz: closed band = +/-1/max_leverage")
    band_bps = models.PositiveIntegerField(default=0, help_text="Aster: off-hours band around the last close")
    depth_usd = models.PositiveBigIntegerField(
        default=0, help_text="StableStock: the pool's USD reserve; own books: USD resting within 1% on a Sunday")
    valuation_interval_days = models.PositiveSmallIntegerField(
        default=0, help_text="Jarsy/Ventuals: mean days between valuation events")
    oracle_blend_bps = models.PositiveIntegerField(
        default=5_000, help_text="Ventuals: the valuation's weight in the oracle (rest: 1-hour trade average)")
    resells_profile = models.CharField(max_length=30, blank=True, choices=IssuerProfile.choices,
                                       help_text="CEX wallet: the profile it resells")
    venue_hours = models.CharField(max_length=8, blank=True, choices=VenueHours.choices,
                                   help_text="CEX wallet: when the venue trades")

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.symbol

    @property
    def unit(self) -> int:
        return 10**self.decimals


class Reserve(models.Model):
    """Risk parameters (bps, caps in whole tokens) and the scaled accounting of one asset's pool."""

    asset = models.OneToOneField(Asset, on_delete=models.PROTECT, related_name="reserve")
    ltv_bps = models.PositiveIntegerField(default=0)
    liquidation_threshold_bps = models.PositiveIntegerField(default=0)
    liquidation_bonus_bps = models.PositiveIntegerField(default=10_500)
    liquidation_protocol_fee_bps = models.PositiveIntegerField(default=1_000)
    reserve_factor_bps = models.PositiveIntegerField(default=1_000)
    supply_cap = models.PositiveBigIntegerField(default=0, help_text="Whole tokens; 0 = no cap")
    borrow_cap = models.PositiveBigIntegerField(default=0, help_text="Whole tokens; 0 = no cap")
    borrowing_enabled = models.BooleanField(default=False)
    collateral_enabled = models.BooleanField(default=True)
    frozen = models.BooleanField(default=False)
    paused = models.BooleanField(default=False)
    optimal_usage_bps = models.PositiveIntegerField(default=8_000)
    base_rate_bps = models.PositiveIntegerField(default=0)
    slope1_bps = models.PositiveIntegerField(default=400)
    slope2_bps = models.PositiveIntegerField(default=6_000)
    # Liquidations wait until this instant (Aave v3.1 grace period).
    grace_until = models.DateTimeField(null=True, blank=True)

    # Aave ReserveData
    liquidity_index = UIntField(default=RAY)
    variable_borrow_index = UIntField(default=RAY)
    liquidity_rate = UIntField(default=0)
    variable_borrow_rate = UIntField(default=0)
    last_update = models.BigIntegerField(default=0, help_text="Unix seconds")
    total_scaled_supply = UIntField(default=0)
    total_scaled_debt = UIntField(default=0)
    accrued_to_treasury = UIntField(default=0, help_text="Scaled, not yet minted to the treasury")
    virtual_balance = UIntField(default=0, help_text="Underlying held by the pool (v3.1 virtual accounting)")
    deficit = UIntField(default=0, help_text="Bad debt, base units")

    PARAMETER_FIELDS = (
        "ltv_bps",
        "liquidation_threshold_bps",
        "liquidation_bonus_bps",
        "liquidation_protocol_fee_bps",
        "reserve_factor_bps",
        "supply_cap",
        "borrow_cap",
        "borrowing_enabled",
        "collateral_enabled",
        "frozen",
        "paused",
        "optimal_usage_bps",
        "base_rate_bps",
        "slope1_bps",
        "slope2_bps",
    )

    class Meta:
        ordering = ["asset_id"]

    def __str__(self):
        return f"Reserve {self.asset.symbol}"


class Pool(models.Model):
    """The pool's own parameters (one row): which liquidation engine runs, and Aave v4's pool-level knobs.

    Aave v4 publishes no universal defaults; the simulator's are T = 1.05, f = 50%, h_max = 0.95 (DESIGN.md s2).
    Health factors are kept in bps here (10500 = 1.05) and widened to wad by the engine."""

    class Engine(models.TextChoices):
        V3_3 = "v3.3"
        V4 = "v4"

    liquidation_engine = models.CharField(max_length=8, choices=Engine.choices, default=Engine.V3_3)
    target_health_factor_bps = models.PositiveIntegerField(default=10_500)
    liquidation_bonus_factor_bps = models.PositiveIntegerField(default=5_000)
    health_factor_for_max_bonus_bps = models.PositiveIntegerField(default=9_500)

    PARAMETER_FIELDS = ("liquidation_engine", "target_health_factor_bps", "liquidation_bonus_factor_bps",
                        "health_factor_for_max_bonus_bps")

    def __str__(self):
        return f"Pool ({self.liquidation_engine})"
