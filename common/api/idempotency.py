"""Idempotency-Key on POST actions: a replay returns the first result without acting again.

The key is claimed (its row inserted) before the action, in the action's own transaction, and the answer is
stored in that row before the commit. A concurrent request with the same key blocks on the unique index
(PostgreSQL) or on the write lock (SQLite's IMMEDIATE transactions) until the first one ends, then replays
its answer; if the first one failed (an error or a 4xx answer), everything it did rolled back, the key with
it, and the next one acts. A request that waits longer than WAIT_SECONDS (PostgreSQL) or the busy timeout
(SQLite) gets a 409 "in progress" instead. On PostgreSQL the bound then stays for the action's own row locks: an
action kept waiting longer than that by another holding its account or reserve gets a 409 "busy", having changed
nothing, rather than holding a web worker until its timeout.

A view whose answer is a fresh read (the account after an action) returns BodyAfterCommit and defines
`committed_body(request)`: the body is then read after the commit, so the action's row locks (the pool's
reserve row) are not held while the answer is built. The row stores the status inside the transaction and
the body just after; a replay that finds the status without a body (the first request died in between, or
is still building it) reads the body afresh: the action is done, and the account as it stands shows it."""
from __future__ import annotations

import functools
import hashlib
import json

from django.db import IntegrityError, OperationalError, connection, transaction
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response
from rest_framework.utils import encoders

from common.errors import Conflict, DomainError
from common.models import IdempotencyRecord
from common.prepared import insert_row, update_columns

HEADER = "HTTP_IDEMPOTENCY_KEY"
IDEMPOTENCY_KEY = OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
                                   description="Replays of the same key return the first result without acting")
WAIT_SECONDS = 10
_ATTEMPTS = 3


class BodyAfterCommit(Response):
    """A success whose body the view's committed_body(request) builds once the action has committed."""


def finish(view, request, response: Response) -> Response:
    """Fill a BodyAfterCommit's body (outside the action's transaction)."""
    if isinstance(response, BodyAfterCommit):
        response.data = view.committed_body(request)
    return response


class _Taken(Exception):
    """Another request holds or held the key: replay its answer."""


def _in_progress() -> Conflict:
    return Conflict("A request with this Idempotency-Key is still running; retry shortly.",
                    code="idempotency_key_in_progress")


def _fingerprint(request) -> str:
    try:
        body = json.dumps(request.data, sort_keys=True, default=str) if request.data is not None else ""
    except RecursionError:  # the parser bounds depth; this guards any other way in
        raise DomainError("The body nests too deeply.", code="too_deep") from None
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _as_json(data):
    """The answer as the client saw it (datetimes and decimals as DRF renders them), storable in a JSONField."""
    return json.loads(json.dumps(data, cls=encoders.JSONEncoder))


def _lock_wait_expired(exc: OperationalError) -> bool:
    cause = exc.__cause__
    if connection.vendor == "postgresql":
        return getattr(cause, "sqlstate", None) == "55P03"  # lock_not_available: lock_timeout expired
    return "locked" in str(exc)  # SQLite's busy timeout expired


def _busy() -> Conflict:
    return Conflict(f"Another action held this account or reserve for over {WAIT_SECONDS} s; nothing was changed. "
                    "Retry shortly.", code="busy")


def _claim(user, key: str, fingerprint: str) -> IdempotencyRecord:
    """Insert the key's unanswered row as the transaction's first write; raises _Taken if someone has it."""
    if connection.vendor == "postgresql":  # bounds every lock wait of this transaction: the key's, then the action's
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{WAIT_SECONDS * 1000}ms"])
    try:
        return insert_row(IdempotencyRecord(user=user, key=key, fingerprint=fingerprint))
    except IntegrityError:
        raise _Taken from None


def _replay(view, request, record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise DomainError("This Idempotency-Key was already used for a different request.",
                          code="idempotency_key_reused", status=422)
    if record.status_code is None:
        raise _in_progress()
    headers = {"Idempotent-Replayed": "true"}
    if record.body is None and hasattr(view, "committed_body"):  # done; its body not stored (yet)
        return Response(view.committed_body(request), status=record.status_code, headers=headers)
    return Response(record.body, status=record.status_code, headers=headers)


def _run_once(view_method, view, request, args, kwargs, key: str, fingerprint: str) -> Response:
    record, stored = None, False
    try:
        with transaction.atomic():
            record = _claim(request.user, key, fingerprint)
            response = view_method(view, request, *args, **kwargs)
            if response.status_code >= 400:  # a refusal: undo everything, keep the key free for a retry
                transaction.set_rollback(True)
                return response
            deferred = isinstance(response, BodyAfterCommit)
            record.status_code = response.status_code
            record.body = None if deferred else _as_json(response.data)
            update_columns(record, ["status_code", "body"])
            stored = True
        if deferred:  # committed: build the answer without the action's locks, then keep it for replays
            finish(view, request, response)
            record.body = _as_json(response.data)
            update_columns(record, ["body"])
    except Exception as exc:
        if stored and record.body is not None:  # committed, then an on_commit enqueue failed: free the key
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
        elif isinstance(exc, OperationalError) and _lock_wait_expired(exc):
            raise (_in_progress() if record is None else _busy()) from None
        raise
    return response


def idempotent(view_method):
    """Wrap a POST handler. The key is stored per user; reusing it for another request is a 422. Without a key
    (or anonymous) the handler runs as is."""

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.META.get(HEADER)
        if key is None or not request.user.is_authenticated:
            return finish(self, request, view_method(self, request, *args, **kwargs))
        if not key or len(key) > 255 or not key.isprintable():
            raise DomainError("Idempotency-Key must be 1-255 printable characters.", code="invalid_idempotency_key")
        fingerprint = _fingerprint(request)
        for _ in range(_ATTEMPTS):
            # claim first: a new key (nearly every request) costs one INSERT, a replay a failed INSERT and a read
            try:
                return _run_once(view_method, self, request, args, kwargs, key, fingerprint)
            except _Taken:
                existing = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
                if existing is not None:
                    return _replay(self, request, existing, fingerprint)
                # its row vanished (the holder failed and rolled back): claim again
        raise _in_progress()

    return wrapper
