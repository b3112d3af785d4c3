"""Form fields that choose rows by id and turn any id the database cannot hold into a form error.

Django's ModelMultipleChoiceField passes each submitted id to the database as
it is: an id beyond the column's range (9223372036854775808, or a hundred
digits) raises OverflowError on SQLite and can raise "integer out of range" on
PostgreSQL, and the member gets a 500 instead of "Select a valid choice". These
fields check each id against the column's range first. Any app may use them:
accounts imports no other app of ours.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.db import connections


def _id_fits(field: forms.ModelChoiceField, value) -> bool:
    """True when `value` converts to the key column's type and lies within what the database stores."""
    opts = field.queryset.model._meta
    key_field = opts.get_field(field.to_field_name) if field.to_field_name else opts.pk
    try:
        converted = key_field.to_python(value)
    except ValidationError:
        return False
    if isinstance(converted, int) and not isinstance(converted, bool):
        connection = connections[field.queryset.db]
        low, high = connection.ops.integer_field_range(key_field.get_internal_type())
        if (low is not None and converted < low) or (high is not None and converted > high):
            return False
    return True


class SafeModelChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField whose out-of-range or malformed id is "Select a valid choice", never a 500."""

    def to_python(self, value):
        if value not in self.empty_values and not _id_fits(self, value):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class SafeModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A ModelMultipleChoiceField whose out-of-range or malformed ids are a form error, never a 500."""

    def _check_values(self, value):
        try:
            values = frozenset(value)
        except TypeError:
            raise ValidationError(self.error_messages["invalid_list"], code="invalid_list") from None
        for pk in values:
            if not _id_fits(self, pk):
                raise ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": pk}
                )
        return super()._check_values(values)
