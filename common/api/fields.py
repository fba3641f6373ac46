"""Serializer fields that take only ASCII digits: DRF's IntegerField, DecimalField and DateField also read
Arabic-Indic, fullwidth or mathematical digits (through int(), Decimal() and Django's date regex)."""
import re
from decimal import Decimal

from rest_framework import serializers

from core.amounts import AmountError, parse_iso_date

_DECIMAL = re.compile(r"[0-9]{1,20}(?:\.[0-9]{1,20})?")


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer (not a boolean, not a string)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class AsciiDecimalField(serializers.DecimalField):
    """A decimal string in ASCII digits, or a JSON number."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int, float)):
            self.fail("invalid")
        if isinstance(data, str) and not _DECIMAL.fullmatch(data.strip()):
            self.fail("invalid")
        return super().to_internal_value(Decimal(data.strip()) if isinstance(data, str) else data)


class AsciiDateField(serializers.DateField):
    """YYYY-MM-DD in ASCII digits, within core.amounts' date bounds."""

    def to_internal_value(self, value):
        try:
            return parse_iso_date(value, name=self.field_name or "date")
        except AmountError as exc:
            raise serializers.ValidationError(str(exc), code="invalid") from None
