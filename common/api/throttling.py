"""Client address and throttles: one rule for who the client is, counters in the shared cache."""
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from rest_framework import throttling
from rest_framework.settings import api_settings


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


class ClientIPMixin:
    def get_ident(self, request):
        return client_ip(request)


class AnonRateThrottle(ClientIPMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(ClientIPMixin, throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(ClientIPMixin, throttling.ScopedRateThrottle):
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
