"""workspace_update, profile_update and api_key_update: only what changed, validated first."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from workspaces.models import ApiKey, Profile, Workspace
from workspaces.services import api_key_update, profile_update, workspace_update
from workspaces.tests.factories import ProfileFactory

pytestmark = pytest.mark.django_db


def _statements(captured: CaptureQueriesContext) -> list[str]:
    """What ran, without the savepoints of @transaction.atomic inside the test's transaction."""
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_workspace_update_writes_the_changed_fields_only(workspace):
    with CaptureQueriesContext(connection) as captured:
        workspace_update(workspace=workspace, name="  New name ", require_api_key=True)
    (update,) = _statements(captured)
    assert update.startswith('UPDATE "workspaces_workspace" SET "name" = ')
    assert '"webhook_enabled"' not in update and '"created_at"' not in update
    stored = Workspace.objects.get()
    assert (stored.name, stored.require_api_key, stored.webhook_enabled) == ("New name", True, True)


def test_profile_update_sets_is_active_and_writes_only_it(profile):
    with CaptureQueriesContext(connection) as captured:
        profile_update(profile=profile, name=profile.name, is_active=False)
    (update,) = _statements(captured)
    assert update.startswith('UPDATE "workspaces_profile" SET "is_active" = ')
    assert Profile.objects.get().is_active is False


def test_an_update_that_changes_nothing_writes_nothing(workspace, profile, api_key):
    with CaptureQueriesContext(connection) as captured:
        workspace_update(workspace=workspace, name=workspace.name, webhook_enabled=True)
        profile_update(profile=profile, clerk_user_id=profile.clerk_user_id, is_active=True)
        api_key_update(api_key=api_key, name=api_key.name)
        workspace_update(workspace=workspace)
    assert _statements(captured) == []


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"name": "   "}, {"name": ["Workspace name must not be blank."]}),
        ({"name": "x" * 201}, {"name": ["Workspace name is too long (200 characters at most)."]}),
    ],
)
def test_workspace_update_refuses_a_bad_name_and_writes_nothing(workspace, change, errors):
    name = workspace.name
    with pytest.raises(ValidationError) as refused:
        workspace_update(workspace=workspace, **change)
    assert refused.value.message_dict == errors
    assert Workspace.objects.get().name == name


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"clerk_user_id": "abc"}, {"clerk_user_id": ["A Clerk user id starts with 'user_'."]}),
        ({"email": "not-an-email"}, {"email": ["Enter a valid email address."]}),
        (
            {"name": "n" * 201},
            {"name": ["Ensure this value has at most 200 characters (it has 201)."]},
        ),
    ],
)
def test_profile_update_refuses_bad_values_and_leaves_the_profile_as_it_was(
    profile, change, errors
):
    before = (profile.clerk_user_id, profile.name, profile.email)
    with pytest.raises(ValidationError) as refused:
        profile_update(profile=profile, **change)
    assert refused.value.message_dict == errors
    assert (profile.clerk_user_id, profile.name, profile.email) == before
    stored = Profile.objects.get()
    assert (stored.clerk_user_id, stored.name, stored.email) == before


def test_profile_update_refuses_a_clerk_id_the_workspace_already_has(profile):
    taken = ProfileFactory(workspace=profile.workspace).clerk_user_id
    with pytest.raises(ValidationError) as refused:
        profile_update(profile=profile, clerk_user_id=taken)
    assert refused.value.message_dict == {
        "clerk_user_id": [f"{taken} already has a profile in this workspace."]
    }


def test_api_key_update_renames_and_refuses_a_blank_name(api_key):
    api_key_update(api_key=api_key, name=" Zapier ")
    assert ApiKey.objects.get().name == "Zapier"
    with pytest.raises(ValidationError):
        api_key_update(api_key=api_key, name=" ")
    assert ApiKey.objects.get().name == "Zapier"
