"""Schema pieces both surfaces share: their error envelopes and the health answer."""

from typing import Any, TypedDict

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request

_ERRORS = serializers.DictField(
    child=serializers.ListField(child=serializers.CharField()),
    required=False,
    help_text="Field path → messages, for validation errors.",
)

LEAD_API_ERROR = inline_serializer(
    "LeadApiError", {"message": serializers.CharField(), "errors": _ERRORS}
)
OPTIN_API_ERROR = inline_serializer(
    "OptInApiError",
    {
        "status": serializers.ChoiceField(choices=["error"]),
        "message": serializers.CharField(),
        "errors": _ERRORS,
    },
)


class OperationSchema(TypedDict, total=False):
    """What a view's `@extend_schema(**…)` says about its operation."""

    summary: str
    description: str
    # A serializer, or {media type: JSON schema} for a body no serializer describes.
    request: Any
    responses: dict[int, OpenApiResponse]
    parameters: list[OpenApiParameter]
    examples: list[OpenApiExample]
    tags: list[str]
    # OpenAPI security requirements ({"ApiKey": []}; {} is "none needed"), which
    # drf-spectacular copies into the operation as they are: its signature says Sequence[str],
    # its own get_auth returns these objects.
    auth: list[Any]


def error_responses(envelope: object, codes: dict[int, str]) -> dict[int, OpenApiResponse]:
    """`{code: OpenApiResponse}` for each error code of a surface, all in its envelope."""
    return {code: OpenApiResponse(envelope, description=text) for code, text in codes.items()}


HEALTH_SCHEMA: OperationSchema = {
    "summary": "Health",
    "description": "200 when the database (and a configured cache) answer, else 503.",
    "responses": {
        200: OpenApiResponse(
            inline_serializer("HealthOk", {"status": serializers.ChoiceField(choices=["ok"])}),
            examples=[OpenApiExample("ok", value={"status": "ok"})],
        ),
        503: OpenApiResponse(
            inline_serializer(
                "HealthError",
                {
                    "status": serializers.ChoiceField(choices=["error"]),
                    "message": serializers.CharField(),
                },
            ),
        ),
    },
    "auth": [],
    "tags": ["Utility"],
}


def serve_from_this_host(
    result: dict, generator: object, request: Request | None, public: bool
) -> dict:
    """Postprocessing hook: the server is the host serving the schema, so "Try it out" on
    /v1/docs/ calls the host and port the page came from. Without a request (the
    `spectacular` command) no server is named, which OpenAPI reads as "this host"."""
    if request is not None:
        result["servers"] = [{"url": request.build_absolute_uri("/").rstrip("/")}]
    return result


# What the docs say about each body, for the people who call the API. drf-spectacular would
# publish a serializer's docstring, which is written for whoever maintains it; a body not
# listed here gets no description (an enum keeps its generated list of values).
COMPONENT_DESCRIPTIONS = {
    "LeadCreateInputRequest": (
        "The lead to create. A field not listed here, a wrong type or an unknown enum value "
        "is a 400 that names the field."
    ),
    "LeadSchema": "A lead, as create-lead and the webhook return it.",
    "OptInSubmitRequest": (
        "The opt-in. A field not listed here is a 400 that names it; so is one in "
        "`questions_answers` or `traffic`."
    ),
    "QuestionAnswerRequest": "One question of the form and its answer.",
    "TrafficRequest": "Where the visitor came from.",
    "LeadReadSchema": (
        "A lead, as the read API returns it: create-lead's lead plus its setter (a profile "
        "id) and whether it is spam."
    ),
    "LeadListSchema": "A page of leads, and the cursor of the next page (null on the last).",
    "LeadDetailSchema": "A lead with its opt-ins, newest first.",
    "OptInSchema": "An opt-in recorded for the lead, with its answers in position order.",
    "QuestionAnswerSchema": "One question of the form and its answer.",
    "TrafficSchema": "Where the visitor came from.",
    "PatchedLeadUpdateInputRequest": (
        "The fields to change; the others stay as they are. A field not listed here, a wrong "
        "type or an unknown enum value is a 400 that names the field."
    ),
}


def public_descriptions(result: dict, generator: object, request: object, public: bool) -> dict:
    """Postprocessing hook: every body's description is its `COMPONENT_DESCRIPTIONS` entry."""
    for name, component in result["components"]["schemas"].items():
        if "enum" in component:
            continue
        component.pop("description", None)
        if name in COMPONENT_DESCRIPTIONS:
            component["description"] = COMPONENT_DESCRIPTIONS[name]
    return result


def strip_trailing_slashes(result: dict, generator: object, request: object, public: bool) -> dict:
    """Postprocessing hook: document `/v1/create-lead`, not the `/?` of its URL pattern."""
    result["paths"] = {path.rstrip("/") or "/": item for path, item in result["paths"].items()}
    return result


# Request bodies of the strict serializers: a field they do not define is a 400 (A.1, B).
STRICT_REQUESTS = (
    "LeadCreateInputRequest",
    "OptInSubmitRequest",
    "QuestionAnswerRequest",
    "TrafficRequest",
    "PatchedLeadUpdateInputRequest",
)


def strict_request_bodies(result: dict, generator: object, request: object, public: bool) -> dict:
    """Postprocessing hook: say `additionalProperties: false` where an unknown field is a 400."""
    schemas = result["components"]["schemas"]
    for name in STRICT_REQUESTS:
        schemas[name]["additionalProperties"] = False
    return result
