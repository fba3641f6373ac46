"""The market reads' copy of the pool row (common.readcache, namespace "pool") follows every pool write."""
from django.db.models.signals import post_delete, post_save

from common import readcache

from .models import Pool
from .selectors import POOL


def _bump(sender, **kwargs) -> None:
    readcache.bump(POOL)


def connect() -> None:
    for name, signal in (("save", post_save), ("delete", post_delete)):
        signal.connect(_bump, sender=Pool, dispatch_uid=f"markets.readcache.{name}.Pool")
