"""Input validation for `POST /api/opt-in/submit`.

Strict by design: a wrong type, a string past its column's length, or a field the API does
not define is a 400 that names the field. Unknown fields are refused rather than dropped so a
partner who sends `phone` instead of `phone_e164`, or `utm_source` outside `traffic`, finds
out at once instead of losing the value silently. Optional fields accept `null` (read as
empty). Every message is a sentence that starts with the field's path
(`traffic.utm_source`, `questions_answers[3].question`).
"""

import re
from typing import Any

import email_validator
import phonenumbers
from django.db.models import Model
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from hushmetrics.serializers import (
    NON_FIELD,
    ChoiceField,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
    column_max_length,
    one_of,
)
from leads.models import Lead
from optin.models import OptIn, QuestionAnswer
from optin.services import TRAFFIC_FIELDS

SOURCE_MESSAGE = one_of("source", OptIn.Source.values)
MAX_QUESTIONS_ANSWERS = 50
# E.164: a plus, a non-zero country-code digit, at most 15 digits in all.
E164 = re.compile(r"\+[1-9][0-9]{1,14}")
# PostgreSQL's integer, the column behind PositiveIntegerField.
MAX_POSITION = 2_147_483_647
# The lead's name is "first last"; both parts fit their own columns but not always the sum.
LEAD_NAME_MAX_LENGTH = column_max_length(Lead, "name")


def text(
    name: str,
    *,
    model: type[Model] = OptIn,
    max_length: int | None = None,
    fills: str | None = None,
    required: bool = False,
) -> StrictCharField:
    """A trimmed string field, as long as `model`'s column of the same name unless told, and
    no longer than the lead's column `fills` when it fills that; optional ones take blank and
    null (both read as "")."""
    max_length = max_length or column_max_length(model, name)
    if fills is not None:
        max_length = min(max_length, column_max_length(Lead, fills))
    return StrictCharField(
        max_length=max_length,
        required=required,
        allow_blank=not required,
        allow_null=not required,
        error_messages={
            "required": f"{name} is required",
            "null": f"{name} is required",
            "blank": f"{name} is required",
            "invalid": f"{name} must be a string",
            "max_length": f"{name} must be at most {max_length} characters",
        },
    )


class QuestionAnswerSerializer(StrictSerializer):
    default_error_messages = {"invalid": "questions_answers must be an object"}

    question = text("question", model=QuestionAnswer, required=True)
    answer = text("answer", model=QuestionAnswer)
    position = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=MAX_POSITION,
        error_messages={
            "invalid": "position must be a whole number",
            "min_value": "position must be 0 or more",
            "max_value": f"position must be at most {MAX_POSITION}",
            "max_string_length": "position must be a whole number",
        },
    )


class TrafficSerializer(StrictSerializer):
    default_error_messages = {"invalid": "traffic must be an object"}

    utm_source = text("utm_source")
    utm_medium = text("utm_medium")
    utm_campaign = text("utm_campaign")
    utm_content = text("utm_content")
    utm_term = text("utm_term")
    referrer = text("referrer")
    landing_page = text("landing_page", fills="page_url")


class OptInSubmitSerializer(StrictSerializer):
    """The opt-in body; `validated_data` holds every field, optional ones defaulted to ""."""

    default_error_messages = {"invalid": "The request body must be a JSON object"}

    email = text("email", required=True)
    first_name = text("first_name", required=True)
    source = ChoiceField(  # type: ignore[assignment]  # the opt-in's field, not Field.source: DRF moves declared fields off the class
        choices=OptIn.Source.values,
        error_messages={key: SOURCE_MESSAGE for key in ("required", "null", "invalid_choice")},
    )
    last_name = text("last_name")
    phone_e164 = text("phone_e164", fills="phone")
    # Longer than its column, so that "USA" is told what a country code is, not its length.
    phone_country = text("phone_country", max_length=8)
    provider_form_id = text("provider_form_id")
    provider_form_name = text("provider_form_name")
    external_reference = text("external_reference")
    questions_answers: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=QuestionAnswerSerializer(),
        required=False,
        allow_null=True,
        max_length=MAX_QUESTIONS_ANSWERS,
        error_messages={
            "not_a_list": "questions_answers must be an array",
            "max_length": "questions_answers must have at most {max_length} items",
        },
    )
    traffic = TrafficSerializer(required=False, allow_null=True)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        # A JSON `null` body is not an object either (DRF would say "No data provided").
        if data is None:
            raise ValidationError({NON_FIELD: [self.error_messages["invalid"]]}, code="invalid")
        return super().validate_empty_values(data)

    def validate_email(self, value: str) -> str:
        try:
            email_validator.validate_email(value, check_deliverability=False)
        except email_validator.EmailNotValidError:
            raise ValidationError("email must be a valid email address") from None
        return value

    def validate_phone_e164(self, value: str | None) -> str:
        if value and not E164.fullmatch(value):
            raise ValidationError("phone_e164 must be in E.164 format, such as +14155552671")
        return value or ""

    def validate_phone_country(self, value: str | None) -> str:
        value = (value or "").upper()
        if value and value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValidationError(
                "phone_country must be an ISO 3166-1 alpha-2 country code, such as US"
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        phone, country = attrs.get("phone_e164", ""), attrs.get("phone_country", "")
        if phone and not country:
            raise ValidationError(
                {"phone_country": "phone_country is required when phone_e164 is given"}
            )
        if phone and not _is_valid_phone(phone, country):
            raise ValidationError(
                {"phone_e164": f"phone_e164 is not a valid phone number for {country}"}
            )
        first, last = attrs["first_name"], attrs.get("last_name") or ""
        if len(f"{first} {last}".strip()) > LEAD_NAME_MAX_LENGTH:
            raise ValidationError(
                {
                    "last_name": "last_name is too long: first_name and last_name together "
                    f"must be at most {LEAD_NAME_MAX_LENGTH - 1} characters"
                }
            )
        return self._with_defaults(attrs)

    @staticmethod
    def _with_defaults(attrs: dict[str, Any]) -> dict[str, Any]:
        strings = (
            "last_name",
            "phone_e164",
            "phone_country",
            "provider_form_id",
            "provider_form_name",
        )
        data = {name: attrs.get(name) or "" for name in strings}
        items = attrs.get("questions_answers") or []
        questions_answers = [
            {
                "question": item["question"],
                "answer": item.get("answer") or "",
                "position": index if item.get("position") is None else item["position"],
            }
            for index, item in enumerate(items)
        ]
        traffic = attrs.get("traffic") or {}
        return {
            "email": attrs["email"],
            "first_name": attrs["first_name"],
            "source": attrs["source"],
            **data,
            "external_reference": attrs.get("external_reference") or None,
            "questions_answers": questions_answers,
            "traffic": {name: traffic.get(name) or "" for name in TRAFFIC_FIELDS},
        }


def _is_valid_phone(phone: str, country: str) -> bool:
    try:
        number = phonenumbers.parse(phone, country)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number_for_region(number, country)
