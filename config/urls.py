from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularSwaggerSplitView

from markets.api.schema import CachedSpectacularAPIView
from markets.api.views import healthz

api_v1 = [
    path("", include("markets.api.urls")),
    path("", include("lending.api.urls")),
    path("", include("oracles.api.urls")),
    path("schema/", CachedSpectacularAPIView.as_view(), name="schema"),
    # The split view serves its init script from docs/?script, so the page needs no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="frontend/api_docs.html"),
         name="docs"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    # Unknown /api/ paths answer in the error shape even with DEBUG on (DJANGO_DEBUG=1), where Django would bypass
    # handler404, and a POST missing its trailing slash gets a 404 rather than APPEND_SLASH's 500.
    re_path(r"^api/", csrf_exempt(lambda request: api_not_found(request)), name="api-not-found"),
    path("", include("frontend.urls")),
]


def api_not_found(request):
    from django.http import HttpResponsePermanentRedirect, JsonResponse
    from django.urls import Resolver404, resolve

    hint = ""
    if not request.path.endswith("/"):
        try:
            found = resolve(request.path + "/").url_name != "api-not-found"
        except Resolver404:
            found = False
        if found and request.method in ("GET", "HEAD"):
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
        hint = f" Did you mean {request.path}/ (with the trailing slash)?" if found else ""
    return JsonResponse({"error": {"code": "not_found", "message": f"No endpoint at {request.path}.{hint}",
                                   "field": None}}, status=404)


def handler404(request, exception=None):
    """Unknown URLs under /api/ answer in the API's error shape; pages get the app's 404.html."""
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        from markets.api.errors import error_json

        return error_json("not_found", f"No endpoint at {request.path}.", None, 404)
    return page_not_found(request, exception)


def handler500(request):
    from django.views.defaults import server_error

    if request.path.startswith("/api/"):
        from markets.api.errors import error_json

        return error_json("server_error", "Internal error; nothing was changed.", None, 500)
    return server_error(request)


def handler400(request, exception=None):
    """Refusals raised before or outside DRF (oversized body, bad Host, malformed request): the API's error
    shape under /api/, the site's 400 page elsewhere. An oversized body is a 413 on both."""
    from django.core.exceptions import DisallowedHost, RequestDataTooBig, TooManyFieldsSent
    from django.views.defaults import bad_request

    status, code, message = 400, "bad_request", "The request was malformed; nothing was changed."
    if isinstance(exception, (RequestDataTooBig, TooManyFieldsSent)):
        status, code, message = 413, "payload_too_large", "The request body is too large; nothing was changed."
    elif isinstance(exception, DisallowedHost):
        code, message = "invalid_host", "The Host header names a host this server does not serve."
    if request.path.startswith("/api/"):
        from markets.api.errors import error_json

        return error_json(code, message, None, status)
    response = bad_request(request, exception)
    response.status_code = status
    return response


def handler403(request, exception=None):
    from django.views.defaults import permission_denied

    if request.path.startswith("/api/"):
        from markets.api.errors import error_json

        return error_json("permission_denied", "You do not have permission to perform this action.", None, 403)
    return permission_denied(request, exception)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: the API's error shape under /api/, Django's CSRF page elsewhere."""
    from django.views.csrf import csrf_failure as page

    if request.path.startswith("/api/"):
        from markets.api.errors import error_json

        return error_json("csrf_failed", f"CSRF check failed: {reason}", None, 403)
    return page(request, reason)
