"""Serializer plumbing both public surfaces share: strict fields, the refusal of unknown
fields, enum messages, and the model fields (string limits, checks) read by name."""

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Field, Model
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.settings import api_settings

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY


def one_of(name: str, choices: Iterable[str]) -> str:
    """The message for a value outside an enum: `source must be one of: a, b, c`."""
    return f"{name} must be one of: {', '.join(choices)}"


def model_field(model: type[Model], field: str) -> Field:
    """`model`'s own field `field` (`_meta.get_field` also returns reverse relations)."""
    column = model._meta.get_field(field)
    if not isinstance(column, Field):
        raise TypeError(f"{model.__name__}.{field} is not a field of the model's own")
    return column


def column_max_length(model: type[Model], field: str) -> int:
    """The max_length of `model.field`: a string field takes its limit from its column."""
    column = model_field(model, field)
    if column.max_length is None:
        raise TypeError(f"{model.__name__}.{field} has no max_length")
    return column.max_length


class CheapCopyField(serializers.Field):
    """A field whose per-request copy is a shallow copy.

    DRF deep-copies every declared field each time a serializer is instantiated, by running
    the field's `__init__` again on deep copies of its arguments: about 1 ms of CPU for the
    opt-in body's nested serializers, on every request. A declared, unbound field holds
    nothing that changes after `__init__` (its validators and messages are only read;
    `bind()` assigns attributes, it mutates nothing shared), so a shallow copy is just as
    independent. A bound field is copied the DRF way.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> "CheapCopyField":
        if self.field_name is not None:
            return super().__deepcopy__(memo)
        return copy.copy(self)


class StrictCharField(CheapCopyField, serializers.CharField):
    """A string and only a string: 42 or true is a 400 ("invalid"), not "42" or "True"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        # The limit holds for the string as sent, as the schema's maxLength says: DRF would
        # check it only after trimming whitespace (Python's, which includes \x1c-\x1f).
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        value: str = super().to_internal_value(data)
        return value


class StrictChoiceField(CheapCopyField, serializers.ChoiceField):
    """One of the choices, given as a string: 1 or true is not "1" or "True"."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class ChoiceField(CheapCopyField, serializers.ChoiceField):
    """DRF's ChoiceField, cheap to copy."""


class StrictIntegerField(CheapCopyField, serializers.IntegerField):
    """A JSON number and only a number: "1" or true is a 400 ("invalid"), not 1."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        value: int = super().to_internal_value(data)
        return value


class StrictSerializer(serializers.Serializer):
    """A Serializer that refuses the fields it does not define, each named in the 400 along
    with every other error of the body (so one round trip shows all that is wrong).

    The message is the `unknown_field` error message, which a subclass may reword through
    `default_error_messages` as for any other; `{name}` is the field's name.
    """

    default_error_messages = {"unknown_field": "{name} is not a recognised field"}

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        errors: dict[str, Any] = {}
        value: dict[str, Any] = {}
        try:
            value = super().to_internal_value(data)
        except ValidationError as exc:
            errors = dict(exc.detail) if isinstance(exc.detail, dict) else {NON_FIELD: exc.detail}
        if isinstance(data, Mapping):
            message = self.error_messages["unknown_field"]
            for name in data:
                if name not in self.fields:
                    errors[str(name)] = [
                        ErrorDetail(message.format(name=name), code="unknown_field")
                    ]
        if errors:
            raise ValidationError(errors)
        return value
