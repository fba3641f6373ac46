"""Serializer fields for the API's strict input and exact output.

Input: DRF's IntegerField, DecimalField and DateField also read Arabic-Indic, fullwidth or mathematical digits
(through int(), Decimal() and Django's date regex), and its BooleanField takes "yes" or 1: these take JSON types
and ASCII digits only. Output: integer amounts, prices and WAD/RAY values as exact decimal strings."""
import re
from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from core.amounts import (
    AmountError,
    format_amount,
    format_price,
    format_wad,
    parse_iso_date,
    parse_iso_datetime,
    parse_percent_bps,
    parse_price,
)

_DECIMAL = re.compile(r"[0-9]{1,20}(?:\.[0-9]{1,20})?")


class MissingIsInvalid:
    """A required field that is missing, or any null, fails as the field's own "invalid" error: the API always
    answered those so."""

    def validate_empty_values(self, data):
        if data is None or (data is empty and self.required):
            self.fail("invalid", name=self.field_name)
        return super().validate_empty_values(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer (not a boolean, not a string)."""

    default_error_messages = {"invalid": "{name} must be a JSON integer."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid", name=self.field_name or "value")
        return super().to_internal_value(data)


class StrictBooleanField(MissingIsInvalid, serializers.BooleanField):
    """A JSON true or false only."""

    default_error_messages = {"invalid": "{name} must be a JSON boolean."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", name=self.field_name)
        return data


class StrictChoiceField(MissingIsInvalid, serializers.ChoiceField):
    """One of the choices as a JSON string; anything else is code "invalid" with the given message."""

    def __init__(self, choices, *, message: str, **kwargs):
        super().__init__(choices, **kwargs)
        self.error_messages["invalid"] = message

    def to_internal_value(self, data):
        if not isinstance(data, str) or data not in self.choices:
            self.fail("invalid", name=self.field_name, input=data)
        return data


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


class AsciiDateTimeField(serializers.DateTimeField):
    """An ISO-8601 instant in ASCII (naive means UTC), within core.amounts' date bounds."""

    def to_internal_value(self, value):
        try:
            return parse_iso_datetime(value, name=self.field_name)
        except AmountError as exc:
            raise serializers.ValidationError(str(exc), code="invalid") from None


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": 100,
                     "pattern": r"^([0-9]{1,40}(\.[0-9]{1,18})?|max)$"})
class DecimalStringField(serializers.Field):
    """A token amount as it was sent, checked to be a JSON string (a JSON number loses precision). The serializer
    parses it with its asset's decimals (core.amounts.parse_amount), so every amount error has one code."""

    default_error_messages = {"invalid_amount": "{name} must be a decimal string such as \"1000.5\"; JSON numbers "
                                                "lose precision."}

    def validate_empty_values(self, data):
        if data is None:
            self.fail("invalid_amount", name=self.field_name)
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid_amount", name=self.field_name)
        return data


class _ParsedString(serializers.Field):
    """A string parsed by core.amounts; missing (when required) or null fails with the parser's own message."""

    def validate_empty_values(self, data):
        if data is None or (data is empty and self.required):
            self.to_internal_value(data)
        return super().validate_empty_values(data)


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": 40})
class UsdPriceField(_ParsedString):
    """A positive USD decimal string -> 8-decimal integer (core.amounts.parse_price); every error, a missing or
    null price included, is code invalid_price."""

    def to_internal_value(self, data):
        try:
            return parse_price(data)
        except AmountError as exc:
            raise serializers.ValidationError(f"{exc} Send a positive USD decimal string, e.g. \"225.5\".",
                                              code="invalid_price") from None


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": 20})
class PercentField(_ParsedString):
    """A non-zero percent move as a decimal string ("-12.5") -> basis points (core.amounts.parse_percent_bps)."""

    def to_internal_value(self, data):
        try:
            return parse_percent_bps(data)
        except AmountError as exc:
            raise serializers.ValidationError(str(exc).replace("A percent", self.field_name or "A percent"),
                                              code="invalid") from None


# --- output: exact integers as decimal strings ----------------------------------------------------------------

@extend_schema_field(OpenApiTypes.STR)
class _FormattedField(serializers.Field):
    """An integer attribute shown as a string by `formatter`; null stays null."""

    formatter = str

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        value = super().get_attribute(instance)
        return None if value is None else (value, instance)

    def to_representation(self, pair):
        value, instance = pair
        return self.format(value, instance)

    def format(self, value: int, instance) -> str:
        return type(self).formatter(value)


class AmountField(_FormattedField):
    """Token units with the token's full precision; decimals_from is the dotted path from the object to the
    decimals, e.g. "asset.decimals", or decimals a fixed number."""

    def __init__(self, *, decimals_from: str | None = None, decimals: int | None = None, **kwargs):
        self.decimals_from, self.decimals = decimals_from, decimals
        super().__init__(**kwargs)

    def format(self, value, instance):
        decimals = self.decimals
        if decimals is None:
            decimals = instance
            for name in self.decimals_from.split("."):
                decimals = getattr(decimals, name)
        return format_amount(value, decimals)


class PriceField(_FormattedField):
    """USD with up to 8 decimals."""

    formatter = staticmethod(format_price)


class WadField(_FormattedField):
    """A WAD (18 decimals) as a decimal, e.g. a health factor "1.25"."""

    formatter = staticmethod(format_wad)


class RayField(_FormattedField):
    """A RAY (27 decimals) as its raw integer string."""
