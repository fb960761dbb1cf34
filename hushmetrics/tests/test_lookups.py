"""The hot lookups written once (`row_where`): the same row, as the same instance, as the ORM's
query would give, on either database."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Value
from django.db.models.functions import Lower
from django.utils import timezone

from hushmetrics.lookups import db_value, row_where
from leads.models import Lead
from leads.selectors import lead_get_for_email
from leads.tests.factories import LeadFactory
from workspaces.models import ApiKey, Workspace
from workspaces.selectors import api_key_get_by_prefix, workspace_cache_forget
from workspaces.services import api_key_verify
from workspaces.tests.factories import ApiKeyFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def _orm_lead_for_email(workspace: Workspace, email: str) -> Lead | None:
    """The query `lead_get_for_email` was, through the ORM."""
    return (
        Lead.objects.alias(email_lower=Lower("email"))
        .filter(workspace=workspace, email_lower=Lower(Value(email)))
        .order_by("created_at", "id")
        .first()
    )


def test_the_lead_for_an_email_is_the_orms_earliest_in_any_letter_case(workspace):
    other = WorkspaceFactory()
    now = timezone.now()
    others = LeadFactory(workspace=other, email="ana@example.com")  # never this workspace's
    later = LeadFactory(workspace=workspace, email="ANA@example.com")
    earliest = LeadFactory(workspace=workspace, email="Ana@Example.com")
    Lead.objects.filter(pk=later.pk).update(created_at=now)
    Lead.objects.filter(pk=earliest.pk).update(created_at=now - timedelta(days=1))
    # Two created at the same moment: the smaller id first, as the ORM orders them.
    tied = [LeadFactory(workspace=workspace, email="tie@example.com") for _ in range(2)]
    Lead.objects.filter(pk__in=[lead.pk for lead in tied]).update(created_at=now)

    for email in ("ana@example.com", "ANA@EXAMPLE.COM", "tie@example.com", "nobody@example.com"):
        found = lead_get_for_email(workspace=workspace, email=email)
        assert found == _orm_lead_for_email(workspace, email), email
    assert lead_get_for_email(workspace=workspace, email="aNa@example.com") == earliest
    assert lead_get_for_email(workspace=workspace, email="tie@example.com") == min(
        tied, key=lambda lead: lead.pk
    )
    assert lead_get_for_email(workspace=workspace, email="nobody@example.com") is None
    assert lead_get_for_email(workspace=other, email="ANA@example.com") == others


def test_the_row_comes_back_as_the_orm_makes_it_every_field_converted(workspace):
    stored = LeadFactory(
        workspace=workspace,
        email="ana@example.com",
        value=Decimal("1500.50"),
        utm={"utm_source": "google", "nested": [1, None]},
        extra_data={"ü": "ß"},
        page_url=None,
    )
    found = lead_get_for_email(workspace=workspace, email="ana@example.com")
    orm = Lead.objects.get(pk=stored.pk)
    assert found is not None
    assert {f.attname: getattr(found, f.attname) for f in Lead._meta.concrete_fields} == {
        f.attname: getattr(orm, f.attname) for f in Lead._meta.concrete_fields
    }
    assert found.created_at.tzinfo is not None  # a datetime, not SQLite's text
    assert found.utm == {"utm_source": "google", "nested": [1, None]}
    assert found._state.adding is False
    assert found._state.db == "default"


def test_a_value_is_sent_as_its_field_prepares_it_never_as_sql_text(workspace):
    lead = LeadFactory(workspace=workspace, email="o'brien@example.com")
    where = '"workspace_id" = %s AND "email" = %s'
    params = [db_value(Lead, "workspace", workspace.pk), "o'brien@example.com"]
    assert row_where(Lead, where, params) == lead
    # A quote or a clause in the value is only a value.
    assert row_where(Lead, where, [params[0], "x' OR '1'='1"]) is None
    assert row_where(Lead, where, [db_value(Lead, "workspace", uuid.uuid4()), lead.email]) is None


def test_a_key_by_its_prefix_is_the_stored_row_in_one_query(django_assert_num_queries):
    issued = ApiKeyFactory()
    api_key = ApiKey.objects.get(pk=issued.pk)
    with django_assert_num_queries(1):
        found = api_key_get_by_prefix(prefix=api_key.prefix)
    assert found is not None
    assert {f.attname: getattr(found, f.attname) for f in ApiKey._meta.concrete_fields} == {
        f.attname: getattr(api_key, f.attname) for f in ApiKey._meta.concrete_fields
    }
    with django_assert_num_queries(1):
        assert api_key_get_by_prefix(prefix="zzzzzzzz") is None


def test_a_verified_key_comes_with_its_workspace_remembered_by_the_process(
    django_assert_num_queries,
):
    issued = ApiKeyFactory()
    workspace_cache_forget(workspace_id=issued.workspace_id)
    with django_assert_num_queries(2):  # the key, then its workspace (remembered)
        verified = api_key_verify(key=issued.plaintext)
    assert verified is not None
    assert verified.pk == issued.pk
    assert verified.workspace.name == issued.workspace.name
    with django_assert_num_queries(1):  # the key; the workspace from this process's cache
        again = api_key_verify(key=issued.plaintext)
        assert again is not None
        assert again.workspace.pk == issued.workspace_id


def test_a_key_whose_workspace_is_gone_in_between_is_refused(monkeypatch):
    issued = ApiKeyFactory()
    assert api_key_verify(key=issued.plaintext) is not None
    # The workspace deleted after the key's row was read (the delete takes the key too).
    monkeypatch.setattr("workspaces.services.workspace_get_cached", lambda **kwargs: None)
    assert api_key_verify(key=issued.plaintext) is None
