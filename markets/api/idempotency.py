"""Idempotency-Key on POST actions: a replay returns the first result without acting again."""
from __future__ import annotations

import functools
import hashlib
import json

from django.db import IntegrityError, transaction
from rest_framework.response import Response
from rest_framework.utils import encoders

from markets.errors import DomainError
from markets.models import IdempotencyRecord

HEADER = "HTTP_IDEMPOTENCY_KEY"


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str) if request.data is not None else ""
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _as_json(data):
    """The answer as the client saw it (datetimes and decimals as DRF renders them), storable in a JSONField."""
    return json.loads(json.dumps(data, cls=encoders.JSONEncoder))


def idempotent(view_method):
    """Wrap a POST handler. The key is stored per user; reusing it for another request is a 422."""

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.META.get(HEADER)
        if key is None or not request.user.is_authenticated:
            return view_method(self, request, *args, **kwargs)
        if not key or len(key) > 255 or not key.isprintable():
            raise DomainError("Idempotency-Key must be 1-255 printable characters.", code="invalid_idempotency_key")
        fingerprint = _fingerprint(request)
        existing = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
        if existing is None:
            response = view_method(self, request, *args, **kwargs)
            if response.status_code >= 500:
                return response
            try:
                with transaction.atomic():
                    IdempotencyRecord.objects.create(user=request.user, key=key, fingerprint=fingerprint,
                                                     status_code=response.status_code, body=_as_json(response.data))
                return response
            except IntegrityError:  # a concurrent request with the same key won: answer as it did
                existing = IdempotencyRecord.objects.get(user=request.user, key=key)
        if existing.fingerprint != fingerprint:
            raise DomainError("This Idempotency-Key was already used for a different request.",
                              code="idempotency_key_reused", status=422)
        return Response(existing.body, status=existing.status_code, headers={"Idempotent-Replayed": "true"})

    return wrapper
