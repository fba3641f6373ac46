"""A 78-digit integer column that round-trips exactly on PostgreSQL and SQLite.

PostgreSQL stores numeric(78,0). SQLite's DecimalField goes through floats, so there the
value is kept as TEXT holding the decimal integer; Python always sees an int.
SQLite compares TEXT lexicographically, so never filter or order on these columns in SQL.
"""
from decimal import Decimal

from django.db import models

MAX_DIGITS = 78


class UIntField(models.Field):
    description = "Integer of up to 78 digits (uint256), exact on every backend"

    def db_type(self, connection):
        if connection.vendor == "postgresql":
            return "numeric(78,0)"
        return "text"

    def get_internal_type(self):
        return "UIntField"

    def from_db_value(self, value, expression, connection):
        return self.to_python(value)

    def to_python(self, value):
        if value is None or isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, Decimal):
            return int(value)
        return int(str(value))

    def get_db_prep_value(self, value, connection, prepared=False):
        value = self.get_prep_value(value)
        if value is None:
            return None
        value = int(value)
        if len(str(abs(value))) > MAX_DIGITS:
            raise ValueError("integer exceeds 78 digits")
        if connection.vendor == "postgresql":
            return Decimal(value)
        return str(value)

    def formfield(self, **kwargs):
        from django import forms

        return forms.IntegerField(**kwargs)

