"""Public reads served from the shared cache, exact to the second.

An entry's key carries its namespace's version and the current second. The writes a namespace depends on bump
its version once they commit, so a read never returns a state older than the last committed write; the second
is in the key because these reads also show ages and sessions, which move with the clock. An entry is stored
under the version read *before* it was computed, so a body computed across a write can only land under the
older version, which nobody reads any more.

Off unless settings.READ_CACHE: it needs a cache every process shares (production's Redis); with a per-process
cache a bump in a worker would not reach the web processes. A cache that fails never fails the read: it is
computed afresh."""
from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

log = logging.getLogger(__name__)
T = TypeVar("T")
ENTRY_SECONDS = 2  # an entry lives a little over its second, then expires on its own


def _second() -> int:
    return int(time.time())


def _version_key(namespace: str) -> str:
    return f"readcache:{namespace}:version"


def _bump_now(namespace: str) -> None:
    key = _version_key(namespace)
    cache.add(key, 0, timeout=None)  # SET NX then INCR: two processes bumping at once move it twice
    cache.incr(key)


def bump(namespace: str) -> None:
    """A write the namespace's reads depend on: move its version once the write commits (at once outside a
    transaction). A failed bump is logged; the entries it should have retired expire within ENTRY_SECONDS."""
    if settings.READ_CACHE:
        transaction.on_commit(lambda: _bump_now(namespace), robust=True)


def cached(namespace: str, name: str, build: Callable[[], T]) -> T:
    """build()'s value for `name` (say, the request's absolute URL), shared for the current second and version."""
    if not settings.READ_CACHE:
        return build()
    try:
        version = cache.get(_version_key(namespace), 0)
        digest = hashlib.sha256(name.encode()).hexdigest()[:32]
        key = f"readcache:{namespace}:{version}:{_second()}:{digest}"
        hit = cache.get(key)
    except Exception:  # noqa: BLE001 - the cache is an optimisation: read from the database instead
        log.warning("read cache unavailable; reading %s afresh", namespace, exc_info=True)
        return build()
    if hit is not None:
        return hit
    value = build()
    try:
        cache.set(key, value, timeout=ENTRY_SECONDS)
    except Exception:  # noqa: BLE001
        log.warning("read cache unavailable; not storing %s", namespace, exc_info=True)
    return value
