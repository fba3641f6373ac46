from django.contrib import admin

from .models import Asset, AuditEntry, Reserve


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never edited here: changes go through the audited services (the API or the risk desk), and
    history (audit rows, oracle rounds) is never rewritten."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Asset)
class AssetAdmin(ReadOnlyAdmin):
    """Assets come from load_universe with their reserve, feed and policy; one added here alone would be
    half-configured and unaudited."""

    list_display = ("symbol", "name", "kind", "decimals", "issuer_profile", "underlying", "calendar")


@admin.register(Reserve)
class ReserveAdmin(ReadOnlyAdmin):
    list_display = ("asset", "ltv_bps", "liquidation_threshold_bps", "liquidation_bonus_bps", "paused", "frozen")


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor", "target", "field", "old_value", "new_value", "reason")
