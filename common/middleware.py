"""Refuse malformed request lines before any view or query sees them; give every request an id, a count and
a log line; set the Content-Security-Policy header without rebuilding it for every response."""
import logging
import re
import time
import uuid
from urllib.parse import unquote_to_bytes

from csp import middleware as csp_middleware
from django.contrib.messages import middleware as messages_middleware
from django.contrib.messages.storage import default_storage
from django.core.exceptions import SuspiciousOperation
from django.core.signals import setting_changed
from django.utils.functional import SimpleLazyObject, empty
from django.views.defaults import bad_request

from .logs import request_id_var
from .metrics import http_request_seconds, http_requests

# C0 controls (NUL included), DEL and C1 controls: PostgreSQL refuses NUL in text, and none belongs in a URL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Django re-percent-encodes bytes that are not UTF-8 when it decodes the path; a %XX left in the decoded path
# is that (or a doubly encoded escape): no route here takes either.
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def _problem(request) -> str | None:
    path = request.path_info
    if _ESCAPE.search(path):
        return "The path is not valid UTF-8 (or holds a percent-escape)."
    if _CONTROL.search(path):
        return "The path contains control characters."
    query = request.META.get("QUERY_STRING", "")
    try:
        query = unquote_to_bytes(query.replace("+", " ").encode("latin-1")).decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return "The query string is not valid UTF-8."
    if _CONTROL.search(query):
        return "The query string contains control characters."
    return None


class RejectMalformedRequestMiddleware:
    """400 for NUL/control characters or invalid UTF-8 in the path or query string: the API's error shape
    under /api/, the site's 400 page elsewhere."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = _problem(request)
        if problem is None:
            return self.get_response(request)
        if request.path_info.startswith("/api/"):
            from common.api.errors import error_json

            return error_json("bad_request", problem, None, 400)
        return bad_request(request, SuspiciousOperation(problem))


_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestObservabilityMiddleware:
    """First in the chain: a request id for the logs (a sane X-Request-ID from the client or proxy is kept,
    anything else replaced) echoed in the response; the request counted by route name and status for /metrics;
    one access-log line (logger `http.access`, with LOG_REQUESTS=1)."""

    def __init__(self, get_response):
        from django.conf import settings

        self.get_response = get_response
        self.access_log = getattr(settings, "LOG_REQUESTS", False)

    def __call__(self, request):
        offered = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = offered if _REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        request.request_id = request_id
        # left set after the response: Django logs a 4xx/5xx (django.request) after the middleware chain has
        # returned; the next request on this thread sets its own
        request_id_var.set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        route = (match.view_name or match.url_name or "unnamed") if match else "unmatched"
        method = request.method if request.method in _METHODS else "other"
        http_requests.labels(route, method, str(response.status_code)).inc()
        http_request_seconds.labels(route).observe(elapsed)
        response["X-Request-ID"] = request_id
        if self.access_log:
            logging.getLogger("http.access").info(
                "%s %s %s", method, route, response.status_code,
                extra={"request_id": request_id, "route": route, "method": method, "status": response.status_code,
                       "duration_ms": round(elapsed * 1000, 2)})
        return response

_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


# The response attributes django-csp's decorators set (csp_exempt, csp_update, csp_replace, csp and their report-only
# kin): a response carrying any of them has a policy of its own.
_PER_VIEW_POLICY = ("_csp_config", "_csp_update", "_csp_replace", "_csp_exempt",
                    "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro", "_csp_exempt_ro")
_built_policies: list[tuple[str, str, tuple[str, ...]]] | None = None  # (header, policy, excluded path prefixes)


def _settings_policies() -> list[tuple[str, str, tuple[str, ...]]]:
    global _built_policies
    if _built_policies is None:
        from csp.constants import HEADER, HEADER_REPORT_ONLY
        from csp.utils import build_policy
        from django.conf import settings

        _built_policies = [
            (header, build_policy(report_only=report_only),
             tuple((getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ()))
            for name, header, report_only in (("CONTENT_SECURITY_POLICY", HEADER, False),
                                              ("CONTENT_SECURITY_POLICY_REPORT_ONLY", HEADER_REPORT_ONLY, True))]
    return _built_policies


def _forget_policies(*, setting, **kwargs) -> None:
    global _built_policies
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _built_policies = None


setting_changed.connect(_forget_policies, dispatch_uid="common.middleware.csp")


class CSPMiddleware(csp_middleware.CSPMiddleware):
    """django-csp's middleware with the settings' policy built once a process: django-csp copies the policy's parts
    and builds the header again for every response (2.3% of the web processes' CPU under load), though it changes
    only with the settings. A response with a policy of its own (django-csp's decorators) or to a request that asked
    for a nonce goes through django-csp unchanged; tests compare the two on each kind of response."""

    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(hasattr(response, a) for a in _PER_VIEW_POLICY):
            return super().process_response(request, response)
        from django.conf import settings

        if response.status_code in (500, 404) and settings.DEBUG:  # Django's debug pages, as django-csp leaves them
            return response
        for header, policy, excluded in _settings_policies():
            if policy and header not in response and not request.path_info.startswith(excluded):
                response[header] = policy
        # as django-csp: asking for a nonce once the header is written is an error, not a silently unused nonce
        request.csp_nonce = csp_middleware.CheckableLazyObject(self._csp_nonce_post_response)
        return response


class MessageMiddleware(messages_middleware.MessageMiddleware):
    """Django's, with the message storage made on first use. Building it (a cookie signer and the session's) for
    every request was 1.3% of the web processes' CPU under load, for API requests that never show a message. A
    request that adds or reads a message gets Django's storage, and its update of the response, unchanged."""

    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request, response):
        stored = getattr(request, "_messages", None)
        if type(stored) is SimpleLazyObject and stored._wrapped is empty:
            return response  # never used: nothing to store
        return super().process_response(request, response)
