from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from common.admin import ReadOnlyAdmin

from .models import Account, FaucetPolicy, LiquidationEvent


@admin.register(FaucetPolicy)
class FaucetPolicyAdmin(ReadOnlyAdmin):
    """Daily faucet limit per asset (whole tokens per user per UTC day); no audited service changes it, so
    the admin shows it only."""

    list_display = ("asset", "daily_limit")


@admin.register(LiquidationEvent)
class LiquidationEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "account", "debt_asset", "collateral_asset", "step", "round_key")


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class ProtocolUserAdmin(UserAdmin):
    """Superusers manage people here; the protocol's own users (treasury, keeper) are view-only, so no one
    can activate one, give it a password and sign in as the protocol."""

    def _is_system(self, obj) -> bool:
        return obj is not None and Account.objects.filter(user=obj, system_role__isnull=False).exists()

    def has_change_permission(self, request, obj=None):
        return not self._is_system(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._is_system(obj) and super().has_delete_permission(request, obj)
