"""The opt-in endpoint in the OpenAPI schema, with the partner document's examples."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import serializers

from hushmetrics.openapi import OPTIN_API_ERROR, OperationSchema, error_responses
from optin.serializers import OptInSubmitSerializer

UUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
LEAD_UUID = "9b2e6c2a-1d3f-4c4e-8a51-1c2d3e4f5a6b"

SUCCESS = inline_serializer(
    "OptInSuccess",
    {
        "status": serializers.ChoiceField(choices=["success"]),
        "message": serializers.CharField(),
        "data": inline_serializer(
            "OptInResult",
            {
                "opt_in_id": serializers.UUIDField(),
                "lead_id": serializers.UUIDField(),
                "is_new_lead": serializers.BooleanField(),
            },
        ),
    },
)

# The request and response examples of the partner document (api-docs/opt-in-api.txt).
REQUEST_EXAMPLES = [
    OpenApiExample(
        "Full submission",
        request_only=True,
        value={
            "email": "john@example.com",
            "first_name": "John",
            "last_name": "Smith",
            "source": "TYPEFORM",
            "phone_e164": "+14155552671",
            "phone_country": "US",
            "provider_form_id": "form_123",
            "provider_form_name": "Coaching application",
            "external_reference": "typeform-submission-abc123",
            "questions_answers": [
                {
                    "question": "What is your biggest challenge?",
                    "answer": "Generating consistent leads",
                    "position": 0,
                }
            ],
            "traffic": {
                "utm_source": "facebook",
                "utm_medium": "paid",
                "utm_campaign": "q1-coaching",
                "utm_content": "video-ad-1",
                "utm_term": "coaching program",
                "referrer": "https://facebook.com",
                "landing_page": "https://yoursite.com/apply",
            },
        },
    ),
    OpenApiExample(
        "Idempotency",
        request_only=True,
        value={
            "email": "john@example.com",
            "first_name": "John",
            "source": "LANDING_PAGE",
            "external_reference": "typeform-submission-abc123",
        },
    ),
]


def _success(message: str, is_new_lead: bool) -> dict[str, object]:
    return {
        "status": "success",
        "message": message,
        "data": {"opt_in_id": UUID, "lead_id": LEAD_UUID, "is_new_lead": is_new_lead},
    }


OPTIN_SUBMIT_SCHEMA: OperationSchema = {
    "summary": "Submit an opt-in",
    "description": (
        "Creates or updates the lead of the key's workspace (matched by email, any letter "
        "case) and records the opt-in with its Q&A and traffic. The same `external_reference` "
        "+ `source` again returns the original opt-in (200, `Idempotent-Replayed: true`)."
    ),
    "request": OptInSubmitSerializer,
    "examples": REQUEST_EXAMPLES,
    "responses": {
        201: OpenApiResponse(
            SUCCESS,
            description="New lead created",
            examples=[
                OpenApiExample(
                    "New lead",
                    response_only=True,
                    status_codes=["201"],
                    value=_success("Lead created via opt-in", True),
                )
            ],
        ),
        200: OpenApiResponse(
            SUCCESS,
            description="Existing lead updated, or an idempotent replay",
            examples=[
                OpenApiExample(
                    "Existing lead",
                    response_only=True,
                    status_codes=["200"],
                    value=_success("Opt-in recorded for existing lead", False),
                )
            ],
        ),
        **error_responses(
            OPTIN_API_ERROR,
            {
                400: "Validation failure",
                401: "Missing or invalid API key",
                403: "The API key lacks the ingest scope",
                413: "Body too large",
                415: "Unsupported content type",
                429: "Rate limit exceeded",
                503: "Temporarily unavailable; retry after Retry-After seconds",
            },
        ),
    },
    "tags": ["Opt-in"],
}

# The documented error bodies, checked against the schema by the tests.
ERROR_EXAMPLES = {
    401: {"status": "error", "message": "Invalid or revoked API key"},
    400: {
        "status": "error",
        "message": (
            "source must be one of: CALENDLY, MANUAL, TYPEFORM, WEBINAR, NEWSLETTER, "
            "LANDING_PAGE, OTHER"
        ),
    },
    429: {"status": "error", "message": "Too many requests"},
}
