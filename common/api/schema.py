"""The OpenAPI schema, built once per process: drf-spectacular loads its extensions lazily and not thread-safely,
so concurrent first requests to a fresh threaded worker could 500. config/wsgi.py builds it at start-up."""
import threading

from django.conf import settings
from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response

_lock = threading.Lock()
_schema: dict | None = None


def generate_schema() -> dict:
    """A fresh schema, as SpectacularAPIView builds it (public, default version, default language)."""
    view = SpectacularAPIView
    generator = view.generator_class(urlconf=view.urlconf, api_version=view.api_version, patterns=view.patterns)
    return generator.get_schema(request=None, public=view.serve_public)


def cached_schema() -> dict:
    global _schema
    if _schema is None:
        with _lock:
            if _schema is None:
                _schema = generate_schema()
    return _schema


class CachedSpectacularAPIView(SpectacularAPIView):
    """SpectacularAPIView serving the schema built once; a ?version= or ?lang= request is built fresh, under the
    same lock, so no two generations ever run at once."""

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        if version is None and not (settings.USE_I18N and request.GET.get("lang")):
            schema = cached_schema()
        else:
            cached_schema()  # the first generation loads every extension
            with _lock:
                generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
                schema = generator.get_schema(request=request, public=self.serve_public)
        return Response(data=schema, headers={
            "Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'})
