"""Issuer profiles become API.md's list (core.profiles); profile parameters get their own fields."""
from django.db import migrations, models

PROFILES = [("stablecoin", "Stablecoin"), ("xstocks", "Xstocks"), ("ondo_global_markets", "Ondo Global Markets"),
            ("robinhood", "Robinhood"), ("stablestock", "StableStock"), ("aster_perp", "Aster stock perp"),
            ("trade_xyz", "Trade.xyz (HIP-3)"), ("ventuals", "Ventuals (HIP-3 pre-IPO)"),
            ("jarsy", "Jarsy (pre-IPO)"), ("cex_wallet", "CEX wallet")]


def forwards(apps, schema_editor):
    """pre_ipo: a valuation that never trades (always closed) is Jarsy-like, one with a 24/7 market Ventuals;
    perp -> aster_perp."""
    Asset = apps.get_model("markets", "Asset")
    Asset.objects.filter(issuer_profile="pre_ipo", calendar="ALWAYS_CLOSED").update(
        issuer_profile="jarsy", valuation_interval_days=90)
    Asset.objects.filter(issuer_profile="pre_ipo").update(issuer_profile="ventuals", valuation_interval_days=90)
    Asset.objects.filter(issuer_profile="perp").update(issuer_profile="aster_perp", band_bps=300)


def backwards(apps, schema_editor):
    Asset = apps.get_model("markets", "Asset")
    Asset.objects.filter(issuer_profile__in=["jarsy", "ventuals"]).update(issuer_profile="pre_ipo")
    Asset.objects.filter(issuer_profile__in=["aster_perp", "trade_xyz"]).update(issuer_profile="perp")
    Asset.objects.filter(issuer_profile="cex_wallet").update(issuer_profile="xstocks")


class Migration(migrations.Migration):

    dependencies = [
        ("markets", "0005_pool"),
    ]

    operations = [
        migrations.AddField("asset", "max_leverage", models.PositiveSmallIntegerField(
            default=0, help_text="Trade.xyz: closed band = +/-1/max_leverage")),
        migrations.AddField("asset", "band_bps", models.PositiveIntegerField(
            default=0, help_text="Aster: off-hours band around the last close")),
        migrations.AddField("asset", "depth_usd", models.PositiveBigIntegerField(
            default=0, help_text="StableStock: the pool's USD reserve; own books: USD resting within 1% on a Sunday")),
        migrations.AddField("asset", "valuation_interval_days", models.PositiveSmallIntegerField(
            default=0, help_text="Jarsy/Ventuals: mean days between valuation events")),
        migrations.AddField("asset", "oracle_blend_bps", models.PositiveIntegerField(
            default=5000, help_text="Ventuals: the valuation's weight in the oracle (rest: 1-hour trade average)")),
        migrations.AddField("asset", "resells_profile", models.CharField(
            blank=True, choices=PROFILES, help_text="CEX wallet: the profile it resells", max_length=30)),
        migrations.AddField("asset", "venue_hours", models.CharField(
            blank=True, choices=[("24/7", "24/7"), ("24/5", "24/5")], help_text="CEX wallet: when the venue trades",
            max_length=8)),
        migrations.RunPython(forwards, backwards),
        migrations.AlterField("asset", "issuer_profile", models.CharField(choices=PROFILES, max_length=30)),
    ]
