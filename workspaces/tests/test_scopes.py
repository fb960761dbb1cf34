"""Key scopes (SPEC §10): what a key may do, how it is issued and listed, and the 403."""

import pytest
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from rest_framework.test import APIClient

from leads.models import Lead
from optin.models import OptIn
from workspaces.models import ApiKey
from workspaces.services import api_key_issue, api_key_verify
from workspaces.tests.commands import run
from workspaces.tests.factories import ApiKeyFactory

pytestmark = pytest.mark.django_db

ALL_SCOPES = ("ingest", "leads:read", "leads:write")
OPTIN_BODY = {"email": "ana@example.com", "first_name": "Ana", "source": "MANUAL"}


def _scopes_migration(executor: MigrationExecutor) -> tuple[str, str]:
    """The workspaces migration that adds the scopes, found by what it does (its number may
    change when migrations from other branches land)."""
    for (app, name), migration in executor.loader.disk_migrations.items():
        if app == "workspaces" and any(
            getattr(operation, "name", None) == "scope_ingest" for operation in migration.operations
        ):
            return app, name
    raise AssertionError("no migration adds ApiKey.scope_ingest")


@pytest.mark.django_db(transaction=True)
def test_keys_issued_before_scopes_keep_ingest_only():
    """The scopes migration gives every existing key `ingest` and nothing else."""
    executor = MigrationExecutor(connection)
    target = _scopes_migration(executor)
    before = [
        dependency
        for dependency in executor.loader.get_migration(*target).dependencies
        if dependency[0] == "workspaces"
    ]
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    workspace = old_apps.get_model("workspaces", "Workspace").objects.create(name="Old Co")
    old_apps.get_model("workspaces", "ApiKey").objects.create(
        workspace=workspace, name="2025 key", prefix="OldKey01", secret_hash="0" * 64
    )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    key = ApiKey.objects.get(prefix="OldKey01")
    assert key.scopes == ["ingest"]
    assert (key.scope_ingest, key.scope_leads_read, key.scope_leads_write) == (True, False, False)


def test_a_key_is_issued_with_ingest_unless_told_otherwise(workspace):
    assert api_key_issue(workspace=workspace, name="a").api_key.scopes == ["ingest"]
    issued = api_key_issue(workspace=workspace, name="b", scopes=["leads:write", "leads:read"])
    assert ApiKey.objects.get(pk=issued.api_key.pk).scopes == ["leads:read", "leads:write"]


def test_the_database_refuses_a_key_without_any_scope(api_key):
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiKey.objects.filter(pk=api_key.pk).update(scope_ingest=False)


def test_issue_api_key_takes_scopes_and_list_api_keys_shows_them(workspace):
    out, err = run(
        "issue_api_key", "--workspace", str(workspace.id), "--name", "CRM sync",
        "--scopes", "leads:read, leads:write",
    )  # fmt: skip
    key = api_key_verify(key=out.strip())
    assert key is not None and key.scopes == ["leads:read", "leads:write"]
    assert "scopes: leads:read, leads:write" in err
    default_out, _ = run("issue_api_key", "--workspace", str(workspace.id), "--name", "forms")
    forms_key = api_key_verify(key=default_out.strip())
    assert forms_key is not None and forms_key.scopes == ["ingest"]
    listed, _ = run("list_api_keys", "--workspace", str(workspace.id))
    rows = {line.split()[0]: line.split() for line in listed.splitlines()[1:]}
    assert "leads:read,leads:write" in rows[key.display_prefix]
    assert "ingest" in rows[forms_key.display_prefix]


@pytest.mark.parametrize(
    ("scopes", "message"),
    [
        ("leads:delete", "Unknown scope leads:delete"),
        ("ingest,admin", "Unknown scope admin"),
        (",", "at least one scope"),
    ],
)
def test_issue_api_key_refuses_unknown_or_no_scopes(workspace, scopes, message):
    with pytest.raises(CommandError, match=message):
        run("issue_api_key", "--workspace", str(workspace.id), "--name", "x", "--scopes", scopes)
    assert not ApiKey.objects.exists()


def test_the_admin_sets_scopes_when_issuing_and_shows_them(admin_client, workspace):
    add = reverse("admin:workspaces_apikey_add")
    response = admin_client.post(
        add, {"workspace": str(workspace.pk), "name": "Zapier", "scopes": ["leads:read"]}
    )
    assert response.status_code == 200
    key = ApiKey.objects.get()
    assert key.scopes == ["leads:read"]
    assert "scopes: leads:read" in response.content.decode()
    changelist = admin_client.get(reverse("admin:workspaces_apikey_changelist"))
    assert "leads:read" in changelist.content.decode()
    change = admin_client.get(reverse("admin:workspaces_apikey_change", args=[key.pk]))
    assert "leads:read" in change.content.decode()
    # Scopes are fixed at issue: the change form does not take them.
    admin_client.post(
        reverse("admin:workspaces_apikey_change", args=[key.pk]),
        {"name": "Zapier", "scopes": ["ingest", "leads:write"]},
    )
    assert ApiKey.objects.get().scopes == ["leads:read"]


@pytest.fixture
def read_only_key(workspace):
    return ApiKeyFactory(workspace=workspace, scopes=["leads:read"])


def test_ingest_endpoints_refuse_a_key_without_ingest(workspace, read_only_key):
    client = APIClient(HTTP_X_API_KEY=read_only_key.plaintext)
    message = "This API key lacks the ingest scope"
    created = client.post(
        "/v1/create-lead", {"workspace_id": str(workspace.id), "name": "x"}, format="json"
    )
    assert (created.status_code, created.json()) == (403, {"message": message})
    webhook = client.post(f"/v1/webhook/{workspace.id}", {"name": "x"}, format="json")
    assert (webhook.status_code, webhook.json()) == (403, {"message": message})
    optin = client.post("/api/opt-in/submit", OPTIN_BODY, format="json")
    assert (optin.status_code, optin.json()) == (403, {"status": "error", "message": message})
    assert not Lead.objects.exists() and not OptIn.objects.exists()
    read_only_key.refresh_from_db()
    assert read_only_key.last_used_at is None  # refused, so not "used"


@pytest.mark.parametrize("scopes", [["ingest"], list(ALL_SCOPES)])
def test_ingest_endpoints_take_ingest_keys_as_before(workspace, scopes):
    key = ApiKeyFactory(workspace=workspace, scopes=scopes)
    client = APIClient(HTTP_X_API_KEY=key.plaintext)
    created = client.post(
        "/v1/create-lead", {"workspace_id": str(workspace.id), "name": "x"}, format="json"
    )
    assert created.status_code == 201
    assert client.post(f"/v1/webhook/{workspace.id}", {"name": "y"}, format="json").status_code == (
        201
    )
    assert client.post("/api/opt-in/submit", OPTIN_BODY, format="json").status_code == 201
    assert Lead.objects.count() == 3


def test_a_bad_key_is_still_a_401_not_a_403(workspace):
    client = APIClient(HTTP_X_API_KEY="sk_live_" + "x" * 40)
    response = client.post(f"/v1/webhook/{workspace.id}", {"name": "x"}, format="json")
    assert response.status_code == 401
