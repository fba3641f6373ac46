"""The price reads' cache (common.readcache, namespace "prices") follows every write they depend on: a round, a
feed (its latest round, source, heartbeat), a haircut policy or an asset (calendar, issuer profile, band)."""
from common import readcache
from markets.models import Asset

from .models import HaircutPolicy, OracleFeed, OracleRound
from .selectors import PRICES


def connect() -> None:
    readcache.bump_on_writes(PRICES, OracleRound, OracleFeed, HaircutPolicy, Asset)
