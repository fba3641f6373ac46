"""Refuse malformed request lines before any view or query sees them."""
import re
from urllib.parse import unquote_to_bytes

from django.core.exceptions import SuspiciousOperation
from django.views.defaults import bad_request

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
