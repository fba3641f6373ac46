import math

from django.contrib.auth import views as auth_views

from common.api.lockout import too_many_attempts_page
from common.api.throttling import ScopedIPThrottle


class LoginView(auth_views.LoginView):
    """Django's login, with the API's per-client-address "auth" budget in front of the per-user lockout,
    so one address cannot try passwords against many usernames."""

    template_name = "frontend/login.html"
    throttle_scope = "auth"

    def post(self, request, *args, **kwargs):
        throttle = ScopedIPThrottle()
        if not throttle.allow_request(request, self):
            return too_many_attempts_page(request, "Too many login attempts from your address.",
                                          math.ceil(throttle.wait() or 1))
        return super().post(request, *args, **kwargs)
