"""Time inputs of the API, normalised to UTC before they reach the database.

PostgreSQL accepts UTC offsets only up to +-15:59 while ISO 8601 parsers take
up to +-23:59, and an offset can push a time near year 1 or 9999 out of
Python's range; both would otherwise surface as server errors. Every time a
client sends is therefore converted to UTC here (any offset is fine then), and
one that has no UTC equivalent is a 400 naming the parameter.
"""

from datetime import UTC, datetime

from django import forms
from django_filters import IsoDateTimeFilter
from django_filters.fields import IsoDateTimeField
from rest_framework import serializers

OUT_OF_RANGE = "Enter a time that lies between the years 1 and 9999 in UTC."


def to_utc(value: datetime) -> datetime | None:
    """The same instant in UTC, or None when it cannot be represented."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return None


class UtcDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time (naive means UTC), handed on in UTC."""

    default_error_messages = {"out_of_range": OUT_OF_RANGE}

    def to_internal_value(self, value):
        parsed = to_utc(super().to_internal_value(value))
        if parsed is None:
            self.fail("out_of_range")
        return parsed


class UtcIsoDateTimeFormField(IsoDateTimeField):
    """django-filter's ISO 8601 form field, handing on the time in UTC."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        utc = to_utc(parsed)
        if utc is None:
            raise forms.ValidationError(OUT_OF_RANGE, code="out_of_range")
        return utc


class UtcDateTimeFilter(IsoDateTimeFilter):
    """A time filter that compares in UTC."""

    field_class = UtcIsoDateTimeFormField
