"""One error shape for the whole API: {"error": {"code", "message", "field"}}."""
import logging

from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from common.errors import DomainError

logger = logging.getLogger(__name__)


def _body(code: str, message: str, field: str | None) -> dict:
    return {"error": {"code": code, "message": message, "field": field}}


def error_response(code: str, message: str, field: str | None = None, status_code: int = 400, headers=None):
    return Response(_body(code, message, field), status=status_code, headers=headers)


def error_json(code: str, message: str, field: str | None = None, status_code: int = 400):
    """The same shape as a plain Django response, for middleware and URL handlers outside DRF."""
    from django.http import JsonResponse

    return JsonResponse(_body(code, message, field), status=status_code)


def _first(detail, prefix=None):
    """Flatten DRF's nested detail into (field, message, code): the first leaf, found without recursion."""
    while True:  # DRF details are finite trees: this ends at the first leaf or empty container
        if isinstance(detail, dict) and detail:
            key, detail = next(iter(detail.items()))
            name = key if key != "non_field_errors" else None
            prefix = f"{prefix}.{name}" if prefix and name else (name or prefix)
        elif isinstance(detail, list) and detail:
            detail = detail[0]
        else:
            break
    return prefix, "Invalid input." if isinstance(detail, (dict, list)) else str(detail), getattr(detail, "code", None)


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return error_response(exc.code, exc.message, exc.field, exc.status)
    if isinstance(exc, Http404):
        return error_response("not_found", "Not found.", None, 404)
    if isinstance(exc, RecursionError):
        return error_response("too_deep", "The input nests too deeply; nothing was changed.", None, 400)
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, (OperationalError, InterfaceError)):
        # the database went away (restart, failover) or timed out: nothing was committed; say so, not a 500
        logger.warning("database unavailable: %s", exc)
        return error_response("database_unavailable", "The database is unreachable right now; nothing was "
                              "changed. Try again in a few seconds.", None, 503, {"Retry-After": "5"})
    response = drf_handler(exc, context)
    if response is None:
        return None
    headers = {k: v for k, v in response.items() if k in ("Retry-After", "WWW-Authenticate")}
    if isinstance(exc, exceptions.ValidationError):
        field, message, code = _first(exc.detail)
        return error_response(code or "invalid", message, field, status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        return error_response(code, str(exc.detail), None, response.status_code, headers)
    return response
