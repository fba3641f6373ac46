from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("oracles", "0002_backtest"),
    ]

    operations = [
        migrations.AddField(
            model_name="backtest",
            name="engine",
            field=models.CharField(blank=True, default="", help_text='"v3.3", "v4" or "" (the pool\'s)', max_length=8),
        ),
        migrations.AddField(
            model_name="backtest",
            name="seize_at",
            field=models.CharField(default="reference", max_length=10),
        ),
        migrations.AddField(
            model_name="backtest",
            name="seed",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="backtest",
            name="recommend",
            field=models.BooleanField(default=False),
        ),
    ]
