from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from common.fields import UIntField
from markets.models import Asset, Reserve
from oracles.models import OracleRound


class Account(models.Model):
    class SystemRole(models.TextChoices):
        KEEPER = "keeper"
        TREASURY = "treasury"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account")
    # The protocol's own accounts are made by the migrations and found by this field, never by username.
    system_role = models.CharField(max_length=20, choices=SystemRole.choices, null=True, blank=True, unique=True)
    # Lowercase; set only by a SIWE signature of this address (first sign-in, or a link while signed in).
    eth_address = models.CharField(max_length=42, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(eth_address=Lower("eth_address")), name="eth_address_lowercase"),
        ]

    def __str__(self):
        return f"Account {self.pk} ({self.user})"


class Position(models.Model):
    """Scaled balances in one reserve (aToken and variable-debt-token scaled balances).

    The *_shadow floats are whole-token approximations of the scaled balances, kept in step on
    every write, so the scanner can screen with one cheap SQL pass; exact checks use the integers.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="positions")
    reserve = models.ForeignKey(Reserve, on_delete=models.PROTECT, related_name="positions")
    scaled_supply = UIntField(default=0)
    scaled_debt = UIntField(default=0)
    collateral_enabled = models.BooleanField(default=False)
    supply_shadow = models.FloatField(default=0.0)
    debt_shadow = models.FloatField(default=0.0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "reserve"], name="uniq_position")]
        indexes = [models.Index(fields=["reserve", "account"])]


class WalletBalance(models.Model):
    """Tokens the account holds outside the pool."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="wallet")
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT)
    amount = UIntField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "asset"], name="uniq_wallet")]


class LedgerEntry(models.Model):
    """Append-only record of every movement. Amounts are unscaled base units."""

    class Kind(models.TextChoices):
        FAUCET = "faucet"
        SUPPLY = "supply"
        WITHDRAW = "withdraw"
        BORROW = "borrow"
        REPAY = "repay"
        COLLATERAL = "collateral"
        LIQUIDATION = "liquidation"
        DEFICIT = "deficit"
        MINT = "mint"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="ledger")
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = UIntField()
    scaled_amount = UIntField(default=0)
    index = UIntField(default=0)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["account", "-id"])]


class LiquidationEvent(models.Model):
    """One keeper step; unique per (account, oracle round, step) so a redelivered task acts once."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="liquidations")
    oracle_round = models.ForeignKey(OracleRound, null=True, on_delete=models.SET_NULL, related_name="+")
    round_key = models.CharField(max_length=40, help_text="Scan trigger: oracle round id or scan id")
    step = models.PositiveSmallIntegerField()
    debt_asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="+")
    collateral_asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="+")
    debt_repaid = UIntField()
    collateral_seized = UIntField(help_text="Taken from the account, fee included")
    protocol_fee = UIntField()
    deficit = UIntField(default=0)
    health_factor_before = UIntField()
    health_factor_after = UIntField(null=True)
    debt_price = models.BigIntegerField()
    collateral_price = models.BigIntegerField()
    session = models.CharField(max_length=20, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "round_key", "step"], name="uniq_liquidation_step")
        ]


class FaucetPolicy(models.Model):
    """Per-asset daily faucet limit in whole tokens, tunable by admins."""

    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, related_name="faucet_policy")
    daily_limit = models.PositiveBigIntegerField()


class SiweNonce(models.Model):
    """Server-side SIWE nonces: single use (claimed by a conditional UPDATE) and short-lived."""

    nonce = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "markets_siwenonce"  # made by markets before SIWE moved here
