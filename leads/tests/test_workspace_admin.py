"""The workspace's admin page shows its webhook (SPEC §8): the URL from PUBLIC_BASE_URL with
a copy button, a ready HTML form, the last submission and the 24 h / 7 d lead counts; the
workspace list stays the same queries however many workspaces there are."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead
from leads.selectors import workspace_lead_activity
from leads.tests.factories import LeadFactory
from workspaces.models import Workspace
from workspaces.tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db


def _age(lead: Lead, delta: timedelta) -> None:
    Lead.objects.filter(pk=lead.pk).update(created_at=timezone.now() - delta)


def test_the_change_page_shows_the_webhook_url_snippet_and_activity(
    admin_client, workspace, settings
):
    settings.PUBLIC_BASE_URL = "https://leads.example.net"
    newest = LeadFactory(workspace=workspace)
    _age(newest, timedelta(hours=1))
    _age(LeadFactory(workspace=workspace, is_spam=True), timedelta(hours=30))
    _age(LeadFactory(workspace=workspace), timedelta(days=6))
    _age(LeadFactory(workspace=workspace), timedelta(days=10))
    LeadFactory()  # another workspace's
    newest.refresh_from_db()

    response = admin_client.get(reverse("admin:workspaces_workspace_change", args=[workspace.pk]))
    body = response.content.decode()

    url = f"https://leads.example.net/v1/webhook/{workspace.id}"
    assert (
        f'<input id="hm-webhook-url" type="text" value="{url}" size="{len(url)}" readonly' in body
    )
    assert f"&lt;form action=&quot;{url}&quot; method=&quot;post&quot;&gt;" in body
    assert 'data-copy="hm-webhook-url"' in body and 'data-copy="hm-form-snippet"' in body
    assert "/static/pages/copy.js" in body and "/static/pages/webhook-admin.css" in body
    last = newest.created_at.strftime("%Y-%m-%d %H:%M:%S")
    assert f"<dt>Last submission received</dt><dd>{last} UTC</dd>" in body
    assert "<dt>Leads in the last 24 hours</dt><dd>1</dd>" in body
    assert "<dt>Leads in the last 7 days</dt><dd>3</dd>" in body


def test_the_public_base_url_defaults_to_the_quick_start_address(admin_client, workspace):
    body = admin_client.get(
        reverse("admin:workspaces_workspace_change", args=[workspace.pk])
    ).content.decode()
    assert f'value="http://127.0.0.1:8000/v1/webhook/{workspace.id}"' in body
    assert "none received yet" in body


def test_the_add_page_has_no_webhook_section_yet(admin_client):
    body = admin_client.get(reverse("admin:workspaces_workspace_add")).content.decode()
    assert "hm-webhook-url" not in body and 'name="thank_you_url"' in body


def test_activity_is_two_queries_however_many_leads(workspace, django_assert_num_queries):
    LeadFactory.create_batch(30, workspace=workspace)
    # 1. COUNT(*) and COUNT(*) FILTER (24 h) over the workspace's last 7 days.
    # 2. MAX(created_at) of the workspace's leads.
    with django_assert_num_queries(2):
        activity = workspace_lead_activity(workspace=workspace, now=timezone.now())
    assert (activity.last_24_hours, activity.last_7_days) == (30, 30)


def _changelist_queries(admin_client) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(reverse("admin:workspaces_workspace_changelist"))
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def test_the_workspace_list_is_the_same_queries_at_ten_thousand_workspaces(admin_client):
    for workspace in WorkspaceFactory.create_batch(3):
        LeadFactory(workspace=workspace)
    few = _changelist_queries(admin_client)

    Workspace.objects.bulk_create(Workspace(name=f"Workspace {n:05d}") for n in range(10_000))
    many = _changelist_queries(admin_client)

    # The session, the user, the page's COUNT(*), the total COUNT(*), the 100 rows of the
    # page: no query per row, and none on the leads table.
    assert len(many) == len(few) == 5
    assert not [sql for sql in many if "leads_lead" in sql]
