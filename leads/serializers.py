"""Input and output shapes of the /v1 lead API (A.1, A.2)."""

from decimal import Decimal
from typing import Any

from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from hushmetrics.parsers import json_size
from hushmetrics.serializers import (
    CheapCopyField,
    StrictCharField,
    StrictChoiceField,
    StrictSerializer,
    column_max_length,
    one_of,
)
from hushmetrics.timestamps import api_timestamp
from leads.models import JSON_COLUMN_MAX_BYTES, Lead

# JSON types a strict field accepts, per DRF's generic "wrong type" messages.
NOT_A_NUMBER = "A valid number is required."
# Money: as many digits and places as the column holds.
VALUE = Lead._meta.get_field("value")


class StrictUUIDField(CheapCopyField, serializers.UUIDField):
    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class StrictDecimalField(CheapCopyField, serializers.DecimalField):
    """A JSON number; "500" (a string) and true are 400s."""

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise serializers.ValidationError(NOT_A_NUMBER, code="invalid")
        value: Decimal = super().to_internal_value(data)
        return value


class JSONObjectField(CheapCopyField, serializers.DictField):
    """A JSON object stored as is, at most JSON_COLUMN_MAX_BYTES as JSON; a lone surrogate
    (`\\ud800`) anywhere in it is a 400, as in a string field, since no JSON column can store
    one. Its copies share the declared
    field's child, which validates nothing and keeps no state."""

    def to_internal_value(self, data: Any) -> dict[Any, Any]:
        value: dict[Any, Any] = super().to_internal_value(data)
        stack: list[Any] = [value]
        while stack:
            node = stack.pop()
            if isinstance(node, str):
                ProhibitSurrogateCharactersValidator()(node)
            elif isinstance(node, dict):
                stack.extend(node)
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
        if json_size(value) > JSON_COLUMN_MAX_BYTES:
            raise serializers.ValidationError(
                f"At most {JSON_COLUMN_MAX_BYTES} bytes as JSON.", code="too_large"
            )
        return value


class LeadCreateInputSerializer(StrictSerializer):
    """A.1's body. Strict: unknown keys, wrong types and unknown enum values are 400s."""

    default_error_messages = {"unknown_field": "Unknown field."}

    workspace_id = StrictUUIDField()
    name = StrictCharField(
        required=False, allow_blank=True, max_length=column_max_length(Lead, "name"), default=""
    )
    email = StrictCharField(
        required=False, allow_blank=True, max_length=column_max_length(Lead, "email"), default=""
    )
    phone = StrictCharField(
        required=False, allow_blank=True, max_length=column_max_length(Lead, "phone"), default=""
    )
    status = StrictChoiceField(
        choices=Lead.Status.values,
        required=False,
        default=Lead.Status.CONTACT.value,
        error_messages={"invalid_choice": one_of("status", Lead.Status.values)},
    )
    source = StrictChoiceField(  # type: ignore[assignment]  # the API's field, not Field.source: DRF moves declared fields off the class
        choices=Lead.Source.values,
        required=False,
        default=Lead.Source.OTHER.value,
        error_messages={"invalid_choice": one_of("source", Lead.Source.values)},
    )
    value = StrictDecimalField(
        max_digits=VALUE.max_digits,
        decimal_places=VALUE.decimal_places,
        min_value=0,
        required=False,
        default=Decimal("0.00"),
    )
    created_by = StrictUUIDField(required=False, allow_null=True, default=None)
    utm = JSONObjectField(required=False, allow_null=True, default=None)
    extra_data = JSONObjectField(required=False, allow_null=True, default=None)
    page_url = StrictCharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=column_max_length(Lead, "page_url"),
        default=None,
    )


def json_number(value: Decimal) -> int | float:
    """Money as a JSON number: 500 (not 500.0 or "500.00"), 499.99."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def lead_output(lead: Lead) -> dict[str, Any]:
    """The full lead in the documented shape (A.1), keys in the documented order.

    A function rather than a ModelSerializer: ids are read from the *_id columns, so
    rendering never queries, and every key is exactly the documented one.
    """
    return {
        "id": str(lead.id),
        "workspace_id": str(lead.workspace_id),
        "name": lead.name,
        "email": lead.email,
        "phone": lead.phone,
        "status": str(lead.status),
        "source": str(lead.source),
        "value": json_number(Decimal(lead.value)),
        "created_by": str(lead.created_by_id) if lead.created_by_id else None,
        "utm": lead.utm,
        "extra_data": lead.extra_data,
        "page_url": lead.page_url,
        "created_at": api_timestamp(lead.created_at),
        "updated_at": api_timestamp(lead.updated_at),
    }
