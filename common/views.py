"""Plain Django views every part of the site shares: health, and the error pages (the API's error shape under
/api/, the site's pages elsewhere)."""
from celery import current_app
from django.db import connection
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.utils import timezone

from .api.errors import error_json
from .models import Heartbeat


def healthz(request):
    """Database, broker and worker (last heartbeat) state: "ok" and 200 only when all three are fine, else
    "degraded" and 503 (a load balancer then stops sending traffic, an operator sees which part failed)."""
    state = {"status": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        state["database"] = {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # noqa: BLE001 - health reports every failure
        state["database"] = {"ok": False, "error": str(exc)[:200]}
        state["status"] = "degraded"
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            transport = conn.transport_cls
        state["broker"] = {"ok": True, "transport": str(transport)}
    except Exception as exc:  # noqa: BLE001
        state["broker"] = {"ok": False, "error": str(exc)[:200]}
        state["status"] = "degraded"
    try:
        beat = Heartbeat.objects.filter(name="worker").first()
        age = (timezone.now() - beat.at).total_seconds() if beat else None
        state["worker"] = {"ok": age is not None and age < HEARTBEAT_MAX_AGE_SECONDS,
                           "last_heartbeat": beat.at.isoformat() if beat else None,
                           "age_seconds": round(age, 1) if age is not None else None}
    except Exception as exc:  # noqa: BLE001
        state["worker"] = {"ok": False, "error": str(exc)[:200]}
    if not state["worker"]["ok"]:
        state["status"] = "degraded"
    return JsonResponse(state, status=200 if state["status"] == "ok" else 503)


# The worker heartbeat runs every 15 s (common.tasks.BEAT_SCHEDULES): eight missed beats mean no worker.
HEARTBEAT_MAX_AGE_SECONDS = 120


def metrics(request):
    """GET /metrics in Prometheus' text format: for staff (session or `Authorization: Token`) or a scraper
    sending METRICS_TOKEN as a bearer token; 401 without credentials, 403 for anyone else."""
    import hmac

    from django.conf import settings
    from django.http import HttpResponse
    from prometheus_client import CONTENT_TYPE_LATEST
    from rest_framework.authentication import get_authorization_header
    from rest_framework.exceptions import AuthenticationFailed

    from .api.authentication import TokenAuthentication
    from .metrics import metrics_render

    header = get_authorization_header(request).decode("latin-1")
    scheme, _, credential = header.partition(" ")
    allowed, authenticated = False, False
    if scheme.lower() == "bearer":
        expected = getattr(settings, "METRICS_TOKEN", "")
        authenticated = allowed = bool(expected) and hmac.compare_digest(credential.strip().encode(), expected.encode())
        if not allowed:
            return error_json("authentication_failed", "Invalid metrics token.", None, 401)
    elif scheme.lower() == "token":
        try:
            user_token = TokenAuthentication().authenticate(request)
        except AuthenticationFailed as exc:
            return error_json("authentication_failed", str(exc.detail), None, 401)
        authenticated = user_token is not None
        allowed = authenticated and user_token[0].is_active and user_token[0].is_staff
    elif request.user.is_authenticated:
        authenticated, allowed = True, request.user.is_staff
    if not authenticated:
        response = error_json("not_authenticated", "Metrics are for staff or the configured scraper "
                              "(Authorization: Bearer <METRICS_TOKEN>).", None, 401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not allowed:
        return error_json("permission_denied", "Metrics are for staff only.", None, 403)
    return HttpResponse(metrics_render(), content_type=CONTENT_TYPE_LATEST)


def api_not_found(request):
    hint = ""
    if not request.path.endswith("/"):
        try:
            found = resolve(request.path + "/").url_name != "api-not-found"
        except Resolver404:
            found = False
        if found and request.method in ("GET", "HEAD"):
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
        hint = f" Did you mean {request.path}/ (with the trailing slash)?" if found else ""
    return error_json("not_found", f"No endpoint at {request.path}.{hint}", None, 404)


def handler404(request, exception=None):
    """Unknown URLs under /api/ answer in the API's error shape; pages get the app's 404.html."""
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return error_json("not_found", f"No endpoint at {request.path}.", None, 404)
    return page_not_found(request, exception)


def handler500(request):
    from django.views.defaults import server_error

    if request.path.startswith("/api/"):
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
        return error_json(code, message, None, status)
    response = bad_request(request, exception)
    response.status_code = status
    return response


def handler403(request, exception=None):
    from django.views.defaults import permission_denied

    if request.path.startswith("/api/"):
        return error_json("permission_denied", "You do not have permission to perform this action.", None, 403)
    return permission_denied(request, exception)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: the API's error shape under /api/, Django's CSRF page elsewhere."""
    from django.views.csrf import csrf_failure as page

    if request.path.startswith("/api/"):
        return error_json("csrf_failed", f"CSRF check failed: {reason}", None, 403)
    return page(request, reason)
