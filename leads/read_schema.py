"""The lead read and update API (SPEC §10) in the OpenAPI schema, with examples."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    inline_serializer,
)
from rest_framework import serializers

from hushmetrics.openapi import LEAD_API_ERROR, error_responses
from leads.models import Lead
from leads.read_serializers import (
    DEFAULT_LIMIT,
    MAX_CURSOR,
    MAX_LIMIT,
    MAX_SEARCH,
    MIN_SEARCH,
    LeadUpdateInputSerializer,
)
from leads.schema import LeadSchema, _lead
from leads.selectors import LeadOrder, SpamFilter
from leads.webhook import MAX_VALUE

# The opt-in sources, as the opt-in app defines them (a test holds the two lists equal: the
# lead app does not import the opt-in app).
OPTIN_SOURCES = ["CALENDLY", "MANUAL", "TYPEFORM", "WEBINAR", "NEWSLETTER", "LANDING_PAGE", "OTHER"]
SETTER = "7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
LEAD_ID = "a1b2c3d4-0000-4000-8000-000000000001"


class LeadReadSchema(LeadSchema):
    """The lead as the read API returns it."""

    setter = serializers.UUIDField(allow_null=True)
    is_spam = serializers.BooleanField()


# Inline: a declared field named `data` would shadow Serializer.data for type checkers.
LeadListSchema = inline_serializer(
    "LeadListSchema",
    {"data": LeadReadSchema(many=True), "next_cursor": serializers.CharField(allow_null=True)},
)


class QuestionAnswerSchema(serializers.Serializer):
    question = serializers.CharField()
    answer = serializers.CharField()
    position = serializers.IntegerField(min_value=0)


class TrafficSchema(serializers.Serializer):
    utm_source = serializers.CharField()
    utm_medium = serializers.CharField()
    utm_campaign = serializers.CharField()
    utm_content = serializers.CharField()
    utm_term = serializers.CharField()
    referrer = serializers.CharField()
    landing_page = serializers.CharField()


class OptInSchema(serializers.Serializer):
    id = serializers.UUIDField()
    source = serializers.ChoiceField(choices=OPTIN_SOURCES)  # type: ignore[assignment]  # not Field.source
    external_reference = serializers.CharField(allow_null=True)
    provider_form_id = serializers.CharField()
    provider_form_name = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.CharField()
    phone_e164 = serializers.CharField()
    phone_country = serializers.CharField()
    traffic = TrafficSchema()
    questions_answers = QuestionAnswerSchema(many=True)
    setter = serializers.UUIDField(allow_null=True)
    is_new_lead = serializers.BooleanField()
    created_at = serializers.DateTimeField(help_text="ISO 8601, UTC, `+00:00`")


class LeadDetailSchema(LeadReadSchema):
    opt_ins = OptInSchema(many=True)


def _read(**fields: Any) -> dict[str, Any]:
    return {**_lead(**fields), "setter": None, "is_spam": False} | {
        key: value for key, value in fields.items() if key in ("setter", "is_spam")
    }


JANE = _read(
    name="Jane Doe",
    email="jane@example.com",
    phone="+1234567890",
    source="website",
    value=500,
    utm={"utm_source": "google", "utm_medium": "cpc"},
    extra_data={"company": "Acme Inc", "role": "CTO"},
    page_url="https://example.com/pricing",
)
JOHN = _read(
    id="f7e8d9c0-0000-4000-8000-000000000002",
    name="John Smith",
    email="john@example.com",
    source="website",
    created_at="2026-03-08T09:30:00+00:00",
    updated_at="2026-03-08T09:30:00+00:00",
)
EXAMPLE_CURSOR = (
    ".eJyrVspWsopWMjI0MdA1MNI1NFAwMjU1NNA1MFK01jUzMDCwMjBQMtY1VIrVUSopSsxTslJKLUvNK1GqBQBvfRA5"
    ":1vK3Z2:q7Yb0oXc"
)
LIST_EXAMPLE = {"data": [JANE, JOHN], "next_cursor": EXAMPLE_CURSOR}
LAST_PAGE_EXAMPLE = {"data": [JOHN], "next_cursor": None}
OPT_IN = {
    "id": "0b8f6a34-2f7e-4d0c-9a8e-6f1e2d3c4b5a",
    "source": "TYPEFORM",
    "external_reference": "typeform-submission-abc123",
    "provider_form_id": "lT4Z3j",
    "provider_form_name": "Coaching application",
    "first_name": "Jane",
    "last_name": "Doe",
    "email": "jane@example.com",
    "phone_e164": "+14155550123",
    "phone_country": "US",
    "traffic": {
        "utm_source": "facebook",
        "utm_medium": "paid",
        "utm_campaign": "q1-coaching",
        "utm_content": "video-ad-1",
        "utm_term": "",
        "referrer": "https://facebook.com",
        "landing_page": "https://example.com/apply",
    },
    "questions_answers": [
        {
            "question": "What is your biggest challenge?",
            "answer": "Generating consistent leads",
            "position": 0,
        }
    ],
    "setter": None,
    "is_new_lead": False,
    "created_at": "2026-03-10T08:15:00+00:00",
}
DETAIL_EXAMPLE = {**JANE, "opt_ins": [OPT_IN]}
PATCH_REQUEST = {"status": "qualified", "value": 1200, "setter": SETTER}
PATCH_RESPONSE = {
    **JANE,
    "status": "qualified",
    "value": 1200,
    "setter": SETTER,
    "updated_at": "2026-03-11T16:45:00+00:00",
}

_COMMON_ERRORS = {
    401: "No API key, or a bad one",
    429: "Rate limited (RATE_LIMIT_READ per key); see Retry-After",
    503: "Temporarily unavailable; retry after Retry-After seconds",
}
_NOT_FOUND = {404: "No lead with this id in the key's workspace"}
LIST_ERRORS = {
    400: "A bad parameter (the message names it), or a cursor that is not for this query",
    403: "The API key lacks the leads:read scope",
    **_COMMON_ERRORS,
}
DETAIL_ERRORS = {403: "The API key lacks the leads:read scope", **_NOT_FOUND, **_COMMON_ERRORS}
DELETE_ERRORS = {403: "The API key lacks the leads:write scope", **_NOT_FOUND, **_COMMON_ERRORS}
PATCH_ERRORS = {
    400: "A bad field (the message names it)",
    **DELETE_ERRORS,
    413: "Body too large",
    415: "Send JSON",
}

_DATETIME = (
    "ISO 8601 date and time; exclusive. Without an offset it is UTC. In a URL, write `+` as `%2B`."
)


def _param(name: str, schema: dict[str, Any], description: str, **extra: Any) -> OpenApiParameter:
    return OpenApiParameter(
        name, schema, OpenApiParameter.QUERY, required=False, description=description, **extra
    )


LIST_PARAMETERS = [
    _param(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        f"Leads per page, 1 to {MAX_LIMIT}.",
    ),
    _param(
        "cursor",
        {"type": "string", "minLength": 1, "maxLength": MAX_CURSOR},
        "`next_cursor` of the previous page, as given, with the same filters and order.",
    ),
    _param(
        "created_after",
        {"type": "string", "format": "date-time"},
        f"Created after this. {_DATETIME}",
    ),
    _param(
        "created_before",
        {"type": "string", "format": "date-time"},
        f"Created before this. {_DATETIME}",
    ),
    _param(
        "updated_after",
        {"type": "string", "format": "date-time"},
        f"Changed after this. {_DATETIME}",
    ),
    _param(
        "status", {"type": "string", "enum": Lead.Status.values}, "Only leads with this status."
    ),
    _param(
        "source", {"type": "string", "enum": Lead.Source.values}, "Only leads from this source."
    ),
    _param(
        "email",
        {"type": "string", "minLength": 1, "maxLength": 320},
        "Only leads with exactly this email, in any letter case.",
    ),
    _param(
        "q",
        {"type": "string", "minLength": MIN_SEARCH, "maxLength": MAX_SEARCH},
        f"Leads whose name, email or phone contains this, in any letter case (at least "
        f"{MIN_SEARCH} characters).",
    ),
    _param(
        "spam",
        {"type": "string", "enum": [spam.value for spam in SpamFilter], "default": "exclude"},
        "Spam leads (a filled honeypot): left out (`exclude`), alone (`only`) or mixed in "
        "(`include`).",
    ),
    _param(
        "order",
        {
            "type": "string",
            "enum": [order.value for order in LeadOrder],
            "default": LeadOrder.NEWEST_FIRST.value,
        },
        "`-created_at`: newest first. `created_at`: oldest first. `updated_at`: least recently "
        "changed first, for sync jobs that page with `updated_after`.",
    ),
]
LEAD_ID_PARAMETER = OpenApiParameter("lead_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
AUTH: list[dict[str, list[str]]] = [{"ApiKey": []}]

LEAD_LIST_SCHEMA: dict[str, Any] = {
    "operation_id": "leads_list",
    "summary": "List leads",
    "description": (
        "The leads of the key's workspace, newest first unless `order` says otherwise, "
        "`limit` at a time. Needs a key with the `leads:read` scope.\n\n"
        "To get the next page, send the same query with `cursor` set to `next_cursor`; it is "
        "null on the last page. Paging is by keyset: every page costs the same at any depth, "
        "and leads created while you page are neither skipped nor repeated. A cursor is "
        "opaque and only valid for the query (filters and order) and workspace it came from, "
        "for 7 days: anything else is a 400.\n\n"
        "**Sync jobs:** page with `order=updated_at&updated_after=<the last updated_at you "
        "stored>`; a lead changed while you page comes again at the end, with its change."
    ),
    "parameters": LIST_PARAMETERS,
    "responses": {
        200: OpenApiResponse(
            LeadListSchema,
            description="A page of leads",
            examples=[
                OpenApiExample("A page with more after it", value=LIST_EXAMPLE),
                OpenApiExample("The last page", value=LAST_PAGE_EXAMPLE),
            ],
        ),
        **error_responses(LEAD_API_ERROR, LIST_ERRORS),
    },
    "auth": AUTH,
    "tags": ["Lead read and update"],
}
LEAD_DETAIL_SCHEMA: dict[str, Any] = {
    "operation_id": "leads_retrieve",
    "summary": "Get a lead",
    "description": (
        "One lead of the key's workspace with its opt-ins, newest first. Needs the "
        "`leads:read` scope. An id of another workspace is a 404, as an unknown one is."
    ),
    "parameters": [LEAD_ID_PARAMETER],
    "responses": {
        200: OpenApiResponse(
            LeadDetailSchema,
            description="The lead",
            examples=[OpenApiExample("A lead with one opt-in", value=DETAIL_EXAMPLE)],
        ),
        **error_responses(LEAD_API_ERROR, DETAIL_ERRORS),
    },
    "auth": AUTH,
    "tags": ["Lead read and update"],
}
LEAD_PATCH_SCHEMA: dict[str, Any] = {
    "operation_id": "leads_update",
    "summary": "Update a lead",
    "description": (
        "Change any of the fields given; the others stay as they are. `setter` is the id of "
        "a profile of the workspace (or null); `extra_data` replaces the stored object. Needs "
        "the `leads:write` scope. A field not listed, a wrong type or an unknown enum value "
        "is a 400 naming the field. Returns the lead."
    ),
    "parameters": [LEAD_ID_PARAMETER],
    "request": LeadUpdateInputSerializer,
    "examples": [OpenApiExample("Qualify a lead", value=PATCH_REQUEST, request_only=True)],
    "responses": {
        200: OpenApiResponse(
            LeadReadSchema,
            description="The lead as it is now",
            examples=[OpenApiExample("Qualified", value=PATCH_RESPONSE, response_only=True)],
        ),
        **error_responses(LEAD_API_ERROR, PATCH_ERRORS),
    },
    "auth": AUTH,
    "tags": ["Lead read and update"],
}
LEAD_DELETE_SCHEMA: dict[str, Any] = {
    "operation_id": "leads_erase",
    "summary": "Erase a lead",
    "description": (
        "Delete the lead with its opt-ins and their answers, for good. Needs the "
        "`leads:write` scope."
    ),
    "parameters": [LEAD_ID_PARAMETER],
    "request": None,
    "responses": {
        204: OpenApiResponse(description="Erased"),
        **error_responses(LEAD_API_ERROR, DELETE_ERRORS),
    },
    "auth": AUTH,
    "tags": ["Lead read and update"],
}


def refine_lead_update_schema(
    result: dict[str, Any], generator: object, request: object, public: bool
) -> dict[str, Any]:
    """Postprocessing hook: PATCH's `value` is money as create-lead's is (2 places, under
    10^12), which drf-spectacular cannot infer from the DecimalField."""
    schemas = result["components"]["schemas"]
    value = schemas["PatchedLeadUpdateInputRequest"]["properties"]["value"]
    value.pop("exclusiveMaximum", None)
    value.update(maximum=float(MAX_VALUE), multipleOf=0.01)
    return result
