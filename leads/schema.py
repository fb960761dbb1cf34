"""The /v1 lead endpoints in the OpenAPI schema, with the lead document's examples."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    inline_serializer,
)
from rest_framework import serializers

from hushmetrics.openapi import LEAD_API_ERROR, OperationSchema, error_responses
from leads.models import Lead
from leads.serializers import LeadCreateInputSerializer
from leads.webhook import ALIASES, HONEYPOTS, MAX_VALUE, REDIRECTS

WORKSPACE = "6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e6f7"


class LeadSchema(serializers.Serializer):
    """The lead both endpoints return, for the schema (the views render it themselves)."""

    id = serializers.UUIDField()
    workspace_id = serializers.UUIDField()
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    status = serializers.ChoiceField(choices=Lead.Status.values)
    source = serializers.ChoiceField(choices=Lead.Source.values)  # type: ignore[assignment]  # the lead's field, not Field.source: DRF moves declared fields off the class
    value = serializers.FloatField(min_value=0, help_text="Money, a JSON number: 500, 499.99")
    created_by = serializers.UUIDField(allow_null=True)
    utm = serializers.DictField(allow_null=True)
    extra_data = serializers.DictField(allow_null=True)
    page_url = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField(help_text="ISO 8601, UTC, `+00:00`")
    updated_at = serializers.DateTimeField(help_text="ISO 8601, UTC, `+00:00`")


def _lead(**fields: object) -> dict[str, object]:
    base = {
        "id": "a1b2c3d4-0000-4000-8000-000000000001",
        "workspace_id": WORKSPACE,
        "name": "",
        "email": "",
        "phone": "",
        "status": "contact",
        "source": "other",
        "value": 0,
        "created_by": None,
        "utm": None,
        "extra_data": None,
        "page_url": None,
        "created_at": "2026-03-09T12:00:00+00:00",
        "updated_at": "2026-03-09T12:00:00+00:00",
    }
    return base | fields


CREATE_REQUEST = {
    "workspace_id": WORKSPACE,
    "name": "Jane Doe",
    "email": "jane@example.com",
    "phone": "+1234567890",
    "source": "website",
    "value": 500,
    "utm": {"utm_source": "google", "utm_medium": "cpc"},
    "extra_data": {"company": "Acme Inc", "role": "CTO"},
    "page_url": "https://example.com/pricing",
}
CREATE_RESPONSE = _lead(
    **{key: value for key, value in CREATE_REQUEST.items() if key != "workspace_id"}
)
WEBHOOK_REQUEST = {
    "name": "John Smith",
    "email": "john@example.com",
    "source": "website",
    "utm_source": "google",
    "utm_medium": "cpc",
    "company": "Acme Inc",
    "message": "I'd like a demo",
}
WEBHOOK_RESPONSE = _lead(
    id="f7e8d9c0-0000-4000-8000-000000000002",
    name="John Smith",
    email="john@example.com",
    source="website",
    utm={"utm_source": "google", "utm_medium": "cpc"},
    extra_data={"company": "Acme Inc", "message": "I'd like a demo"},
    page_url="https://example.com/contact",
    created_at="2026-03-10T12:00:00+00:00",
    updated_at="2026-03-10T12:00:00+00:00",
)

LEAD_ERRORS = {
    400: "Missing or invalid parameters (the message names the field)",
    401: "Bad API key, or none where the workspace requires one",
    403: "The API key lacks the ingest scope",
    404: "Workspace not found",
    413: "Body too large",
    415: "Unsupported content type",
    429: "Rate limited; see Retry-After",
    503: "Temporarily unavailable; retry after Retry-After seconds",
}

CREATE_LEAD_SCHEMA: OperationSchema = {
    "summary": "Create a lead",
    "description": "Create a new lead in the workspace. Returns the full lead object.",
    "request": LeadCreateInputSerializer,
    "examples": [OpenApiExample("Create a lead", value=CREATE_REQUEST, request_only=True)],
    "responses": {
        201: OpenApiResponse(
            LeadSchema,
            description="Created",
            examples=[OpenApiExample("Created", value=CREATE_RESPONSE, response_only=True)],
        ),
        **error_responses(LEAD_API_ERROR, LEAD_ERRORS),
    },
    "tags": ["Leads"],
}

# A body with no fields at all is a 400 (A.2); control fields (`_next`, `_redirect`, `_gotcha`,
# `_honeypot`) alone count as none.
_JSON = {"type": "object", "additionalProperties": True, "minProperties": 1}
# A form carries strings, a repeated key a list of them (a file's part is a string too; the file
# is not stored, its name, size and type are).
_FORM = {
    "type": "object",
    "additionalProperties": {
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]
    },
    "minProperties": 1,
}


def spellings_by_field() -> dict[str, list[str]]:
    """`leads.webhook.ALIASES` turned around: each lead field (or name part) → its spellings."""
    fields: dict[str, list[str]] = {}
    for spelling, field in ALIASES.items():
        fields.setdefault(field, []).append(spelling)
    return fields


def _code(words: list[str] | tuple[str, ...]) -> str:
    return ", ".join(f"`{word}`" for word in words)


NAME_PARTS = ("first_name", "middle_name", "last_name")
WEBHOOK_DESCRIPTION = "\n\n".join(
    [
        "Paste this URL into any form builder. Takes JSON, form-encoded, multipart and JSON "
        "as text/plain. Files (multipart, up to MAX_UPLOAD_BYTES, 25 MB) are not stored: "
        "their name, size and type go to `extra_data`. A JSON array holding one object is "
        "that object. A retried submission (Idempotency-Key, Framer's submission id, a "
        "builder's event id) with the same body returns the lead already created with 200; "
        "the same id with another body is a 409.",
        "**Recognised fields**, in any letter case and accent, with `-`, spaces and `_` alike "
        "(`E-mail`, `e mail` and `E_MAIL` are all `e_mail`):",
        "\n".join(
            f"- **{field}**{' (a name part)' if field in NAME_PARTS else ''}: {_code(spellings)}"
            for field, spellings in spellings_by_field().items()
        ),
        "Name parts are joined into the lead's name when no name field is sent, and kept in "
        "`extra_data`. With no email field, a single field whose value is a valid address is "
        "the email. Every `utm_*` field is grouped into `utm`; every other field is kept in "
        "`extra_data`. A field sent twice keeps every answer, in order; the first fills the "
        "lead field.",
        f"**Control fields**, never stored (exactly these; every other field is kept): "
        f"{_code(REDIRECTS)}: where a browser's form post goes next (a 303), when it is on the "
        f"posting page's host or one of the workspace's allowed redirect hosts, or relative "
        f"to the posting page; {_code(HONEYPOTS)}: the honeypot, a non-empty value stores the "
        f"lead as spam and answers as for any lead.",
    ]
)
WEBHOOK_SCHEMA: OperationSchema = {
    "summary": "Universal form webhook",
    "description": WEBHOOK_DESCRIPTION,
    "parameters": [
        OpenApiParameter("workspace_id", OpenApiTypes.UUID, OpenApiParameter.PATH),
        OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER),
    ],
    "request": {
        "application/json": _JSON,
        "application/x-www-form-urlencoded": _FORM,
        "multipart/form-data": _FORM,
        "text/plain": _JSON,
    },
    "examples": [OpenApiExample("JSON (Framer, custom)", value=WEBHOOK_REQUEST, request_only=True)],
    "responses": {
        201: OpenApiResponse(
            LeadSchema,
            description="Created",
            examples=[OpenApiExample("Created", value=WEBHOOK_RESPONSE, response_only=True)],
        ),
        200: OpenApiResponse(
            LeadSchema, description="A retried submission, or a WordPress/ user agent"
        ),
        303: OpenApiResponse(
            description="A browser's form post (Accept lists text/html, the User-Agent is not "
            "WordPress/): sent on to a valid `_next`/`_redirect`, else the workspace's "
            "thank-you URL, else the service's thank-you page. A browser's failed post gets "
            "an HTML page with the error's status code."
        ),
        **error_responses(
            LEAD_API_ERROR,
            {
                **LEAD_ERRORS,
                409: "The submission id (Idempotency-Key or the builder's own) was already used "
                "with a different body; nothing of the stored lead is shown",
            },
        ),
    },
    "auth": [{"ApiKey": []}, {}],
    "tags": ["Leads"],
}


WEBHOOK_GET_SCHEMA: OperationSchema = {
    "summary": "Is this webhook URL connected?",
    "description": "200 names the workspace the URL sends submissions to. A browser "
    "(Accept lists text/html) gets an HTML page with a form snippet instead; an unknown or "
    "disabled workspace is a 404, as a page for a browser.",
    "parameters": [OpenApiParameter("workspace_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
    "responses": {
        200: OpenApiResponse(
            inline_serializer(
                "WebhookConnected",
                {
                    "message": serializers.ChoiceField(
                        choices=["Send form submissions here with POST"]
                    ),
                    "workspace": inline_serializer(
                        "WebhookWorkspace",
                        {"id": serializers.UUIDField(), "name": serializers.CharField()},
                    ),
                },
            ),
            description="The workspace this URL sends submissions to",
        ),
        **error_responses(
            LEAD_API_ERROR,
            {
                401: LEAD_ERRORS[401],
                404: LEAD_ERRORS[404],
                429: LEAD_ERRORS[429],
                503: LEAD_ERRORS[503],
            },
        ),
    },
    "auth": [{"ApiKey": []}, {}],
    "tags": ["Leads"],
}


def refine_lead_schema(result: dict, generator: object, request: object, public: bool) -> dict:
    """Postprocessing hook for what drf-spectacular cannot infer: `value` is money with 2
    places (a DecimalField(14, 2): more places, or 10^12 and up, are a 400), and the webhook
    needs a body (one with no fields is a 400)."""
    value = result["components"]["schemas"]["LeadCreateInputRequest"]["properties"]["value"]
    value.pop("exclusiveMaximum", None)
    value.update(maximum=float(MAX_VALUE), multipleOf=0.01)
    result["paths"]["/v1/webhook/{workspace_id}"]["post"]["requestBody"]["required"] = True
    return result
