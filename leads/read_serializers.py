"""Inputs and outputs of the lead read and update API (GET/PATCH/DELETE /v1/leads, SPEC §10)."""

import re
from datetime import UTC, datetime
from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from django.http import QueryDict
from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from hushmetrics.serializers import (
    ChoiceField,
    StrictCharField,
    StrictChoiceField,
    StrictSerializer,
    column_max_length,
    one_of,
)
from leads.models import Lead
from leads.selectors import LeadListFilters, LeadOrder, SpamFilter
from leads.serializers import (
    VALUE,
    JSONObjectField,
    StrictDecimalField,
    StrictUUIDField,
    lead_output,
)

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MIN_SEARCH = 3
MAX_SEARCH = 200
# A cursor this service makes is about 150 characters; anything far longer is not one.
MAX_CURSOR = 1000
DATETIME_HELP = (
    "an ISO 8601 date and time, e.g. 2026-03-09T12:00:00+00:00 (in a URL, write + as %2B)"
)
# `+00:00` sent unencoded in a query string arrives as ` 00:00`: read it as the `+` it was.
_UNENCODED_PLUS = re.compile(r"^(\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)$")


class SearchTextField(serializers.CharField):
    """Text to look for. A NUL character is taken (it matches no lead, see `lead_list`),
    not refused: the parameter is valid, the answer is simply empty."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators = [
            validator
            for validator in self.validators
            if not isinstance(validator, ProhibitNullCharactersValidator)
        ]


class QueryDateTimeField(serializers.CharField):
    """An ISO 8601 instant in a query string, as an aware UTC datetime. No offset means UTC."""

    default_error_messages = {"invalid_datetime": f"Enter {DATETIME_HELP}."}

    def to_internal_value(self, data: Any) -> datetime:  # type: ignore[override]
        text = _UNENCODED_PLUS.sub(r"\1+\2", str(super().to_internal_value(data)))
        try:
            value = datetime.fromisoformat(text.upper())
            if timezone.is_naive(value):
                value = value.replace(tzinfo=UTC)
            return value.astimezone(UTC)
        except (ValueError, OverflowError):
            self.fail("invalid_datetime")


class LeadListQuerySerializer(StrictSerializer):
    """The query string of GET /v1/leads. Unknown parameters, a parameter given twice, wrong
    types and values out of range are 400s naming the parameter."""

    default_error_messages = {"unknown_field": "{name} is not a parameter of this endpoint"}

    limit = serializers.IntegerField(
        min_value=1,
        max_value=MAX_LIMIT,
        default=DEFAULT_LIMIT,
        error_messages={
            "invalid": f"limit must be a whole number from 1 to {MAX_LIMIT}",
            "min_value": f"limit must be a whole number from 1 to {MAX_LIMIT}",
            "max_value": f"limit must be a whole number from 1 to {MAX_LIMIT}",
            "max_string_length": f"limit must be a whole number from 1 to {MAX_LIMIT}",
        },
    )
    cursor = serializers.CharField(required=False, max_length=MAX_CURSOR)
    created_after = QueryDateTimeField(required=False)
    created_before = QueryDateTimeField(required=False)
    updated_after = QueryDateTimeField(required=False)
    status = ChoiceField(
        choices=Lead.Status.values,
        required=False,
        error_messages={"invalid_choice": one_of("status", Lead.Status.values)},
    )
    source = ChoiceField(  # type: ignore[assignment]  # the lead's field, not Field.source
        choices=Lead.Source.values,
        required=False,
        error_messages={"invalid_choice": one_of("source", Lead.Source.values)},
    )
    email = SearchTextField(
        required=False,
        max_length=column_max_length(Lead, "email"),
        error_messages={"blank": "email may not be blank"},
    )
    q = SearchTextField(
        required=False,
        trim_whitespace=False,
        min_length=MIN_SEARCH,
        max_length=MAX_SEARCH,
        error_messages={
            "min_length": f"q must be at least {MIN_SEARCH} characters",
            "blank": f"q must be at least {MIN_SEARCH} characters",
        },
    )
    spam = ChoiceField(
        choices=[spam.value for spam in SpamFilter],
        default=SpamFilter.EXCLUDE.value,
        error_messages={"invalid_choice": one_of("spam", [spam.value for spam in SpamFilter])},
    )
    order = ChoiceField(
        choices=[order.value for order in LeadOrder],
        default=LeadOrder.NEWEST_FIRST.value,
        error_messages={"invalid_choice": one_of("order", [order.value for order in LeadOrder])},
    )

    @classmethod
    def from_query(cls, query: QueryDict) -> "LeadListQuerySerializer":
        """The serializer for a request's query string; a parameter given twice is a 400."""
        repeated = {
            name: [ErrorDetail(f"{name} may be given only once", code="repeated")]
            for name, values in query.lists()
            if len(values) > 1
        }
        if repeated:
            raise ValidationError(repeated)
        return cls(data={name: query[name] for name in query})

    def filters(self) -> LeadListFilters:
        data = self.validated_data
        return LeadListFilters(
            created_after=data.get("created_after"),
            created_before=data.get("created_before"),
            updated_after=data.get("updated_after"),
            status=data.get("status"),
            source=data.get("source"),
            email=data.get("email"),
            q=data.get("q"),
            spam=SpamFilter(data["spam"]),
        )


class LeadUpdateInputSerializer(StrictSerializer):
    """PATCH /v1/leads/{id}: any of these fields, strict as create-lead's body. `setter` is a
    profile id (resolved in the workspace by the view) or null; `extra_data` replaces."""

    default_error_messages = {"unknown_field": "Unknown field."}

    name = StrictCharField(
        required=False, allow_blank=True, max_length=column_max_length(Lead, "name")
    )
    email = StrictCharField(
        required=False, allow_blank=True, max_length=column_max_length(Lead, "email")
    )
    phone = StrictCharField(
        required=False, allow_blank=True, max_length=column_max_length(Lead, "phone")
    )
    status = StrictChoiceField(
        choices=Lead.Status.values,
        required=False,
        error_messages={"invalid_choice": one_of("status", Lead.Status.values)},
    )
    source = StrictChoiceField(  # type: ignore[assignment]  # the lead's field, not Field.source
        choices=Lead.Source.values,
        required=False,
        error_messages={"invalid_choice": one_of("source", Lead.Source.values)},
    )
    value = StrictDecimalField(
        max_digits=VALUE.max_digits,
        decimal_places=VALUE.decimal_places,
        min_value=0,
        required=False,
    )
    setter = StrictUUIDField(required=False, allow_null=True)
    extra_data = JSONObjectField(required=False, allow_null=True)


def lead_read_output(lead: Lead) -> dict[str, Any]:
    """A lead as the read API answers it: the A.1 object, plus `setter` (which PATCH sets)
    and `is_spam` (which `spam=include` mixes in), as events carry it. Never queries."""
    return {
        **lead_output(lead),
        "setter": str(lead.setter_id) if lead.setter_id else None,
        "is_spam": lead.is_spam,
    }
