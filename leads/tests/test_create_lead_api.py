"""POST /v1/create-lead (A.1, A.4)."""

import json
import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from hushmetrics.tests.caches import unreachable_redis
from leads.models import Lead
from workspaces.models import ApiKey
from workspaces.tests.factories import ApiKeyFactory, ProfileFactory, WorkspaceFactory

URL = "/v1/create-lead"
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
INVALID_KEY = {"message": "Invalid or revoked API key"}

pytestmark = pytest.mark.django_db


def post(client, body, **headers):
    return client.post(URL, json.dumps(body), content_type="application/json", **headers)


def documented_body(workspace) -> dict:
    return {
        "workspace_id": str(workspace.id),
        "name": "Jane Doe",
        "email": "jane@example.com",
        "phone": "+1234567890",
        "source": "website",
        "value": 500,
        "utm": {"utm_source": "google", "utm_medium": "cpc"},
        "extra_data": {"company": "Acme Inc", "role": "CTO"},
        "page_url": "https://example.com/pricing",
    }


def test_the_documented_request_returns_the_documented_lead(api_client, workspace):
    response = post(api_client, documented_body(workspace))

    assert response.status_code == 201
    body = response.json()
    lead = Lead.objects.get()
    assert list(body) == [
        "id",
        "workspace_id",
        "name",
        "email",
        "phone",
        "status",
        "source",
        "value",
        "created_by",
        "utm",
        "extra_data",
        "page_url",
        "created_at",
        "updated_at",
    ]
    assert body == {
        "id": str(lead.id),
        "workspace_id": str(workspace.id),
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
        "created_at": lead.created_at.replace(microsecond=0).isoformat(),
        "updated_at": lead.updated_at.replace(microsecond=0).isoformat(),
    }
    assert ISO_UTC.match(body["created_at"]) and ISO_UTC.match(body["updated_at"])
    # The raw text: a JSON number, not "500.00" nor 500.0.
    assert b'"value":500,' in response.content
    assert lead.value == Decimal("500.00")
    assert (lead.workspace_id, lead.is_spam, lead.submission_id) == (workspace.id, False, None)


def test_defaults_apply_when_only_the_workspace_is_given(api_client, workspace):
    response = post(api_client, {"workspace_id": str(workspace.id)})

    assert response.status_code == 201
    lead = Lead.objects.get()
    assert {key: value for key, value in response.json().items() if key not in ("id",)} == {
        "workspace_id": str(workspace.id),
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
        "created_at": lead.created_at.replace(microsecond=0).isoformat(),
        "updated_at": lead.updated_at.replace(microsecond=0).isoformat(),
    }


def test_cents_survive_as_a_json_number(api_client, workspace):
    response = post(api_client, {"workspace_id": str(workspace.id), "value": 499.99})

    assert response.status_code == 201
    assert response.json()["value"] == 499.99
    assert b'"value":499.99,' in response.content
    assert Lead.objects.get().value == Decimal("499.99")


def test_status_and_created_by_of_the_same_workspace_are_stored(api_client, workspace):
    profile = ProfileFactory(workspace=workspace)
    body = {"workspace_id": str(workspace.id), "status": "won", "created_by": str(profile.id)}

    response = post(api_client, body)

    assert response.status_code == 201
    assert response.json()["status"] == "won"
    assert response.json()["created_by"] == str(profile.id)
    assert Lead.objects.get().created_by == profile


def test_a_trailing_slash_works_without_a_redirect(api_client, workspace):
    response = api_client.post(
        URL + "/", json.dumps({"workspace_id": str(workspace.id)}), content_type="application/json"
    )
    assert response.status_code == 201
    assert Lead.objects.count() == 1


def test_nul_characters_are_stripped_not_a_crash(api_client, workspace):
    body = {"workspace_id": str(workspace.id), "name": "Ja\x00ne", "extra_data": {"k\x00": "v\x00"}}

    response = post(api_client, body)

    assert response.status_code == 201
    assert (response.json()["name"], response.json()["extra_data"]) == ("Jane", {"k": "v"})


# --- 400: strict validation, nothing written --------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"workspace_id": None}, "workspace_id", "This field may not be null."),
        ({"workspace_id": "nope"}, "workspace_id", "Must be a valid UUID."),
        ({"workspace_id": 12}, "workspace_id", "Must be a valid UUID."),
        ({"value": "500"}, "value", "A valid number is required."),
        ({"value": True}, "value", "A valid number is required."),
        ({"value": -1}, "value", "Ensure this value is greater than or equal to 0."),
        ({"value": 1.234}, "value", "Ensure that there are no more than 2 decimal places."),
        ({"value": 1e13}, "value", "Ensure that there are no more than 14 digits in total."),
        ({"name": 42}, "name", "Not a valid string."),
        ({"email": ["a@example.com"]}, "email", "Not a valid string."),
        ({"name": None}, "name", "This field may not be null."),
        ({"name": "x" * 301}, "name", "Ensure this field has no more than 300 characters."),
        ({"utm": "google"}, "utm", 'Expected a dictionary of items but got type "str".'),
        ({"extra_data": [1]}, "extra_data", 'Expected a dictionary of items but got type "list".'),
        ({"page_url": 5}, "page_url", "Not a valid string."),
        ({"created_by": "x"}, "created_by", "Must be a valid UUID."),
        ({"colour": "red"}, "colour", "Unknown field."),
    ],
)
def test_an_invalid_field_is_a_400_naming_it(api_client, workspace, change, field, message):
    body = {**documented_body(workspace), **change}

    response = post(api_client, body)

    assert response.status_code == 400
    assert response.json() == {"message": f"{field}: {message}", "errors": {field: [message]}}
    assert Lead.objects.count() == 0


STATUS_ONE_OF = "status must be one of: contact, qualified, proposal, negotiation, won, lost"
SOURCE_ONE_OF = "source must be one of: website, referral, social, ad, email, cold_call, other"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"status": "hot"}, "status", STATUS_ONE_OF),
        ({"status": "Won"}, "status", STATUS_ONE_OF),
        ({"status": 1}, "status", STATUS_ONE_OF),
        ({"source": "tv"}, "source", SOURCE_ONE_OF),
        ({"source": 1}, "source", SOURCE_ONE_OF),
        ({"source": ["website"]}, "source", SOURCE_ONE_OF),
    ],
)
def test_an_unknown_enum_value_is_a_400_listing_the_allowed_values(
    api_client, workspace, change, field, message
):
    response = post(api_client, {**documented_body(workspace), **change})

    assert response.status_code == 400
    assert response.json() == {"message": message, "errors": {field: [message]}}
    assert Lead.objects.count() == 0


def test_a_missing_workspace_id_is_a_400(api_client, workspace):
    response = post(api_client, {"name": "Jane"})

    assert response.status_code == 400
    assert response.json() == {
        "message": "workspace_id: This field is required.",
        "errors": {"workspace_id": ["This field is required."]},
    }
    assert Lead.objects.count() == 0


def test_an_unknown_field_is_reported_with_every_other_error(api_client, workspace):
    response = post(api_client, {"colour": "red", "status": "hot", "name": 42})

    assert response.status_code == 400
    assert response.json() == {
        "message": "workspace_id: This field is required.",
        "errors": {
            "workspace_id": ["This field is required."],
            "name": ["Not a valid string."],
            "status": [STATUS_ONE_OF],
            "colour": ["Unknown field."],
        },
    }
    assert Lead.objects.count() == 0


def test_a_json_array_body_is_a_400(api_client, workspace):
    response = api_client.post(URL, "[]", content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "message": "Invalid data. Expected a dictionary, but got list.",
        "errors": {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]},
    }
    assert Lead.objects.count() == 0


def test_a_number_out_of_float_range_is_a_400_or_kept_as_text(api_client, workspace):
    too_big = f'{{"workspace_id": "{workspace.id}", "value": 1e400}}'
    response = api_client.post(URL, too_big, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "message": "value: A valid number is required.",
        "errors": {"value": ["A valid number is required."]},
    }
    assert Lead.objects.count() == 0

    in_extra = f'{{"workspace_id": "{workspace.id}", "extra_data": {{"b": -1e400}}}}'
    response = api_client.post(URL, in_extra, content_type="application/json")
    assert response.status_code == 201
    assert Lead.objects.get().extra_data == {"b": "-1e400"}


def test_malformed_json_is_a_400(api_client, workspace):
    response = api_client.post(URL, '{"workspace_id": ', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["message"].startswith("JSON parse error")
    assert list(response.json()) == ["message"]
    assert Lead.objects.count() == 0


def test_deeply_nested_json_is_a_400_not_a_500(api_client, workspace):
    body = '{"workspace_id": "x", "extra_data": ' + "[" * 100_000 + "]" * 100_000 + "}"

    response = api_client.post(URL, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"message": "JSON parse error - nested too deeply"}
    assert Lead.objects.count() == 0


def test_created_by_of_another_workspace_is_a_400(api_client, workspace):
    stranger = ProfileFactory(workspace=WorkspaceFactory())
    body = {"workspace_id": str(workspace.id), "created_by": str(stranger.id)}

    response = post(api_client, body)

    assert response.status_code == 400
    assert response.json() == {
        "message": "created_by: No profile with this id in the workspace.",
        "errors": {"created_by": ["No profile with this id in the workspace."]},
    }
    assert Lead.objects.count() == 0


def test_a_form_body_is_a_415_that_says_to_send_json(api_client, workspace):
    response = api_client.post(
        URL, f"workspace_id={workspace.id}", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 415
    assert response.json() == {
        "message": 'Unsupported media type "application/x-www-form-urlencoded" in request. '
        "Send the body as application/json."
    }
    assert Lead.objects.count() == 0


# --- 404 ---------------------------------------------------------------------------------------


def test_an_unknown_workspace_is_a_404(api_client, db):
    response = post(api_client, {"workspace_id": str(uuid.uuid4()), "name": "Jane"})

    assert response.status_code == 404
    assert response.json() == {"message": "Workspace not found"}
    assert Lead.objects.count() == 0


# --- API keys (A.4) ------------------------------------------------------------------------------


def test_a_valid_key_of_the_workspace_is_accepted_and_stamped(api_client, workspace, api_key):
    response = post(
        api_client, {"workspace_id": str(workspace.id)}, HTTP_X_API_KEY=api_key.plaintext
    )

    assert response.status_code == 201
    assert Lead.objects.count() == 1
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at is not None


def test_a_refused_request_leaves_the_key_unstamped(api_client, workspace, api_key):
    other = WorkspaceFactory()
    another_workspace = post(
        api_client, {"workspace_id": str(other.id)}, HTTP_X_API_KEY=api_key.plaintext
    )
    bad_body = post(
        api_client,
        {"workspace_id": str(workspace.id), "status": "hot"},
        HTTP_X_API_KEY=api_key.plaintext,
    )
    webhook_elsewhere = api_client.post(
        f"/v1/webhook/{other.id}", {"name": "Jane"}, format="json", HTTP_X_API_KEY=api_key.plaintext
    )

    assert another_workspace.status_code == 401
    assert another_workspace.json() == INVALID_KEY
    assert bad_body.status_code == 400
    assert webhook_elsewhere.status_code == 401
    assert Lead.objects.count() == 0
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at is None


def test_a_webhook_redirect_is_an_accepted_request_and_stamps_the_key(
    api_client, workspace, api_key
):
    response = api_client.post(
        f"/v1/webhook/{workspace.id}",
        {"name": "Jane", "_next": "https://example.com/thanks"},
        HTTP_ACCEPT="text/html",
        HTTP_REFERER="https://example.com/contact",
        HTTP_X_API_KEY=api_key.plaintext,
    )

    assert response.status_code == 303
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at is not None


def test_a_bearer_key_is_accepted(api_client, workspace, api_key):
    response = post(
        api_client,
        {"workspace_id": str(workspace.id)},
        HTTP_AUTHORIZATION=f"Bearer {api_key.plaintext}",
    )
    assert response.status_code == 201
    assert Lead.objects.count() == 1


@pytest.mark.parametrize(
    "make_key",
    [
        lambda key: "sk_live_" + "x" * 40,
        lambda key: "",
        lambda key: key.plaintext[:-1] + ("A" if key.plaintext[-1] != "A" else "B"),
    ],
    ids=["unknown", "empty", "wrong-secret"],
)
def test_a_bad_key_is_a_401(api_client, workspace, api_key, make_key):
    response = post(
        api_client, {"workspace_id": str(workspace.id)}, HTTP_X_API_KEY=make_key(api_key)
    )

    assert response.status_code == 401
    assert response.json() == INVALID_KEY
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert Lead.objects.count() == 0


def test_a_revoked_or_expired_key_is_a_401(api_client, workspace):
    revoked = ApiKeyFactory(workspace=workspace)
    ApiKey.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    expired = ApiKeyFactory(workspace=workspace, expires_in_days=1)
    ApiKey.objects.filter(pk=expired.pk).update(
        created_at=timezone.now() - timedelta(days=2),
        expires_at=timezone.now() - timedelta(seconds=1),
    )

    for key in (revoked, expired):
        response = post(
            api_client, {"workspace_id": str(workspace.id)}, HTTP_X_API_KEY=key.plaintext
        )
        assert response.status_code == 401
        assert response.json() == INVALID_KEY
    assert Lead.objects.count() == 0


def test_a_key_of_another_workspace_is_a_401(api_client, workspace):
    foreign = ApiKeyFactory(workspace=WorkspaceFactory())

    response = post(
        api_client, {"workspace_id": str(workspace.id)}, HTTP_X_API_KEY=foreign.plaintext
    )

    assert response.status_code == 401
    assert response.json() == INVALID_KEY
    assert Lead.objects.count() == 0


def test_a_workspace_that_requires_a_key_rejects_a_keyless_request(api_client):
    workspace = WorkspaceFactory(require_api_key=True)

    response = post(api_client, {"workspace_id": str(workspace.id)})

    assert response.status_code == 401
    assert response.json() == {"message": "An API key is required for this workspace"}
    assert Lead.objects.count() == 0


def test_a_workspace_that_requires_a_key_accepts_its_key(api_client):
    workspace = WorkspaceFactory(require_api_key=True)
    key = ApiKeyFactory(workspace=workspace)

    response = post(api_client, {"workspace_id": str(workspace.id)}, HTTP_X_API_KEY=key.plaintext)

    assert response.status_code == 201
    assert Lead.objects.get().workspace == workspace


# --- query budget ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_create_lead_runs_two_queries(api_client, django_assert_num_queries):
    # transaction=True: no test-wrapping transaction, so no savepoints are counted, as in
    # production (autocommit, no ATOMIC_REQUESTS).
    workspace = WorkspaceFactory()
    # 1. SELECT the workspace; 2. INSERT the lead.
    with django_assert_num_queries(2):
        response = post(api_client, documented_body(workspace))
    assert response.status_code == 201
    # The worker remembers the workspace for WORKSPACE_CACHE_SECONDS: only the INSERT.
    with django_assert_num_queries(1):
        response = post(api_client, documented_body(workspace))
    assert response.status_code == 201


@pytest.mark.django_db(transaction=True)
def test_create_lead_with_created_by_runs_three_queries(api_client, django_assert_num_queries):
    workspace = WorkspaceFactory()
    profile = ProfileFactory(workspace=workspace)
    body = {**documented_body(workspace), "created_by": str(profile.id)}
    # 1. SELECT the workspace; 2. SELECT the profile within it; 3. INSERT the lead.
    with django_assert_num_queries(3):
        response = post(api_client, body)
    assert response.status_code == 201


@pytest.mark.django_db(transaction=True)
def test_create_lead_with_a_key_adds_the_key_lookup(api_client, django_assert_num_queries):
    workspace = WorkspaceFactory()
    key = ApiKeyFactory(workspace=workspace)
    # 1. SELECT the key; 2. its workspace (which the view then uses; remembered by the
    # process); 3. UPDATE last_used_at (at most once a minute per key); 4. INSERT the lead.
    with django_assert_num_queries(4):
        response = post(api_client, documented_body(workspace), HTTP_X_API_KEY=key.plaintext)
    assert response.status_code == 201
    # Within the minute the stamp is skipped and the workspace remembered: key, insert.
    with django_assert_num_queries(2):
        response = post(api_client, documented_body(workspace), HTTP_X_API_KEY=key.plaintext)
    assert response.status_code == 201


def test_cache_down_lets_leads_through_on_both_endpoints(api_client, workspace, caplog):
    unreachable = unreachable_redis()
    with override_settings(
        CACHES=unreachable, RATE_LIMIT_CREATE_LEAD="1/m", RATE_LIMIT_WEBHOOK="1/m"
    ):
        statuses = [post(api_client, documented_body(workspace)).status_code for _ in range(2)]
        statuses += [
            api_client.post(
                f"/v1/webhook/{workspace.id}", {"name": f"W{n}"}, format="json"
            ).status_code
            for n in range(2)
        ]

    assert statuses == [201, 201, 201, 201]
    assert Lead.objects.filter(workspace=workspace).count() == 4
    assert "rate limit cache unavailable; letting create-lead through" in caplog.text
    assert "rate limit cache unavailable; letting webhook through" in caplog.text
