"""The database itself keeps the data valid: raw writes that bypass Django's validation fail."""

import uuid
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from leads.models import Lead
from leads.tests.factories import LeadFactory
from optin.models import OptIn
from optin.tests.factories import OptInFactory
from workspaces.models import ApiKey
from workspaces.tests.factories import ProfileFactory

pytestmark = pytest.mark.django_db


def _raw_update(table: str, column: str, value: Any, pk: uuid.UUID) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk.hex])  # noqa: S608


def test_database_rejects_unknown_lead_status(lead):
    with pytest.raises(IntegrityError):
        _raw_update("leads_lead", "status", "archived", lead.pk)
    lead.refresh_from_db()
    assert lead.status == "contact"


def test_database_rejects_unknown_lead_source(lead):
    with pytest.raises(IntegrityError):
        _raw_update("leads_lead", "source", "tiktok", lead.pk)


def test_database_rejects_negative_lead_value(lead):
    with pytest.raises(IntegrityError):
        _raw_update("leads_lead", "value", -1, lead.pk)


def test_database_rejects_unknown_optin_source():
    opt_in = OptInFactory()
    with pytest.raises(IntegrityError):
        _raw_update("optin_optin", "source", "landing_page", opt_in.pk)


def test_database_rejects_bulk_created_bad_status(workspace):
    # bulk_create skips model validation entirely: only the CHECK constraint stands in the way.
    with pytest.raises(IntegrityError), transaction.atomic():
        Lead.objects.bulk_create([Lead(workspace=workspace, status="archived")])
    assert Lead.objects.count() == 0


def test_database_rejects_duplicate_clerk_id_in_a_workspace(workspace):
    ProfileFactory(workspace=workspace, clerk_user_id="user_2abc")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProfileFactory(workspace=workspace, clerk_user_id="user_2abc")


def test_same_clerk_id_is_allowed_in_another_workspace(workspace):
    ProfileFactory(workspace=workspace, clerk_user_id="user_2abc")
    other = ProfileFactory(clerk_user_id="user_2abc")
    assert other.workspace_id != workspace.id


def test_database_rejects_duplicate_external_reference():
    first = OptInFactory(external_reference="typeform-abc123")
    with pytest.raises(IntegrityError), transaction.atomic():
        OptIn.objects.bulk_create(
            [
                OptIn(
                    workspace=first.workspace,
                    lead=first.lead,
                    source=first.source,
                    external_reference="typeform-abc123",
                    first_name="Again",
                    email=first.email,
                )
            ]
        )
    assert OptIn.objects.count() == 1


def test_external_reference_is_unique_per_source_and_only_where_set():
    first = OptInFactory(external_reference="ref-1")
    # Same reference under another source is a different submission.
    OptInFactory(lead=first.lead, source=OptIn.Source.TYPEFORM, external_reference="ref-1")
    # Any number of opt-ins without a reference.
    OptInFactory(lead=first.lead, external_reference=None)
    OptInFactory(lead=first.lead, external_reference=None)
    assert OptIn.objects.filter(workspace=first.workspace).count() == 4


def test_database_rejects_duplicate_webhook_submission_id(workspace):
    LeadFactory(workspace=workspace, submission_id="evt-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadFactory(workspace=workspace, submission_id="evt-1")
    LeadFactory(workspace=workspace, submission_id=None)
    LeadFactory(workspace=workspace, submission_id=None)
    assert Lead.objects.filter(workspace=workspace).count() == 3


def test_value_is_stored_as_exact_decimal(workspace):
    lead = LeadFactory(workspace=workspace, value="499.99")
    lead.refresh_from_db()
    assert str(lead.value) == "499.99"


def test_no_api_key_column_can_hold_a_plaintext_key(api_key):
    columns = {field.column for field in ApiKey._meta.concrete_fields}
    assert columns == {
        "id",
        "workspace_id",
        "name",
        "prefix",
        "secret_hash",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "scope_ingest",
        "scope_leads_read",
        "scope_leads_write",
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM workspaces_apikey")
        row = cursor.fetchone()
    assert all(api_key.plaintext not in str(value) for value in row)
    assert api_key.plaintext[8:16] == api_key.prefix
