from django.contrib import admin

from .models import FaucetPolicy, LiquidationEvent


@admin.register(FaucetPolicy)
class FaucetPolicyAdmin(admin.ModelAdmin):
    """Admins tune the faucet's daily limit per asset (whole tokens per user per UTC day)."""

    list_display = ("asset", "daily_limit")


@admin.register(LiquidationEvent)
class LiquidationEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "account", "debt_asset", "collateral_asset", "step", "round_key")

    def has_change_permission(self, request, obj=None):
        return False
