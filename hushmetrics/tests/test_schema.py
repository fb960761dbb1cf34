"""The OpenAPI schema is valid, served, and every documented example conforms to it."""

import json
import re

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from hushmetrics.openapi import COMPONENT_DESCRIPTIONS
from leads.models import LeadSource, LeadStatus
from leads.webhook import ALIASES
from optin.models import OptInSource
from optin.schema import ERROR_EXAMPLES as OPTIN_ERROR_EXAMPLES

pytestmark = pytest.mark.django_db

# The opt-in document's examples, verbatim (api-docs/opt-in-api.txt).
OPTIN_DOC_REQUESTS = [
    {
        "email": "john@example.com",
        "first_name": "John",
        "source": "LANDING_PAGE",
        "external_reference": "typeform-submission-abc123",
    },
    {
        "email": "john@example.com",
        "first_name": "John",
        "source": "TYPEFORM",
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
]
# The lead document's examples, verbatim (api-docs/lead-api.txt), ids as the document shows.
LEAD_DOC_CREATE_REQUEST = {
    "workspace_id": "6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e6f7",
    "name": "Jane Doe",
    "email": "jane@example.com",
    "phone": "+1234567890",
    "source": "website",
    "value": 500,
    "utm": {"utm_source": "google", "utm_medium": "cpc"},
    "extra_data": {"company": "Acme Inc", "role": "CTO"},
    "page_url": "https://example.com/pricing",
}
LEAD_DOC_CREATE_RESPONSE = {
    "id": "a1b2c3d4-...",
    "workspace_id": "your-workspace-id",
    "name": "Jane Doe",
    "email": "jane@example.com",
    "phone": "+1234567890",
    "status": "contact",
    "source": "website",
    "value": 500,
    "created_by": None,
    "utm": {"utm_source": "google", "utm_medium": "cpc"},
    "extra_data": {"company": "Acme Inc", "role": "CTO"},
    "page_url": "https://example.com/pricing",
    "created_at": "2026-03-09T12:00:00+00:00",
    "updated_at": "2026-03-09T12:00:00+00:00",
}
LEAD_DOC_WEBHOOK_REQUEST = {
    "name": "John Smith",
    "email": "john@example.com",
    "source": "website",
    "utm_source": "google",
    "utm_medium": "cpc",
    "company": "Acme Inc",
    "message": "I'd like a demo",
}
LEAD_DOC_WEBHOOK_RESPONSE = {
    **LEAD_DOC_CREATE_RESPONSE,
    "id": "f7e8d9c0-...",
    "name": "John Smith",
    "email": "john@example.com",
    "phone": "",
    "value": 0,
    "extra_data": {"company": "Acme Inc", "message": "I'd like a demo"},
    "page_url": "https://example.com/contact",
}
UUID = "0b8f6a34-2f7e-4d0c-9a8e-6f1e2d3c4b5a"
OPTIN_DOC_RESPONSES = {
    "201": {
        "status": "success",
        "message": "Lead created via opt-in",
        "data": {"opt_in_id": UUID, "lead_id": UUID, "is_new_lead": True},
    },
    "200": {
        "status": "success",
        "message": "Opt-in recorded for existing lead",
        "data": {"opt_in_id": UUID, "lead_id": UUID, "is_new_lead": False},
    },
    **{str(code): body for code, body in OPTIN_ERROR_EXAMPLES.items()},
}


@pytest.fixture
def spec(client):
    response = client.get("/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


def _validator(spec: dict, schema: dict) -> OAS30Validator:
    return OAS30Validator({**schema, "components": spec["components"]})


def _operation(spec: dict, path: str, method: str = "post") -> dict:
    return spec["paths"][path][method]


def test_schema_is_a_valid_openapi_3_document(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {
        "/v1/health",
        "/v1/create-lead",
        "/v1/webhook/{workspace_id}",
        "/v1/leads",
        "/v1/leads/{lead_id}",
        "/api/opt-in/submit",
    }
    assert set(spec["paths"]["/v1/leads"]) == {"get"}
    assert set(spec["paths"]["/v1/leads/{lead_id}"]) == {"get", "patch", "delete"}


def test_schema_enums_are_the_models_enums(spec):
    schemas = spec["components"]["schemas"]
    assert schemas["LeadStatusEnum"]["enum"] == LeadStatus.values
    assert schemas["LeadSourceEnum"]["enum"] == LeadSource.values
    assert schemas["OptInSourceEnum"]["enum"] == OptInSource.values


def test_documented_lead_requests_and_responses_conform(spec):
    create = _operation(spec, "/v1/create-lead")
    webhook = _operation(spec, "/v1/webhook/{workspace_id}")
    json_body = "application/json"
    _validator(spec, create["requestBody"]["content"][json_body]["schema"]).validate(
        LEAD_DOC_CREATE_REQUEST
    )
    _validator(spec, webhook["requestBody"]["content"][json_body]["schema"]).validate(
        LEAD_DOC_WEBHOOK_REQUEST
    )
    for operation, body in (
        (create, LEAD_DOC_CREATE_RESPONSE),
        (webhook, LEAD_DOC_WEBHOOK_RESPONSE),
    ):
        schema = operation["responses"]["201"]["content"][json_body]["schema"]
        _validator(spec, schema).validate(body)
    error = create["responses"]["404"]["content"][json_body]["schema"]
    _validator(spec, error).validate({"message": "Workspace not found"})


def test_schema_is_served_with_and_without_a_trailing_slash(client):
    for path in ("/v1/schema", "/v1/schema/"):
        response = client.get(path)
        assert response.status_code == 200
        assert b"openapi:" in response.content


def test_docs_page_uses_only_local_assets(client):
    response = client.get("/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn" not in html.lower()


@pytest.mark.parametrize("example", OPTIN_DOC_REQUESTS)
def test_documented_optin_requests_conform(spec, example):
    operation = _operation(spec, "/api/opt-in/submit")
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    _validator(spec, schema).validate(example)


@pytest.mark.parametrize("code", sorted(OPTIN_DOC_RESPONSES))
def test_documented_optin_responses_conform(spec, code):
    response = _operation(spec, "/api/opt-in/submit")["responses"][code]
    schema = response["content"]["application/json"]["schema"]
    _validator(spec, schema).validate(OPTIN_DOC_RESPONSES[code])


def test_schema_rejects_what_the_api_rejects(spec):
    """The schema is not a rubber stamp: a documented-invalid body fails it too."""
    operation = _operation(spec, "/api/opt-in/submit")
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    errors = list(_validator(spec, schema).iter_errors({"email": "a@b.co", "source": "SMS"}))
    assert errors


def test_every_operation_example_conforms(spec):
    """Each example embedded in the schema validates against its own schema."""
    checked = 0
    for item in spec["paths"].values():
        for operation in item.values():
            bodies = [operation.get("requestBody", {})] + list(operation["responses"].values())
            for body in bodies:
                media = body.get("content", {}).get("application/json", {})
                for example in media.get("examples", {}).values():
                    _validator(spec, media["schema"]).validate(example["value"])
                    checked += 1
    assert checked >= 4


@pytest.mark.parametrize(
    ("host", "secure", "server"),
    [
        ("localhost:8000", False, "http://localhost:8000"),
        ("127.0.0.1:8123", False, "http://127.0.0.1:8123"),
        ("localhost", True, "https://localhost"),
    ],
)
def test_the_schema_names_the_host_serving_it_as_its_server(client, host, secure, server):
    """So "Try it out" on /v1/docs/ calls the host and port the page came from."""
    response = client.get("/v1/schema/?format=json", HTTP_HOST=host, secure=secure)
    assert json.loads(response.content)["servers"] == [{"url": server}]


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    ("accept", "content_type", "starts_with"),
    [
        (BROWSER_ACCEPT, "text/plain; charset=utf-8", b"openapi: 3"),
        ("*/*", "application/vnd.oai.openapi; charset=utf-8", b"openapi: 3"),
        ("application/vnd.oai.openapi", "application/vnd.oai.openapi; charset=utf-8", b"openapi"),
        ("application/vnd.oai.openapi+json", "application/vnd.oai.openapi+json", b"{"),
        ("application/json, text/plain, */*", "application/json", b"{"),
        ("application/yaml", "application/yaml; charset=utf-8", b"openapi: 3"),
    ],
)
def test_a_browser_is_shown_the_schema_and_clients_get_what_they_ask_for(
    client, accept, content_type, starts_with
):
    response = client.get("/v1/schema/", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith("inline")
    assert response.content.startswith(starts_with)


def test_a_browser_asking_for_json_is_shown_json(client):
    response = client.get("/v1/schema/?format=json", HTTP_ACCEPT=BROWSER_ACCEPT)
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["openapi"].startswith("3.")


def _descriptions(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node[key] for key in ("description", "summary") if isinstance(node.get(key), str)]
        return own + [text for value in node.values() for text in _descriptions(value)]
    if isinstance(node, list):
        return [text for value in node for text in _descriptions(value)]
    return []


def _maintainers_docstrings() -> set[str]:
    """The docstrings of every class the schema is built from, which are for maintainers."""
    import inspect

    import hushmetrics.apis
    import hushmetrics.serializers
    import leads.apis
    import leads.read_apis
    import leads.read_schema
    import leads.read_serializers
    import leads.schema
    import leads.serializers
    import optin.apis
    import optin.schema
    import optin.serializers

    modules = [
        hushmetrics.apis,
        hushmetrics.serializers,
        leads.apis,
        leads.read_apis,
        leads.read_schema,
        leads.read_serializers,
        leads.schema,
        leads.serializers,
        optin.apis,
        optin.schema,
        optin.serializers,
    ]
    docs = set()
    for module in modules:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and cls.__doc__:
                docs.add(" ".join(inspect.cleandoc(cls.__doc__).split()))
    return docs


def test_no_internal_note_is_published(spec):
    published = [" ".join(text.split()) for text in _descriptions(spec)]
    docstrings = _maintainers_docstrings()
    assert len(docstrings) > 10
    for text in published:
        assert text not in docstrings
        for note in ("A.1", "A.2", "SPEC", "lead_output", "validated_data", "Serializer"):
            assert note not in text
        assert "refuses fields" not in text


def test_every_body_has_a_public_description(spec):
    schemas = spec["components"]["schemas"]
    for name in (
        "LeadCreateInputRequest",
        "LeadSchema",
        "OptInSubmitRequest",
        "QuestionAnswerRequest",
        "TrafficRequest",
        "LeadReadSchema",
        "LeadListSchema",
        "LeadDetailSchema",
        "OptInSchema",
        "PatchedLeadUpdateInputRequest",
    ):
        assert schemas[name]["description"] == COMPONENT_DESCRIPTIONS[name]


def test_the_webhook_description_lists_every_recognised_spelling_and_control_field(spec):
    description = _operation(spec, "/v1/webhook/{workspace_id}")["description"]
    for field in set(ALIASES.values()):
        line = next(line for line in description.splitlines() if line.startswith(f"- **{field}**"))
        spellings = {spelling for spelling, target in ALIASES.items() if target == field}
        assert set(re.findall(r"`([^`]+)`", line.partition(":")[2])) == spellings
    for control in ("_next", "_redirect", "_gotcha", "_honeypot"):
        assert f"`{control}`" in description


# --- The lead read and update API (SPEC §10) --------------------------------------------------


def test_the_read_api_documents_every_parameter_with_its_bounds(spec):
    parameters = {
        parameter["name"]: parameter["schema"]
        for parameter in _operation(spec, "/v1/leads", "get")["parameters"]
    }
    assert set(parameters) == {
        "limit", "cursor", "created_after", "created_before", "updated_after", "status",
        "source", "email", "q", "spam", "order",
    }  # fmt: skip
    assert (parameters["limit"]["minimum"], parameters["limit"]["maximum"]) == (1, 200)
    assert parameters["limit"]["default"] == 50
    assert parameters["q"]["minLength"] == 3
    assert parameters["status"]["enum"] == LeadStatus.values
    assert parameters["source"]["enum"] == LeadSource.values
    assert parameters["spam"]["enum"] == ["exclude", "only", "include"]
    assert parameters["order"]["enum"] == ["-created_at", "created_at", "updated_at"]
    for name in ("created_after", "created_before", "updated_after"):
        assert parameters[name]["format"] == "date-time"


def test_the_opt_in_sources_of_the_detail_schema_are_the_opt_in_apps(spec):
    from leads.read_schema import OPTIN_SOURCES

    assert OptInSource.values == OPTIN_SOURCES


def test_every_lead_api_operation_has_examples_and_needs_a_key(spec):
    for path, method in [
        ("/v1/leads", "get"),
        ("/v1/leads/{lead_id}", "get"),
        ("/v1/leads/{lead_id}", "patch"),
    ]:
        operation = _operation(spec, path, method)
        assert operation["security"] == [{"ApiKey": []}]
        assert operation["responses"]["200"]["content"]["application/json"]["examples"]
        assert {"401", "403", "429"} <= set(operation["responses"])
    patch = _operation(spec, "/v1/leads/{lead_id}", "patch")
    assert patch["requestBody"]["content"]["application/json"]["examples"]
    body = spec["components"]["schemas"]["PatchedLeadUpdateInputRequest"]
    assert body["additionalProperties"] is False
    assert body["properties"]["value"]["minimum"] == 0
    assert "204" in _operation(spec, "/v1/leads/{lead_id}", "delete")["responses"]


def test_real_read_api_answers_conform_to_the_schema(spec, lead):
    from rest_framework.test import APIClient

    from optin.tests.factories import OptInFactory, QuestionAnswerFactory
    from workspaces.tests.factories import ApiKeyFactory

    lead_with_history = lead
    QuestionAnswerFactory(opt_in=OptInFactory(lead=lead), position=0)
    key = ApiKeyFactory(workspace=lead_with_history.workspace, scopes=["leads:read", "leads:write"])
    client = APIClient(HTTP_X_API_KEY=key.plaintext)
    json_body = "application/json"
    for url, path, method, code in [
        ("/v1/leads?limit=1", "/v1/leads", "get", "200"),
        (f"/v1/leads/{lead_with_history.id}", "/v1/leads/{lead_id}", "get", "200"),
        ("/v1/leads?limit=0", "/v1/leads", "get", "400"),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == int(code)
        schema = _operation(spec, path, method)["responses"][code]["content"][json_body]
        _validator(spec, schema["schema"]).validate(response.json())
    patched = client.patch(
        f"/v1/leads/{lead_with_history.id}", {"status": "won", "value": 12.5}, format="json"
    )
    schema = _operation(spec, "/v1/leads/{lead_id}", "patch")["responses"]["200"]["content"]
    _validator(spec, schema[json_body]["schema"]).validate(patched.json())
