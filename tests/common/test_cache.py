"""common.cache.RedisCache: Django's Redis cache with one redis.Redis client per pool, shared by threads."""
import threading
import uuid

import pytest
from django.core.cache import caches

from tests.conftest import require_service


@pytest.fixture
def redis_cache(settings):
    require_service("Redis", 6379)
    settings.CACHES = {"default": {"BACKEND": "common.cache.RedisCache", "LOCATION": settings.CELERY_BROKER_URL}}
    return caches["default"]


def test_one_client_serves_every_command_and_thread(redis_cache):
    key = f"test-cache-{uuid.uuid4().hex}"
    client = redis_cache._cache.get_client(write=True)
    assert redis_cache._cache.get_client() is client
    errors, added = [], []

    def work(i):
        try:
            for n in range(50):
                redis_cache.set(f"{key}-{i}", n, 10)
                assert redis_cache.get(f"{key}-{i}") == n
            if redis_cache.add(key, 100 * i, 10):
                added.append(100 * i)
            redis_cache.incr(key)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    assert len(added) == 1 and redis_cache.get(key) == added[0] + 8  # one add won; no increment was lost
    assert redis_cache._cache.get_client() is client
    redis_cache.delete_many([key] + [f"{key}-{i}" for i in range(8)])
