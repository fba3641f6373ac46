from django.contrib import admin

from markets.admin import ReadOnlyAdmin

from .models import FaucetPolicy, LiquidationEvent


@admin.register(FaucetPolicy)
class FaucetPolicyAdmin(admin.ModelAdmin):
    """Admins tune the faucet's daily limit per asset (whole tokens per user per UTC day)."""

    list_display = ("asset", "daily_limit")


@admin.register(LiquidationEvent)
class LiquidationEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "account", "debt_asset", "collateral_asset", "step", "round_key")
