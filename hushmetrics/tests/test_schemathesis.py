"""schemathesis against our own OpenAPI schema: every operation, in process, with a real key.

The schema is read from `/v1/schema/` of the WSGI application itself, and the generated
requests go through that application (no server, no network), on the test database. A
workspace and an API key are made for the run, so the key authenticates and the webhook's
`workspace_id` names a real workspace: the success paths run, not only 401 and 404.

Checked on every answer: no 5xx, a documented status code, a documented content type, a body
and headers that match the schema — plus schemathesis' other default checks.
"""

import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from openapi_schema_validator import OAS30Validator
from schemathesis import Config
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from hushmetrics.wsgi import application
from leads.tests.factories import LeadFactory
from workspaces.tests.factories import ApiKeyFactory, ProfileFactory, WorkspaceFactory

WORKSPACE_ID = "5a0d9c1e-7b3f-4e2a-9c8d-1f2e3a4b5c6d"
PROFILE_ID = "7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
# A lead of the run's workspace, so GET/PATCH/DELETE /v1/leads/{lead_id} reach a real lead.
LEAD_ID = "3e5a7c9b-1d2f-4a6b-8c0d-2e4f6a8b0c1d"
# A generous quota: this run measures behaviour, not throttling (429 stays documented).
UNTHROTTLED = "100000/m"


@pytest.fixture
def _wsgi_in_test_transaction():
    """Django's WSGI handler closes the connection around each request; inside the test's
    transaction that would end it. Django's own test client disconnects the same handler."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# Loaded once, at collection, from the application itself (the schema view needs no database).
schema = schemathesis.openapi.from_wsgi(
    "/v1/schema/?format=json",
    application,
    config=Config.from_dict(
        {
            "base-url": "http://localhost",
            "parameters": {"workspace_id": WORKSPACE_ID, "lead_id": LEAD_ID},
            # Bounded (~20 s for the eight operations); no example database in the work tree.
            "generation": {"max-examples": 25, "database": "none"},
        }
    ),
)


@schema.hook("map_body")
def _create_lead_in_the_run_workspace(context, body):
    """create-lead names its workspace (and creator) in the body: a generated uuid there is
    replaced by the run's own, so a valid body creates a lead instead of meeting a 404. Any
    other value (a wrong type, a malformed uuid) is left for the negative cases."""
    if not isinstance(body, dict):
        return body
    if context.operation.path == "/v1/leads/{lead_id}":
        # A PATCH's setter is a profile of the workspace (another id is a 400 by design).
        fields: tuple[tuple[str, str], ...] = (("setter", PROFILE_ID),)
    elif context.operation.path == "/v1/create-lead":
        fields = (("workspace_id", WORKSPACE_ID), ("created_by", PROFILE_ID))
    else:
        return body
    for field, run_id in fields:
        if _is_uuid(body.get(field)):
            body = {**body, field: run_id}
    return body


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


@pytest.fixture
def run_key(settings, _wsgi_in_test_transaction) -> str:
    """The plaintext of a real key of the run's workspace, with throttling out of the way."""
    settings.RATE_LIMIT_OPTIN = UNTHROTTLED
    settings.RATE_LIMIT_CREATE_LEAD = UNTHROTTLED
    settings.RATE_LIMIT_WEBHOOK = UNTHROTTLED
    settings.RATE_LIMIT_WEBHOOK_WORKSPACE = UNTHROTTLED
    settings.RATE_LIMIT_AUTH_FAILURES = UNTHROTTLED
    settings.RATE_LIMIT_READ = UNTHROTTLED
    workspace = WorkspaceFactory(id=WORKSPACE_ID)
    ProfileFactory(id=PROFILE_ID, workspace=workspace)
    LeadFactory(id=LEAD_ID, workspace=workspace)
    return ApiKeyFactory(
        workspace=workspace, scopes=["ingest", "leads:read", "leads:write"]
    ).plaintext


def _as_read(value: Any) -> Any:
    """A JSON body as the strict serializers read it: NULs removed (create-lead strips them,
    PostgreSQL cannot store them) and every string trimmed, as DRF's CharField does."""
    if isinstance(value, str):
        return value.replace("\x00", "").strip()
    if isinstance(value, dict):
        return {key: _as_read(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_read(item) for item in value]
    return value


def negative_data_rejection_as_read(ctx, response, case):
    """`negative_data_rejection`, except for a body that is outside the schema only by the
    surrounding whitespace or NULs the server removes before it checks lengths: trimming
    is not the truncation SPEC B forbids, and what is stored fits the schema."""
    raw = case.operation.schema.raw_schema
    body = raw["paths"][case.operation.path]["post"]["requestBody"]["content"]
    schema = {**body["application/json"]["schema"], "components": raw["components"]}
    if isinstance(case.body, dict) and OAS30Validator(schema).is_valid(_as_read(case.body)):
        return None
    return negative_data_rejection(ctx, response, case)


def negative_data_rejection_as_sent(ctx, response, case):
    """`negative_data_rejection`, except for a query whose schema-violating part never
    reaches the server: a generated parameter that the HTTP client drops when it encodes the
    URL (a null value) leaves a valid query, rightly answered 200."""
    sent = parse_qs(urlsplit(response.request.url).query, keep_blank_values=True)
    if set(case.query or {}) != set(sent):
        return None
    return negative_data_rejection(ctx, response, case)


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _checks_for(case) -> dict[str, list]:
    """Checks that cannot hold for this case, each for a reason the SPEC gives, and stand-ins."""
    path = case.operation.path
    if path in ("/v1/create-lead", "/api/opt-in/submit"):
        excluded, added = [negative_data_rejection], [negative_data_rejection_as_read]
        if path == "/api/opt-in/submit":
            # `positive_data_acceptance` expects no 400 for a schema-valid body. SPEC B wants
            # `phone_e164` valid *for `phone_country`* and a deliverable email address, which
            # OpenAPI 3.0 cannot state, so a schema-valid opt-in can rightly be a 400.
            excluded.append(positive_data_acceptance)
        return {"excluded_checks": excluded, "additional_checks": added}
    if path == "/v1/webhook/{workspace_id}":
        # `negative_data_rejection` expects a 4xx for a body outside the schema. A form
        # carries only strings, so a "number" or "object" field reaches the server as a
        # valid string field, and SPEC A.2 takes such a submission rather than lose it.
        excluded = [negative_data_rejection]
        body = case.body if isinstance(case.body, dict) else {}
        parts = [item for value in body.values() for item in _as_list(value)]
        if all(str(key).startswith("_") for key in body) or (
            "multipart" in str(case.media_type) and "" in parts
        ):
            # `positive_data_acceptance` expects no 400 for a schema-valid body, but:
            # - fields that start with `_` are control fields, and a body of nothing else
            #   has no fields (A.2: 400); OpenAPI 3.0 cannot constrain property names;
            # - werkzeug's test client (the in-process transport) encodes an empty multipart
            #   field without the CRLF before the next boundary, and Django drops that part;
            #   a browser's or curl's encoding of the same form is taken (201).
            excluded.append(positive_data_acceptance)
        return {"excluded_checks": excluded}
    if path == "/v1/leads":
        checks: dict[str, list] = {
            "excluded_checks": [negative_data_rejection],
            "additional_checks": [negative_data_rejection_as_sent],
        }
        if "cursor" in (case.query or {}):
            # A cursor is opaque: only one this service signed for the same query is valid,
            # and OpenAPI cannot say which strings those are: a schema-valid one may be a 400.
            checks["excluded_checks"].append(positive_data_acceptance)
        return checks
    return {}


@pytest.mark.django_db
@schema.parametrize()
# One workspace and key for all the examples of an operation, as a real client has: what they
# write accumulates in the test's transaction (retries and repeats are part of the contract).
# No deadline: each example is an HTTP request through the app, bounded by max-examples.
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_conforms_to_the_schema(case, run_key):
    # Sent with every request; schemathesis' auth checks also replay without it and with a
    # wrong one, and expect the 401 where the schema requires a key.
    case.call_and_validate(headers={"x-api-key": run_key}, **_checks_for(case))


def test_the_write_operations_still_document_throttling():
    """The run lifts the quotas; the contract keeps the 429 (with Retry-After) documented."""
    for path in ("/v1/create-lead", "/v1/webhook/{workspace_id}", "/api/opt-in/submit"):
        assert "429" in schema.raw_schema["paths"][path]["post"]["responses"]
    for method in ("get", "patch", "delete"):
        assert "429" in schema.raw_schema["paths"]["/v1/leads/{lead_id}"][method]["responses"]
    assert "429" in schema.raw_schema["paths"]["/v1/leads"]["get"]["responses"]


def test_the_run_covers_the_lead_read_and_update_operations():
    operations = {
        (result.ok().path, result.ok().method.lower())
        for result in schema.get_all_operations()
        if isinstance(result, Ok)  # an Err is a schema error: schemathesis' own test reports it
    }
    assert {
        ("/v1/leads", "get"),
        ("/v1/leads/{lead_id}", "get"),
        ("/v1/leads/{lead_id}", "patch"),
        ("/v1/leads/{lead_id}", "delete"),
    } <= operations
