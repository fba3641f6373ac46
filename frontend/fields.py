"""Form fields that read only ASCII digits: Django's IntegerField and DateField also take Arabic-Indic,
fullwidth or mathematical digits, and leave numbers unbounded unless told."""
import datetime
import re

from django import forms
from django.core.exceptions import ValidationError

from core.amounts import AmountError, parse_iso_date, parse_percent_bps

_INT = re.compile(r"-?[0-9]{1,20}")


class AsciiIntegerField(forms.IntegerField):
    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        if not _INT.fullmatch(text):
            raise ValidationError("Enter a whole number using the digits 0-9.", code="invalid")
        return int(text)


class PercentMoveField(forms.CharField):
    """A price move as people type it ("-15", "−15 %", "7.5%") -> basis points (core.amounts.parse_percent_bps)."""

    def clean(self, value):
        raw = super().clean(value)  # required and max_length apply to the text as typed
        if raw in self.empty_values:
            return raw
        raw = raw.replace("\u2212", "-").strip().rstrip("%").strip()
        try:
            return parse_percent_bps(raw)
        except AmountError as exc:
            raise ValidationError(str(exc), code="invalid") from None


class AsciiDateField(forms.DateField):
    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.date):
            return value
        try:
            return parse_iso_date(str(value), name="Date")
        except AmountError as exc:
            raise ValidationError(str(exc), code="invalid") from None
