"""The per-worker workspace cache behind both /v1 endpoints (WORKSPACE_CACHE_SECONDS)."""

import json
import time

import pytest
from django.core.cache import caches
from django.db import connection, transaction

from leads.models import Lead
from workspaces.selectors import workspace_get_cached
from workspaces.tests.factories import WorkspaceFactory

NOT_FOUND = {"message": "Workspace not found"}


def create_lead(client, workspace_id, **headers):
    body = json.dumps({"workspace_id": str(workspace_id), "name": "Jane"})
    return client.post("/v1/create-lead", body, content_type="application/json", **headers)


def webhook(client, workspace_id):
    body = json.dumps({"name": "Jane", "email": "jane@example.com"})
    return client.post(f"/v1/webhook/{workspace_id}", body, content_type="application/json")


def webhook_with_id(client, workspace_id):
    body = json.dumps({"name": "Jane", "email": "jane@example.com"})
    return client.post(
        f"/v1/webhook/{workspace_id}",
        body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="delivery-1",
    )


@pytest.mark.django_db
def test_an_edit_in_this_process_is_seen_at_once(api_client):
    workspace = WorkspaceFactory()
    assert create_lead(api_client, workspace.id).status_code == 201
    assert webhook(api_client, workspace.id).status_code == 201

    workspace.require_api_key = True
    workspace.webhook_enabled = False
    workspace.save()

    refused = create_lead(api_client, workspace.id)
    assert refused.status_code == 401
    assert refused.json() == {"message": "An API key is required for this workspace"}
    assert webhook(api_client, workspace.id).status_code == 404
    assert Lead.objects.count() == 2


@pytest.mark.django_db
def test_a_deleted_workspace_is_forgotten(api_client):
    workspace = WorkspaceFactory()
    workspace_id = workspace.id
    assert workspace_get_cached(workspace_id=workspace_id) == workspace
    workspace.delete()
    assert workspace_get_cached(workspace_id=workspace_id) is None
    assert create_lead(api_client, workspace_id).json() == NOT_FOUND


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "send",
    [create_lead, webhook, webhook_with_id],
    ids=["create-lead", "webhook", "webhook-with-submission-id"],
)
def test_a_workspace_another_worker_deleted_is_a_404_not_a_500(api_client, send):
    workspace = WorkspaceFactory()
    # This worker read it before; another process then deletes it (no signal reaches here).
    assert workspace_get_cached(workspace_id=workspace.id) == workspace
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM workspaces_workspace WHERE id = %s", [workspace.id.hex])
    assert workspace_get_cached(workspace_id=workspace.id) is not None  # still cached

    response = send(api_client, workspace.id)

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert Lead.objects.count() == 0
    assert workspace_get_cached(workspace_id=workspace.id) is None


@pytest.mark.django_db
def test_no_caching_when_switched_off(settings, django_assert_num_queries):
    settings.WORKSPACE_CACHE_SECONDS = 0
    workspace = WorkspaceFactory()
    for _ in range(2):
        with django_assert_num_queries(1):
            assert workspace_get_cached(workspace_id=workspace.id) == workspace


@pytest.mark.django_db
def test_a_row_cached_again_before_the_edit_commits_is_dropped_on_commit(
    django_capture_on_commit_callbacks,
):
    workspace = WorkspaceFactory()
    stale = workspace_get_cached(workspace_id=workspace.id)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        workspace.require_api_key = True
        workspace.save()
        # Another thread reads the still-committed old row and caches it meanwhile.
        caches["local"].set(f"workspace:{workspace.id}", stale, 60)
        cached = workspace_get_cached(workspace_id=workspace.id)
        assert cached is not None and cached.require_api_key is False

    cached = workspace_get_cached(workspace_id=workspace.id)
    assert cached is not None and cached.require_api_key is True


@pytest.mark.django_db
def test_an_edit_by_another_process_is_seen_once_the_cache_time_is_up(api_client, settings):
    settings.WORKSPACE_CACHE_SECONDS = 1
    workspace = WorkspaceFactory()
    assert webhook(api_client, workspace.id).status_code == 201
    # Another worker switches the webhook off (no signal reaches this process).
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE workspaces_workspace SET webhook_enabled = %s WHERE id = %s",
            [False, workspace.id.hex],
        )
    assert webhook(api_client, workspace.id).status_code == 201  # still the cached row

    time.sleep(1.1)
    refused = webhook(api_client, workspace.id)
    assert refused.status_code == 404
    assert refused.json() == NOT_FOUND
