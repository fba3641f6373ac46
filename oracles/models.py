from django.db import models

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
