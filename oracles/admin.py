from django.contrib import admin

from .models import HaircutPolicy, OracleFeed, OracleRound

admin.site.register(OracleFeed)
admin.site.register(HaircutPolicy)


@admin.register(OracleRound)
class OracleRoundAdmin(admin.ModelAdmin):
    list_display = ("asset", "round_id", "source", "reference_price", "token_price", "session", "created_at")
