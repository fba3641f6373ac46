"""Argument parsing shared by the oracle app's commands."""
from datetime import date

from django.core.management.base import CommandError


def parse_date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise CommandError(f"{name} must be a date as YYYY-MM-DD, got {value!r}") from None
