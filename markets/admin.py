from django.contrib import admin

from .models import Asset, AuditEntry, Reserve


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ("symbol", "name", "kind", "decimals", "issuer_profile", "underlying", "calendar")


@admin.register(Reserve)
class ReserveAdmin(admin.ModelAdmin):
    """Read-only here: parameter changes go through the audited service (API PATCH or the risk desk)."""

    list_display = ("asset", "ltv_bps", "liquidation_threshold_bps", "liquidation_bonus_bps", "paused", "frozen")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor", "target", "field", "old_value", "new_value", "reason")

    def has_change_permission(self, request, obj=None):
        return False
