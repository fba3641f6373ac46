from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularSwaggerSplitView

from common import views as common_views
from common.api.schema import CachedSpectacularAPIView

api_v1 = [
    path("", include("common.api.urls")),
    path("", include("markets.api.urls")),
    path("", include("lending.api.urls")),
    path("", include("oracles.api.urls")),
    path("", include("risklab.api.urls")),
    path("schema/", CachedSpectacularAPIView.as_view(), name="schema"),
    # The split view serves its init script from docs/?script, so the page needs no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="frontend/api_docs.html"),
         name="docs"),
]

urlpatterns = [
    path("healthz", common_views.healthz, name="healthz"),
    path("metrics", common_views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    # Unknown /api/ paths answer in the error shape even with DEBUG on (DJANGO_DEBUG=1), where Django would bypass
    # handler404, and a POST missing its trailing slash gets a 404 rather than APPEND_SLASH's 500.
    re_path(r"^api/", csrf_exempt(common_views.api_not_found), name="api-not-found"),
    path("", include("risklab.urls")),  # before frontend: /risk/montecarlo/ is not a risk/<symbol>/ page
    path("", include("frontend.urls")),
]

handler400 = "common.views.handler400"
handler403 = "common.views.handler403"
handler404 = "common.views.handler404"
handler500 = "common.views.handler500"
