"""Reads served from the shared cache or this process's memory, exact to the last committed write.

Each namespace has a version in the shared cache. The writes a namespace depends on bump it once they commit, so a
read never returns a state older than the last committed write. An entry carries the version read *before* it
was computed and counts only while the namespace still has that version: a body computed across a write can only
carry the older version, which no read accepts any more. The version and the entry come back in one round trip.

- `cached`: a body shared by every process, per second by default (the price reads show ages and sessions, which
  move with the clock) or until the next write (the token's user).
- `memo`: rows kept in this process's memory while the version stands (the oracle's feeds and policies, the pool's
  engine): one version read a request instead of the queries.
- `bump_on_writes`: the models whose saves and deletes move a namespace's version.

Within a request, the first round trip also brings every other namespace's version, which the request's later
reads use instead of asking again (the token's user, then the markets' pool or the oracle's feeds: one round trip
where there were two). A request's reads then answer as of its first one, as a request that came a moment earlier
would; a write this process commits drops its namespace's version at once, so the request reads its own writes.
Outside a request (Celery tasks, commands) every read asks for the version.

A version that goes missing (a Redis restart or eviction) comes back as a random number, never as a value an old
entry could carry. Off unless settings.READ_CACHE: it needs a cache every process shares (production's Redis);
with a per-process cache a bump in a worker would not reach the web processes. A cache that fails never fails the
read: it is computed afresh."""
from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

log = logging.getLogger(__name__)
T = TypeVar("T")
ENTRY_SECONDS = 2  # a per-second entry lives a little over its second, then expires on its own
_MISSING = object()
_local: dict[tuple[str, str], tuple[int, object]] = {}  # memo: (namespace, name) -> (version, value)
_namespaces: set[str] = set()  # every namespace that bump_on_writes follows
_request = threading.local()  # .versions: the versions a request has read, {namespace: version}; None outside


def begin_request(**kwargs) -> None:
    """request_started: the request's versions start empty."""
    _request.versions = {}


def end_request(**kwargs) -> None:
    """request_finished: nothing read in this request outlives it."""
    _request.versions = None


def _second() -> int:
    return int(time.time())


def _version_key(namespace: str) -> str:
    return f"readcache:{namespace}:version"


def _fresh_version() -> int:
    return secrets.randbits(62)


def _bump_now(namespace: str) -> None:
    versions = getattr(_request, "versions", None)
    if versions:
        versions.pop(namespace, None)  # the request reads its own write
    key = _version_key(namespace)
    cache.add(key, _fresh_version(), timeout=None)  # SET NX then INCR: two processes bumping at once move it twice
    cache.incr(key)


def bump(namespace: str) -> None:
    """A write the namespace's reads depend on: move its version once the write commits (at once outside a
    transaction). A failed bump is logged; the per-second entries it should have retired expire within
    ENTRY_SECONDS, the others within their timeout."""
    if settings.READ_CACHE:
        transaction.on_commit(lambda: _bump_now(namespace), robust=True)


def bump_on_writes(namespace: str, *models) -> None:
    """Bump `namespace` after every committed save or delete of these models (each app's receivers call it)."""
    from django.db.models.signals import post_delete, post_save

    def receiver(sender, **kwargs) -> None:
        bump(namespace)

    _namespaces.add(namespace)
    for model in models:
        for name, signal in (("save", post_save), ("delete", post_delete)):
            signal.connect(receiver, sender=model, weak=False,
                           dispatch_uid=f"readcache.{namespace}.{name}.{model._meta.label}")


def _version_and(namespace: str, key: str | None) -> tuple[int, object]:
    """The namespace's version and the entry at `key` (if any), in one round trip; a missing version is set. In a
    request, a version it has read already is not asked again, and the first round trip reads them all."""
    versions = getattr(_request, "versions", None)
    version = versions.get(namespace) if versions is not None else None
    if version is not None:
        return version, (cache.get(key, _MISSING) if key else _MISSING)
    version_key = _version_key(namespace)
    others = sorted(_namespaces - versions.keys() - {namespace}) if versions is not None else []
    got = cache.get_many([version_key, *(_version_key(n) for n in others), *([key] if key else [])])
    version = got.get(version_key)
    if version is None:
        cache.add(version_key, _fresh_version(), timeout=None)
        version = cache.get(version_key)
    if versions is not None:
        versions.update((n, got[_version_key(n)]) for n in others if got.get(_version_key(n)) is not None)
        if version is not None:
            versions[namespace] = version
    return version, got.get(key, _MISSING) if key else _MISSING


def cached(namespace: str, name: str, build: Callable[[], T], *, per_second: bool = True,
           timeout: int = ENTRY_SECONDS) -> T:
    """build()'s value for `name` (say, the request's absolute URL), shared by every process while the namespace's
    version stands (and, per_second, for the current second). `name` is hashed: a secret in it never reaches the
    cache. An exception from build() is raised and nothing is stored."""
    if not settings.READ_CACHE:
        return build()
    digest = hashlib.sha256(name.encode()).hexdigest()[:32]
    key = f"readcache:{namespace}:{_second()}:{digest}" if per_second else f"readcache:{namespace}:{digest}"
    try:
        version, hit = _version_and(namespace, key)
    except Exception:  # noqa: BLE001 - the cache is an optimisation: read from the database instead
        log.warning("read cache unavailable; reading %s afresh", namespace, exc_info=True)
        return build()
    if isinstance(hit, tuple) and len(hit) == 2 and hit[0] == version:
        return hit[1]
    value = build()
    try:
        cache.set(key, (version, value), timeout=timeout)
    except Exception:  # noqa: BLE001
        log.warning("read cache unavailable; not storing %s", namespace, exc_info=True)
    return value


def memo(namespace: str, name: str, build: Callable[[], T]) -> T:
    """build()'s value kept in this process while the namespace's version stands: for rows that many requests read
    and few writes change. Callers read the value and never change it. For reads outside a transaction only: a
    transaction's own uncommitted writes have not moved the version."""
    if not settings.READ_CACHE:
        return build()
    try:
        version, _ = _version_and(namespace, None)
    except Exception:  # noqa: BLE001
        log.warning("read cache unavailable; reading %s afresh", namespace, exc_info=True)
        return build()
    hit = _local.get((namespace, name))
    if hit is not None and hit[0] == version:
        return hit[1]
    value = build()
    _local[(namespace, name)] = (version, value)
    return value
