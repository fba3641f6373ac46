"""The price reads' cache (common.readcache, namespace "prices") follows every write they depend on: a round, a
feed (its latest round, source, heartbeat), a haircut policy or an asset (calendar, issuer profile, band)."""
from django.db.models.signals import post_delete, post_save

from common import readcache
from markets.models import Asset

from .models import HaircutPolicy, OracleFeed, OracleRound
from .selectors import PRICES


def _bump(sender, **kwargs) -> None:
    readcache.bump(PRICES)


def connect() -> None:
    for model in (OracleRound, OracleFeed, HaircutPolicy, Asset):
        for name, signal in (("save", post_save), ("delete", post_delete)):
            signal.connect(_bump, sender=model, dispatch_uid=f"oracles.readcache.{name}.{model.__name__}")
