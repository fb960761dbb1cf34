"""GET, PATCH and DELETE /v1/leads/{id} (SPEC §10)."""

import re
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from leads.models import Lead
from leads.tests.factories import LeadFactory
from optin.models import OptIn, QuestionAnswer
from optin.tests.factories import OptInFactory, QuestionAnswerFactory
from workspaces.tests.factories import ApiKeyFactory, ProfileFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

NOT_FOUND = {"message": "Lead not found"}


def client_with(workspace: Any, *scopes: str) -> APIClient:
    key = ApiKeyFactory(workspace=workspace, scopes=list(scopes))
    return APIClient(HTTP_X_API_KEY=key.plaintext)


@pytest.fixture
def reader(workspace) -> APIClient:
    return client_with(workspace, "leads:read")


@pytest.fixture
def writer(workspace) -> APIClient:
    return client_with(workspace, "leads:read", "leads:write")


@pytest.fixture
def foreign_lead() -> Lead:
    return LeadFactory(workspace=WorkspaceFactory(), name="Not Yours")


# --- GET -------------------------------------------------------------------------------------


def test_detail_has_the_lead_and_its_opt_ins_newest_first(reader, lead_with_history):
    response = reader.get(f"/v1/leads/{lead_with_history.id}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(lead_with_history.id)
    assert body["name"] == "Jane Doe" and body["is_spam"] is False
    newer, older = body["opt_ins"]
    assert (newer["source"], older["source"]) == ("TYPEFORM", "CALENDLY")
    assert newer["created_at"] > older["created_at"]
    assert [qa["position"] for qa in newer["questions_answers"]] == [1, 2, 3]
    assert newer["questions_answers"][0] == {
        "question": "Company size?",
        "answer": "answer 1",
        "position": 1,
    }
    assert newer["traffic"]["utm_source"] == "linkedin"
    assert older["traffic"]["utm_campaign"] == "spring-webinar"
    setter = OptIn.objects.get(pk=newer["id"]).setter_id
    assert newer["setter"] == str(setter) and older["setter"] is None
    # The opt-in object of the optin.created event (SPEC §9), key for key.
    assert list(newer) == [
        "id", "source", "external_reference", "provider_form_id", "provider_form_name",
        "first_name", "last_name", "email", "phone_e164", "phone_country", "traffic",
        "questions_answers", "setter", "is_new_lead", "created_at",
    ]  # fmt: skip
    assert set(newer["traffic"]) == {
        "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "referrer",
        "landing_page",
    }  # fmt: skip


def test_detail_of_a_lead_without_opt_ins(reader, lead):
    body = reader.get(f"/v1/leads/{lead.id}/").json()
    assert body["opt_ins"] == [] and body["email"] == lead.email


def test_detail_query_count(reader, lead_with_history, django_assert_num_queries):
    reader.get(f"/v1/leads/{lead_with_history.id}")  # stamps last_used_at
    # 1. the API key with its workspace; 2. the lead; 3. its opt-ins; 4. their answers
    # (one prefetch for all of them).
    with django_assert_num_queries(4):
        assert reader.get(f"/v1/leads/{lead_with_history.id}").status_code == 200


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_workspaces_lead_or_no_lead_is_a_404(writer, foreign_lead, method):
    for lead_id in (foreign_lead.id, uuid.uuid4(), "not-a-uuid", "1"):
        response = getattr(writer, method)(f"/v1/leads/{lead_id}", {}, format="json")
        assert (response.status_code, response.json()) == (404, NOT_FOUND), lead_id
    foreign_lead.refresh_from_db()
    assert foreign_lead.name == "Not Yours"


def test_detail_needs_a_key_with_leads_read(workspace, lead):
    assert APIClient().get(f"/v1/leads/{lead.id}").status_code == 401
    for scopes in (["ingest"], ["leads:write"]):
        response = client_with(workspace, *scopes).get(f"/v1/leads/{lead.id}")
        assert response.status_code == 403
        assert response.json() == {"message": "This API key lacks the leads:read scope"}


# --- PATCH -----------------------------------------------------------------------------------


def test_patch_changes_the_given_fields_and_returns_the_lead(writer, workspace, lead):
    setter = ProfileFactory(workspace=workspace)
    before = Lead.objects.get(pk=lead.pk)
    response = writer.patch(
        f"/v1/leads/{lead.id}",
        {
            "status": "qualified",
            "value": 1200.5,
            "setter": str(setter.id),
            "extra_data": {"note": "called back"},
            "name": "Jane Q. Doe",
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["value"], body["setter"], body["name"]) == (
        "qualified",
        1200.5,
        str(setter.id),
        "Jane Q. Doe",
    )
    assert body["extra_data"] == {"note": "called back"}
    stored = Lead.objects.get(pk=lead.pk)
    assert (stored.status, stored.value, stored.setter_id) == (
        "qualified",
        Decimal("1200.50"),
        setter.id,
    )
    assert stored.email == before.email and stored.phone == before.phone  # untouched
    assert stored.updated_at > before.updated_at


def test_patch_can_clear_the_setter_and_extra_data(writer, workspace):
    lead = LeadFactory(
        workspace=workspace, setter=ProfileFactory(workspace=workspace), extra_data={"a": 1}
    )
    body = writer.patch(
        f"/v1/leads/{lead.id}", {"setter": None, "extra_data": None}, format="json"
    ).json()
    assert (body["setter"], body["extra_data"]) == (None, None)
    lead.refresh_from_db()
    assert (lead.setter_id, lead.extra_data) == (None, None)


def test_extra_data_replaces_the_stored_object(writer, workspace):
    lead = LeadFactory(workspace=workspace, extra_data={"company": "Acme", "role": "CTO"})
    writer.patch(f"/v1/leads/{lead.id}", {"extra_data": {"role": "CEO"}}, format="json")
    lead.refresh_from_db()
    assert lead.extra_data == {"role": "CEO"}


def test_a_patch_that_changes_nothing_writes_nothing(writer, lead, django_assert_num_queries):
    writer.get(f"/v1/leads/{lead.id}")  # stamps last_used_at
    before = Lead.objects.get(pk=lead.pk).updated_at
    # 1. the key; 2. the lead; 3. SAVEPOINT (lead_edit's transaction, inside the test's);
    # 4. the lead again, locked (SELECT … FOR UPDATE on PostgreSQL); 5. RELEASE SAVEPOINT.
    # No UPDATE: nothing changed (and so, once events exist, no lead.updated).
    with django_assert_num_queries(5):
        response = writer.patch(
            f"/v1/leads/{lead.id}", {"name": lead.name, "status": lead.status}, format="json"
        )
    assert response.status_code == 200
    assert Lead.objects.get(pk=lead.pk).updated_at == before
    assert writer.patch(f"/v1/leads/{lead.id}", {}, format="json").status_code == 200
    assert Lead.objects.get(pk=lead.pk).updated_at == before


def test_lead_edit_writes_only_the_fields_that_changed(workspace, lead):
    from leads.services import lead_edit

    setter = ProfileFactory(workspace=workspace)
    data = {"name": lead.name, "status": "won", "value": lead.value, "setter": setter}
    with CaptureQueriesContext(connection) as queries:
        edited = lead_edit(lead=lead, data=data)
    (update,) = [
        query["sql"] for query in queries.captured_queries if query["sql"].startswith("UPDATE")
    ]
    columns = set(re.findall(r'"(\w+)" = ', update.split("WHERE")[0]))
    assert columns == {"status", "setter_id", "updated_at"}
    assert (edited.status, edited.setter_id) == ("won", setter.id)
    with CaptureQueriesContext(connection) as again:
        lead_edit(lead=lead, data={"status": "won", "setter": setter})
    assert not [query for query in again.captured_queries if query["sql"].startswith("UPDATE")]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"status": "closed"}, "status", "status must be one of: contact, qualified"),
        ({"source": "tiktok"}, "source", "source must be one of"),
        ({"status": 1}, "status", "status must be one of"),
        ({"value": -1}, "value", "greater than or equal to 0"),
        ({"value": -0.01}, "value", "greater than or equal to 0"),
        ({"value": "500"}, "value", "A valid number is required."),
        ({"value": True}, "value", "A valid number is required."),
        ({"value": 1.001}, "value", "decimal places"),
        ({"name": 42}, "name", "Not a valid string."),
        ({"email": ["a@b.co"]}, "email", "Not a valid string."),
        ({"name": "x" * 301}, "name", "no more than 300"),
        ({"setter": "nope"}, "setter", "Must be a valid UUID."),
        ({"setter": 12}, "setter", "Must be a valid UUID."),
        ({"extra_data": "text"}, "extra_data", "Expected a dictionary"),
        ({"extra_data": [1]}, "extra_data", "Expected a dictionary"),
        ({"workspace_id": str(uuid.uuid4())}, "workspace_id", "Unknown field."),
        ({"is_spam": True}, "is_spam", "Unknown field."),
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at", "Unknown field."),
        ({"utm": {}}, "utm", "Unknown field."),
    ],
)
def test_patch_bad_input_is_a_400_naming_the_field(writer, lead, body, field, message):
    before = Lead.objects.get(pk=lead.pk)
    response = writer.patch(f"/v1/leads/{lead.id}", body, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert field in errors and message in errors[field][0]
    after = Lead.objects.get(pk=lead.pk)
    assert (after.updated_at, after.status, after.value) == (
        before.updated_at,
        before.status,
        before.value,
    )


def test_patch_names_every_bad_field_at_once_and_changes_nothing(writer, lead):
    response = writer.patch(
        f"/v1/leads/{lead.id}", {"status": "won", "value": -5, "colour": "red"}, format="json"
    )
    assert set(response.json()["errors"]) == {"value", "colour"}
    assert Lead.objects.get(pk=lead.pk).status == "contact"


def test_a_setter_of_another_workspace_is_a_400(writer, lead):
    stranger = ProfileFactory(workspace=WorkspaceFactory())
    for setter in (stranger.id, uuid.uuid4()):
        response = writer.patch(f"/v1/leads/{lead.id}", {"setter": str(setter)}, format="json")
        assert response.status_code == 400
        assert response.json()["errors"] == {
            "setter": ["No profile with this id in the workspace."]
        }
    assert Lead.objects.get(pk=lead.pk).setter_id is None


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("[]", "application/json", 400),
        ('"text"', "application/json", 400),
        ("{bad json", "application/json", 400),
        ("status=won", "application/x-www-form-urlencoded", 415),
    ],
)
def test_patch_takes_a_json_object_only(writer, lead, body, content_type, status):
    response = writer.generic("PATCH", f"/v1/leads/{lead.id}", body, content_type=content_type)
    assert response.status_code == status
    assert "message" in response.json()


def test_patch_with_nul_characters_is_stored_without_them(writer, lead):
    response = writer.patch(
        f"/v1/leads/{lead.id}",
        {"name": "Ja\x00ne", "extra_data": {"k\x00": "v\x00"}},
        format="json",
    )
    assert response.status_code == 200
    lead.refresh_from_db()
    assert (lead.name, lead.extra_data) == ("Jane", {"k": "v"})


def test_a_read_only_key_cannot_patch_or_delete(reader, lead):
    for method in ("patch", "delete"):
        response = getattr(reader, method)(f"/v1/leads/{lead.id}", {"status": "won"}, format="json")
        assert response.status_code == 403
        assert response.json() == {"message": "This API key lacks the leads:write scope"}
    assert Lead.objects.get(pk=lead.pk).status == "contact"


def test_a_write_only_key_can_patch_but_not_read(workspace, lead):
    client = client_with(workspace, "leads:write")
    assert client.patch(f"/v1/leads/{lead.id}", {"status": "won"}, format="json").status_code == 200
    assert client.get(f"/v1/leads/{lead.id}").status_code == 403


# --- DELETE ----------------------------------------------------------------------------------


def test_delete_erases_the_lead_with_its_opt_ins_and_answers(writer, workspace, lead_with_history):
    other = LeadFactory(workspace=workspace)
    other_optin = OptInFactory(lead=other)
    QuestionAnswerFactory(opt_in=other_optin, position=0)
    assert QuestionAnswer.objects.count() == 5
    response = writer.delete(f"/v1/leads/{lead_with_history.id}")
    assert (response.status_code, response.content) == (204, b"")
    assert not Lead.objects.filter(pk=lead_with_history.pk).exists()
    assert not OptIn.objects.filter(lead_id=lead_with_history.pk).exists()
    assert list(QuestionAnswer.objects.all()) == list(other_optin.answers.all())
    assert Lead.objects.filter(pk=other.pk).exists()
    again = writer.delete(f"/v1/leads/{lead_with_history.id}")
    assert (again.status_code, again.json()) == (404, NOT_FOUND)


def test_lead_erase_reports_what_it_removed(lead_with_history):
    from leads.services import lead_erase

    assert lead_erase(lead=lead_with_history) == {
        "leads.Lead": 1,
        "optin.OptIn": 2,
        "optin.QuestionAnswer": 4,
    }


def test_rate_limit_read_counts_writes_too(workspace, lead, settings):
    settings.RATE_LIMIT_READ = "2/h"
    client = client_with(workspace, "leads:read", "leads:write")
    assert client.get(f"/v1/leads/{lead.id}").status_code == 200
    assert client.patch(f"/v1/leads/{lead.id}", {"name": "x"}, format="json").status_code == 200
    assert client.delete(f"/v1/leads/{lead.id}").status_code == 429
    assert Lead.objects.filter(pk=lead.pk).exists()
