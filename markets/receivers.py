"""The market reads' copy of the pool row (common.readcache, namespace "pool") follows every pool write."""
from common import readcache

from .models import Pool
from .selectors import POOL


def connect() -> None:
    readcache.bump_on_writes(POOL, Pool)
