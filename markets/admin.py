from django.contrib import admin

from common.admin import ReadOnlyAdmin

from .models import Asset, Reserve


@admin.register(Asset)
class AssetAdmin(ReadOnlyAdmin):
    """Assets come from load_universe with their reserve, feed and policy; one added here alone would be
    half-configured and unaudited."""

    list_display = ("symbol", "name", "kind", "decimals", "issuer_profile", "underlying", "calendar")


@admin.register(Reserve)
class ReserveAdmin(ReadOnlyAdmin):
    list_display = ("asset", "ltv_bps", "liquidation_threshold_bps", "liquidation_bonus_bps", "paused", "frozen")

