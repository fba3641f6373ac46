from rest_framework.throttling import ScopedRateThrottle


class ScopedIPThrottle(ScopedRateThrottle):
    """The view's scope rate counted per client IP too, so one address cannot spread load over many users."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": f"{self.scope}-ip", "ident": self.get_ident(request)}
