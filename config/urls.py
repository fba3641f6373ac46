from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from markets.api.views import healthz

api_v1 = [
    path("", include("markets.api.urls")),
    path("", include("lending.api.urls")),
    path("", include("oracles.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    # Unknown /api/ paths answer in the error shape even with DEBUG on (make run), where Django would bypass
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
    """Unknown URLs under /api/ answer in the API's error shape; pages get Django's default."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "not_found", "message": f"No endpoint at {request.path}.",
                                       "field": None}}, status=404)
    return page_not_found(request, exception)


def handler500(request):
    from django.http import JsonResponse
    from django.views.defaults import server_error

    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "server_error", "message": "Internal error; nothing was changed.",
                                       "field": None}}, status=500)
    return server_error(request)
