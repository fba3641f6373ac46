"""The issuer-profile line (core.profiles): the profile, its hours today and its closed-market rule."""
from datetime import UTC, datetime

from django import template

register = template.Library()


@register.filter
def profile_line(asset) -> str:
    from core import profiles
    from markets.selectors import asset_profile_params

    if asset.issuer_profile not in profiles.PROFILES:
        return ""
    return profiles.rule_line(asset_profile_params(asset), datetime.now(UTC))
