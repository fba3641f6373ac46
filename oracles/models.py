from django.db import models

from common.models import Job
from markets.models import Asset


class OracleFeed(models.Model):
    """The price source an admin chose for one asset, and where its latest round stands."""

    class Source(models.TextChoices):
        SIMULATED = "simulated"
        REPLAY = "replay"
        MANUAL = "manual"
        CHAINLINK = "chainlink"

    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, related_name="feed")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.SIMULATED)
    heartbeat_seconds = models.PositiveIntegerField(default=3600)
    # Source settings: chainlink rpc_url/address, replay ticker/cursor, simulated drift/depeg state.
    config = models.JSONField(default=dict, blank=True)
    latest_round = models.ForeignKey("OracleRound", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_changed_at = models.DateTimeField(null=True, blank=True, help_text="When the reference price last changed")

    def __str__(self):
        return f"{self.asset.symbol} ({self.source})"


class OracleRound(models.Model):
    """One published price. Prices are USD with 8 decimals."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="rounds")
    round_id = models.PositiveBigIntegerField()
    source = models.CharField(max_length=20)
    reference_price = models.BigIntegerField()
    token_price = models.BigIntegerField()
    session = models.CharField(max_length=20, default="regular")
    flags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["asset", "round_id"], name="uniq_round_per_asset")]
        indexes = [models.Index(fields=["asset", "-created_at"])]

    @property
    def quote(self) -> tuple:
        """What a read takes from the round: one with its predecessor's quote moves no price."""
        return self.reference_price, self.token_price, tuple(self.flags)


class HaircutPolicy(models.Model):
    class Mode(models.TextChoices):
        NONE = "none"
        FIXED = "fixed"
        CALIBRATED = "calibrated"

    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, related_name="haircut_policy")
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.CALIBRATED)
    coverage = models.DecimalField(max_digits=5, decimal_places=4, default="0.9900")
    fixed_bps = models.JSONField(default=dict, blank=True, help_text="{closure_kind: bps}")
    apply_to_liquidation_threshold = models.BooleanField(default=False)
    pause_liquidations_when_closed = models.BooleanField(default=False)
    reopen_grace_seconds = models.PositiveIntegerField(default=0)
    # When a manual price pins the asset: liquidate on it ("liquidate") or hold liquidations ("hold").
    manual_price_liquidations = models.CharField(max_length=10, default="liquidate")


class Backtest(Job):
    """A backtest of closed-market policies on one asset's price history: a long job the UI and API poll."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="+")
    date_from = models.DateField()
    date_to = models.DateField()
    policies = models.JSONField(default=list)
    parameters = models.JSONField(default=dict, blank=True, help_text="What-if overrides of the reserve's "
                                  "ltv_bps, liquidation_threshold_bps, liquidation_bonus_bps")
    # run options: engine "" = the pool's at run time; seize_at prices the seized collateral; seed fixes the
    # recommendation's simulated paths (None: drawn at run time and reported in the result)
    engine = models.CharField(max_length=8, blank=True, default="", help_text='"v3.3", "v4" or "" (the pool\'s)')
    seize_at = models.CharField(max_length=10, default="reference")
    seed = models.BigIntegerField(null=True, blank=True)
    recommend = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    processed = models.PositiveIntegerField(default=0)  # sessions walked, over all policies (and screens)
    total = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"backtest {self.pk} {self.asset_id} {self.date_from}..{self.date_to} ({self.status})"
