"""list_workspaces, update_workspace, `--workspace` by name, create_workspace's warning."""

import re

import pytest
from django.core.management import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from leads.tests.factories import LeadFactory
from workspaces.models import ApiKey, Profile, Workspace
from workspaces.services import workspace_update
from workspaces.tests.commands import run
from workspaces.tests.factories import ApiKeyFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def test_list_workspaces_shows_id_name_created_leads_and_flags_in_one_query(
    django_assert_num_queries,
):
    busy = WorkspaceFactory(name="Busy Co")
    quiet = WorkspaceFactory(name="Quiet Co", webhook_enabled=False, require_api_key=True)
    LeadFactory.create_batch(3, workspace=busy)

    # 1. SELECT the workspaces with COUNT(leads), grouped: however many workspaces there are.
    with django_assert_num_queries(1):
        out, err = run("list_workspaces")

    lines = out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "CREATED", "LEADS", "WEBHOOK", "API", "KEY"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    created = busy.created_at.strftime("%Y-%m-%d %H:%M UTC").split()
    assert rows[str(busy.id)] == [str(busy.id), "Busy", "Co", *created, "3", "on", "optional"]
    assert rows[str(quiet.id)][-3:] == ["0", "off", "required"]
    assert list(rows) == [str(busy.id), str(quiet.id)]  # oldest first
    assert err == "2 workspace(s).\n"


def test_update_workspace_changes_only_what_is_given(workspace):
    workspace_update(workspace=workspace, name="Before", require_api_key=False)
    out, err = run("update_workspace", str(workspace.id), "--require-api-key", "--no-webhook")

    workspace.refresh_from_db()
    assert out == f"{workspace.id}\n"
    assert (workspace.name, workspace.require_api_key, workspace.webhook_enabled) == (
        "Before",
        True,
        False,
    )
    assert "require_api_key False → True" in err
    assert "webhook_enabled True → False" in err

    run("update_workspace", str(workspace.id), "--name", "  After  ", "--webhook")
    workspace.refresh_from_db()
    assert (workspace.name, workspace.require_api_key, workspace.webhook_enabled) == (
        "After",
        True,
        True,
    )
    _, err = run("update_workspace", str(workspace.id), "--no-require-api-key")
    workspace.refresh_from_db()
    assert workspace.require_api_key is False
    assert "require_api_key True → False" in err


def test_update_workspace_rejects_a_blank_name(workspace):
    name = workspace.name
    with pytest.raises(CommandError, match="must not be blank"):
        run("update_workspace", str(workspace.id), "--name", "  ")
    workspace.refresh_from_db()
    assert workspace.name == name


def test_workspace_update_saves_only_the_changed_fields(workspace):
    with CaptureQueriesContext(connection) as queries:
        workspace_update(
            workspace=workspace, name=workspace.name, require_api_key=True, webhook_enabled=True
        )
    updates = [query["sql"] for query in queries if query["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    assert '"require_api_key"' in updates[0]
    assert '"name"' not in updates[0]
    assert '"webhook_enabled"' not in updates[0]

    with CaptureQueriesContext(connection) as queries:
        workspace_update(workspace=workspace, require_api_key=True)
    assert not [query for query in queries if query["sql"].startswith("UPDATE")]


def test_switching_the_webhook_off_takes_effect_at_once(workspace):
    client = APIClient()
    url = f"/v1/webhook/{workspace.id}"
    assert client.post(url, {"name": "Before"}, format="json").status_code == 201

    run("update_workspace", str(workspace.id), "--no-webhook")

    assert client.post(url, {"name": "After"}, format="json").status_code == 404


def test_every_workspace_option_takes_a_unique_name(workspace):
    WorkspaceFactory(name="Someone else")
    name = workspace.name

    profile_id, _ = run("create_profile", "--workspace", name, "--clerk-user-id", "user_byname")
    key, _ = run("issue_api_key", "--workspace", f"  {name} ", "--name", "by name")
    listed, _ = run("list_api_keys", "--workspace", name)
    updated, _ = run("update_workspace", name, "--require-api-key")
    seeded, _ = run("seed_demo_data", "--leads", "2", "--workspace", name)

    assert Profile.objects.get(pk=profile_id.strip()).workspace == workspace
    assert ApiKey.objects.get().workspace == workspace
    assert key.strip()[:16] in listed
    assert updated.strip() == seeded.strip() == str(workspace.id)
    assert workspace.leads.count() == 2


def test_an_ambiguous_name_is_refused_with_the_candidates():
    first = WorkspaceFactory(name="Acme")
    second = WorkspaceFactory(name="Acme")
    for args in (
        ("issue_api_key", "--workspace", "Acme", "--name", "k"),
        ("list_api_keys", "--workspace", "Acme"),
        ("update_workspace", "Acme", "--require-api-key"),
        ("create_profile", "--workspace", "Acme", "--clerk-user-id", "user_x"),
    ):
        with pytest.raises(CommandError, match="2 workspaces are named 'Acme'") as error:
            run(*args)
        assert str(first.id) in str(error.value)
        assert str(second.id) in str(error.value)
    assert ApiKey.objects.count() == Profile.objects.count() == 0
    assert not Workspace.objects.filter(require_api_key=True).exists()


def test_an_id_wins_over_a_name():
    named_like_an_id = WorkspaceFactory()
    target = WorkspaceFactory(name=str(named_like_an_id.id))  # a perverse but legal name
    ApiKeyFactory(workspace=named_like_an_id, name="by id")

    listed, _ = run("list_api_keys", "--workspace", str(named_like_an_id.id))

    assert "by id" in listed
    assert str(target.id) not in listed


def test_create_workspace_warns_when_the_name_is_taken():
    existing = WorkspaceFactory(name="Acme Inc")

    out, err = run("create_workspace", "Acme Inc")

    created = Workspace.objects.exclude(pk=existing.pk).get()
    assert out == f"{created.id}\n"
    assert re.search(r"Warning: 1 workspace\(s\) already named 'Acme Inc'", err)
    assert str(existing.id) in err
    _, err = run("create_workspace", "Fresh Co")
    assert "Warning" not in err
