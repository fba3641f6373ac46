from django.contrib import admin

from common.admin import ReadOnlyAdmin

from .models import Backtest, HaircutPolicy, OracleFeed, OracleRound


@admin.register(OracleFeed)
class OracleFeedAdmin(ReadOnlyAdmin):
    """Sources change through PATCH /api/v1/admin/oracle/{symbol}/source/ (audited)."""

    list_display = ("asset", "source", "heartbeat_seconds", "last_changed_at")


@admin.register(HaircutPolicy)
class HaircutPolicyAdmin(ReadOnlyAdmin):
    """Policies change through PATCH /api/v1/admin/oracle/{symbol}/policy/ (audited)."""

    list_display = ("asset", "mode", "coverage", "apply_to_liquidation_threshold", "pause_liquidations_when_closed",
                    "reopen_grace_seconds")


@admin.register(OracleRound)
class OracleRoundAdmin(ReadOnlyAdmin):
    list_display = ("asset", "round_id", "source", "reference_price", "token_price", "session", "created_at")


@admin.register(Backtest)
class BacktestAdmin(ReadOnlyAdmin):
    list_display = ("id", "asset", "date_from", "date_to", "status", "processed", "total", "created_at")
