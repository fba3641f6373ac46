"""Client address and throttles: one rule for who the client is, counters in the shared cache.

On Redis (production) a throttle checks and counts in one atomic step, a script run by the server: DRF's own
throttle reads the history, decides in Python and writes it back, so two requests at once could both pass on the
last free slot (and it cost two round trips and a pickled list each). The rule is DRF's sliding window unchanged:
at most N requests counted in the last `duration` seconds, a refused request not counted. Elsewhere (the
database cache of `make run` and the tests) DRF's own path runs."""
import logging

from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.dispatch import receiver
from rest_framework import throttling
from rest_framework.settings import api_settings

log = logging.getLogger(__name__)


def client_ip(request) -> str | None:
    """REMOTE_ADDR, unless TRUSTED_PROXY_COUNT proxies sit in front: then the X-Forwarded-For hop the
    outermost trusted proxy appended. Headers a client sends itself are never trusted beyond that."""
    remote_addr = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    xff = request.META.get("HTTP_X_FORWARDED_FOR")
    if count <= 0 or not xff:
        return remote_addr
    hops = [hop.strip() for hop in xff.split(",") if hop.strip()]
    return hops[-min(count, len(hops))] if hops else remote_addr


# DRF's SimpleRateThrottle.allow_request as one Redis script on a list of timestamps, newest first.
# KEYS[1]: the list; ARGV: now, duration (s), allowed requests. Returns {allowed, requests counted, oldest}.
_SLIDING_WINDOW = """
local key, now, duration, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local oldest = redis.call('LINDEX', key, -1)
while oldest and tonumber(oldest) <= now - duration do
  redis.call('RPOP', key)
  oldest = redis.call('LINDEX', key, -1)
end
local count = redis.call('LLEN', key)
if count >= limit then
  return {0, count, oldest or ARGV[1]}
end
redis.call('LPUSH', key, ARGV[1])
redis.call('EXPIRE', key, math.ceil(duration))
return {1, count + 1, oldest or ARGV[1]}
"""
_script = None  # redis-py's Script: EVALSHA on whichever client calls it, loading the script on its first use


def _redis_window(key: str):
    """(the shared cache's Redis client, the key of this throttle's window), or None when the cache is not Redis."""
    from common.cache import RedisCache

    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    window = backend.make_and_validate_key(key) + ":window"  # a list, beside DRF's pickled history
    return backend._cache.get_client(window, write=True), window


class AtomicRateThrottle(throttling.SimpleRateThrottle):
    """DRF's sliding-window throttle, checked and counted atomically in Redis (see the module's docstring). Listed
    after DRF's throttle class in the bases, so that class's own allow_request (the scoped one's) runs first."""

    _counted: tuple[int, float] | None = None  # the script's (requests counted, oldest) for wait()

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        redis = _redis_window(self.key)
        if redis is None:
            return super().allow_request(request, view)
        global _script
        client, window = redis
        if _script is None:
            _script = client.register_script(_SLIDING_WINDOW)
        self.now = self.timer()
        try:
            allowed, count, oldest = _script(keys=[window], args=[repr(self.now), self.duration, self.num_requests],
                                             client=client)
        except Exception:  # noqa: BLE001 - Redis away: serve (axes' per-user lockout, in the database, still holds)
            log.warning("throttle store unavailable; not throttling %s", self.scope, exc_info=True)
            return True
        self._counted = (int(count), float(oldest))
        return bool(allowed)

    def wait(self):
        if self._counted is None:
            return super().wait()
        count, oldest = self._counted  # DRF's wait() on a history of `count` requests, the oldest last
        available = self.num_requests - count + 1
        return None if available <= 0 else (self.duration - (self.now - oldest)) / available


class ClientIPMixin:
    def get_ident(self, request):
        return client_ip(request)


class AnonRateThrottle(ClientIPMixin, throttling.AnonRateThrottle, AtomicRateThrottle):
    pass


class UserRateThrottle(ClientIPMixin, throttling.UserRateThrottle, AtomicRateThrottle):
    pass


class ScopedRateThrottle(ClientIPMixin, throttling.ScopedRateThrottle, AtomicRateThrottle):
    pass


class ScopedIPThrottle(ScopedRateThrottle):
    """The view's scope rate counted per client IP too, so one address cannot spread load over many users."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": f"{self.scope}-ip", "ident": self.get_ident(request)}


@receiver(setting_changed)
def _reload_rates(*, setting, **kwargs):
    # DRF reads the rates once at import; follow REST_FRAMEWORK changes (override_settings) like api_settings does.
    if setting == "REST_FRAMEWORK":
        throttling.SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
