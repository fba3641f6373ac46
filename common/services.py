"""Audited staff changes (Zulip's audited do_* actions): one row per change, and an undo that goes back through
the owning app's own validated, audited service.

The platform never imports a domain app: each app registers how to revert its own targets ("reserve",
"oracle_policy", ...) with `audit_reverter`, from its services module."""
from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from .errors import Conflict, DomainError, NotFound, Unprocessable
from .models import AuditEntry

# target kind -> (revert(entry, symbol, actor, note), fields it can revert or None for all)
_REVERTERS: dict[str, tuple[Callable, frozenset[str] | None]] = {}


def audit_record(actor, target: str, field: str, old, new, reason: str) -> AuditEntry:
    return AuditEntry.objects.create(actor=actor, target=target, field=field, old_value=old, new_value=new,
                                     reason=reason)


def audit_require_reason(reason) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise DomainError("A reason is required for every staff change.", code="required", field="reason")
    return reason.strip()


def audit_reverter(kind: str, *, fields: set[str] | None = None):
    """Register `revert(entry, *, symbol, actor, note)` for audit targets "<kind>:<symbol>"."""

    def register(revert: Callable) -> Callable:
        _REVERTERS[kind] = (revert, frozenset(fields) if fields is not None else None)
        return revert

    return register


def audit_unchanged_since(entry: AuditEntry, current) -> None:
    """A revert is refused (409) when the field has changed again since the entry."""
    if current != entry.new_value:
        symbol = entry.target.partition(":")[2]
        raise Conflict(f"{symbol} {entry.field} has changed again since change #{entry.pk} (it is now {current}); "
                       "revert the later change first.", code="changed_since")


def audit_revertible(entry: AuditEntry) -> bool:
    kind = entry.target.partition(":")[0]
    found = _REVERTERS.get(kind)
    return found is not None and (found[1] is None or entry.field in found[1])


@transaction.atomic
def audit_revert(*, entry_id: int, actor, reason: str) -> AuditEntry:
    """Undo one audited change: set the field back to its old value through the same audited service, so the
    undo is itself validated and audited. Refused (409) when the field has changed again since."""
    reason = audit_require_reason(reason)
    entry = AuditEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        raise NotFound(f"No audited change #{entry_id}.")
    if not audit_revertible(entry):
        raise Unprocessable("Only risk-parameter, haircut-policy and price-source changes can be reverted; to undo a "
                            "price, set the price (or the source) again.", code="not_revertible")
    kind, _, symbol = entry.target.partition(":")
    _REVERTERS[kind][0](entry, symbol=symbol, actor=actor, note=f"revert of change #{entry.pk}: {reason}")
    return AuditEntry.objects.order_by("-pk").first()


def audit_list():
    return AuditEntry.objects.select_related("actor").order_by("-id")
