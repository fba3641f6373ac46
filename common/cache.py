"""Django's Redis cache, building each redis.Redis client once.

Django's RedisCacheClient makes a new redis.Redis for every command, and redis-py's constructor sets up its
table of response callbacks each time: about 40% of a cache read's CPU under the profiler (a throttled API request
makes two to four). A client is thread-safe and its pool is fork-aware, so one per pool serves every thread."""
from django.core.cache.backends import redis


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:  # two threads may both build one; either serves
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
