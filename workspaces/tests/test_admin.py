"""Admin for workspaces, profiles and API keys: pages, the show-once key, revocation."""

import importlib
import re

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hushmetrics.admin import ReadOnlyAdminMixin
from workspaces.models import ApiKey, Profile, Workspace
from workspaces.services import api_key_verify
from workspaces.tests.factories import ApiKeyFactory, ProfileFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def listed(response) -> list:
    return list(response.context["cl"].result_list)


# --- workspaces --------------------------------------------------------------------------


def test_workspace_changelist_search_and_filter(admin_client, workspace):
    other = WorkspaceFactory(name="Zeta Labs", webhook_enabled=False)
    url = reverse("admin:workspaces_workspace_changelist")
    assert set(listed(admin_client.get(url))) == {workspace, other}
    assert listed(admin_client.get(url, {"q": "zeta"})) == [other]
    assert listed(admin_client.get(url, {"q": str(workspace.pk)})) == [workspace]
    assert listed(admin_client.get(url, {"webhook_enabled__exact": "0"})) == [other]
    assert (
        listed(admin_client.get(url, {"require_api_key__exact": "0"}))
        == [workspace, other][:: 1 if workspace.name < other.name else -1]
    )


def test_workspace_page_shows_its_keys_and_profiles_never_a_hash(
    admin_client, workspace, api_key, revoked_key, profile
):
    stranger_key = ApiKeyFactory(name="someone else's")
    body = admin_client.get(
        reverse("admin:workspaces_workspace_change", args=[workspace.pk])
    ).content.decode()
    assert api_key.display_prefix in body and revoked_key.display_prefix in body
    assert "revoked" in body and "active" in body
    assert stranger_key.display_prefix not in body
    assert profile.clerk_user_id in body
    for key in (api_key, revoked_key):
        assert key.secret_hash not in body and key.plaintext not in body


def test_workspace_add_and_edit(admin_client):
    add = reverse("admin:workspaces_workspace_add")
    assert admin_client.get(add).status_code == 200
    data = {"name": "  Acme Inc ", "webhook_enabled": "on"}
    data.update(
        {
            f"{p}-{k}": "0"
            for p in ("profiles", "api_keys")
            for k in ("TOTAL_FORMS", "INITIAL_FORMS")
        }
    )
    assert admin_client.post(add, data).status_code == 302
    created = Workspace.objects.get()
    assert (created.name, created.webhook_enabled, created.require_api_key) == (
        "Acme Inc",  # stripped by workspace_create
        True,
        False,
    )
    data.update(name="Acme", require_api_key="on")
    change = reverse("admin:workspaces_workspace_change", args=[created.pk])
    assert admin_client.post(change, data).status_code == 302
    created.refresh_from_db()
    assert (created.name, created.require_api_key) == ("Acme", True)


# --- profiles ----------------------------------------------------------------------------


def test_profile_changelist_search_filter_and_change(admin_client, profile):
    inactive = ProfileFactory(is_active=False, name="Ina Active")
    url = reverse("admin:workspaces_profile_changelist")
    assert set(listed(admin_client.get(url))) == {profile, inactive}
    assert listed(admin_client.get(url, {"q": profile.clerk_user_id})) == [profile]
    assert listed(admin_client.get(url, {"is_active__exact": "0"})) == [inactive]
    assert listed(admin_client.get(url, {"workspace__id__exact": str(profile.workspace_id)})) == [
        profile
    ]
    change = reverse("admin:workspaces_profile_change", args=[profile.pk])
    assert admin_client.get(change).status_code == 200
    response = admin_client.post(
        change,
        {"clerk_user_id": profile.clerk_user_id, "name": "Renamed", "email": "", "is_active": ""},
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.name, profile.is_active) == ("Renamed", False)


def test_profile_add_goes_through_the_service(admin_client, workspace):
    add = reverse("admin:workspaces_profile_add")
    assert admin_client.get(add).status_code == 200
    bad = admin_client.post(add, {"workspace": str(workspace.pk), "clerk_user_id": "abc"})
    assert bad.status_code == 200  # the CHECK constraint, reported as a form error
    assert not Profile.objects.exists()
    ok = admin_client.post(
        add,
        {
            "workspace": str(workspace.pk),
            "clerk_user_id": "user_2xyz",
            "name": "Sam",
            "is_active": "on",
        },
    )
    assert ok.status_code == 302
    assert Profile.objects.get().clerk_user_id == "user_2xyz"


# --- API keys ----------------------------------------------------------------------------

KEYS = reverse("admin:workspaces_apikey_changelist")
ADD_KEY = reverse("admin:workspaces_apikey_add")


def test_key_changelist_columns_and_states(admin_client, api_key, revoked_key, expired_key):
    response = admin_client.get(KEYS)
    body = response.content.decode()
    assert set(listed(response)) == {api_key, revoked_key, expired_key}
    for key in (api_key, revoked_key, expired_key):
        assert f"{key.display_prefix}…" in body
        assert key.secret_hash not in body
    assert ">active<" in body and ">revoked<" in body and ">expired<" in body
    assert "Revoke selected keys (cannot be undone)" in body


@pytest.mark.parametrize("state", ["active", "expired", "revoked"])
def test_key_state_filter(admin_client, api_key, revoked_key, expired_key, state):
    expected = {"active": api_key, "expired": expired_key, "revoked": revoked_key}[state]
    assert listed(admin_client.get(KEYS, {"state": state})) == [expected]


def test_key_search_by_displayed_prefix_name_and_workspace(admin_client, api_key, revoked_key):
    other = ApiKeyFactory(name="calendly", workspace=WorkspaceFactory(name="Northwind"))
    assert listed(admin_client.get(KEYS, {"q": f"{api_key.display_prefix}…"})) == [api_key]
    assert listed(admin_client.get(KEYS, {"q": api_key.prefix})) == [api_key]
    assert listed(admin_client.get(KEYS, {"q": "old zap"})) == [revoked_key]
    assert listed(admin_client.get(KEYS, {"q": "northwind"})) == [other]
    assert listed(admin_client.get(KEYS, {"workspace__id__exact": str(other.workspace_id)})) == [
        other
    ]


def test_key_change_page_shows_no_hash_and_only_the_name_is_editable(admin_client, api_key):
    url = reverse("admin:workspaces_apikey_change", args=[api_key.pk])
    response = admin_client.get(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert api_key.display_prefix in body
    assert api_key.secret_hash not in body and api_key.plaintext not in body
    assert list(response.context["adminform"].form.fields) == ["name"]
    assert admin_client.post(url, {"name": "renamed"}).status_code == 302
    api_key.refresh_from_db()
    assert api_key.name == "renamed"
    assert api_key_verify(key=api_key.plaintext) == api_key


def test_keys_cannot_be_deleted(admin_client, api_key):
    url = reverse("admin:workspaces_apikey_delete", args=[api_key.pk])
    assert admin_client.get(url).status_code == 403
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert ApiKey.objects.filter(pk=api_key.pk).exists()


def test_add_issues_a_key_and_shows_it_once(admin_client, workspace):
    form = admin_client.get(ADD_KEY)
    assert form.status_code == 200
    assert list(form.context["adminform"].form.fields) == [
        "workspace",
        "name",
        "expires_in_days",
        "scopes",
    ]
    response = admin_client.post(
        ADD_KEY,
        {
            "workspace": str(workspace.pk),
            "name": "Typeform",
            "expires_in_days": "30",
            "scopes": ["ingest"],
        },
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    plaintext = response.context["plaintext"]
    key = ApiKey.objects.get()
    assert plaintext.startswith(f"sk_live_{key.prefix}") and len(plaintext) == 48
    body = response.content.decode()
    assert plaintext in body and "shown once" in body
    assert key.secret_hash not in body
    assert api_key_verify(key=plaintext) == key  # the key that was shown works
    assert (key.name, key.workspace, key.expires_at is not None) == ("Typeform", workspace, True)
    # ... and it is never shown again: not on the key's page, the list, nor in a message.
    for url in (reverse("admin:workspaces_apikey_change", args=[key.pk]), KEYS):
        again = admin_client.get(url)
        assert plaintext not in again.content.decode()
        assert not [m for m in again.context["messages"] if plaintext in str(m)]
    assert plaintext not in str(dict(admin_client.session))


def test_add_rejects_a_blank_name_and_a_bad_lifetime(admin_client, workspace):
    for data in (
        {"name": "", "scopes": ["ingest"]},
        {"name": "x", "expires_in_days": "0", "scopes": ["ingest"]},
        {"name": "x"},  # no scope ticked
        {"name": "x", "scopes": ["leads:delete"]},
    ):
        response = admin_client.post(ADD_KEY, {"workspace": str(workspace.pk), **data})
        assert response.status_code == 200
        assert response.context["adminform"].form.errors
    assert not ApiKey.objects.exists()


def test_revoke_action_asks_then_revokes_through_the_service(admin_client, api_key, revoked_key):
    other = ApiKeyFactory(workspace=api_key.workspace)
    selection = {
        "action": "revoke_selected",
        ACTION_CHECKBOX_NAME: [str(api_key.pk), str(revoked_key.pk)],
    }
    confirm = admin_client.post(KEYS, selection)
    assert confirm.status_code == 200
    assert "This cannot be undone" in confirm.content.decode()
    api_key.refresh_from_db()
    assert api_key.revoked_at is None  # nothing happens before the confirmation

    first_revocation = revoked_key.revoked_at
    done = admin_client.post(KEYS, {**selection, "post": "yes"}, follow=True)
    assert "Revoked 1 API key." in done.content.decode()
    api_key.refresh_from_db()
    revoked_key.refresh_from_db()
    other.refresh_from_db()
    assert api_key.revoked_at is not None
    assert revoked_key.revoked_at == first_revocation  # revoking again changes nothing
    assert other.revoked_at is None
    assert api_key_verify(key=api_key.plaintext) is None
    assert api_key_verify(key=other.plaintext) == other


# --- every save goes through a service and writes only what changed ----------------------


def _set_columns(queries, table: str) -> list[list[str]]:
    """The columns each UPDATE of `table` sets, in the order written."""
    updates = [q["sql"] for q in queries if q["sql"].startswith(f'UPDATE "{table}"')]
    return [re.findall(r'"(\w+)" = ', sql.split(" WHERE ")[0]) for sql in updates]


def _spy(monkeypatch, target: str) -> list[dict]:
    """Record the keyword arguments of each call to the service at `target`, then call it."""
    module_name, name = target.rsplit(".", 1)
    real = getattr(importlib.import_module(module_name), name)
    calls: list[dict] = []

    def recorded(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(target, recorded)
    return calls


def test_workspace_edit_goes_through_the_service_and_writes_only_the_changed_column(
    admin_client, workspace, monkeypatch
):
    calls = _spy(monkeypatch, "workspaces.admin.workspace_update")
    change = reverse("admin:workspaces_workspace_change", args=[workspace.pk])
    data = {
        "name": "Renamed",
        "webhook_enabled": "on",
        **{
            f"{p}-{k}": "0"
            for p in ("profiles", "api_keys")
            for k in ("TOTAL_FORMS", "INITIAL_FORMS")
        },
    }
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.post(change, data).status_code == 302
    assert [set(call) for call in calls] == [{"workspace", "name"}]
    assert calls[0]["name"] == "Renamed"
    assert _set_columns(queries, "workspaces_workspace") == [["name"]]
    workspace.refresh_from_db()
    assert (workspace.name, workspace.webhook_enabled) == ("Renamed", True)


def test_profile_edit_goes_through_the_service_and_writes_only_the_changed_column(
    admin_client, profile, monkeypatch
):
    calls = _spy(monkeypatch, "workspaces.admin.profile_update")
    change = reverse("admin:workspaces_profile_change", args=[profile.pk])
    data = {"clerk_user_id": profile.clerk_user_id, "name": profile.name, "email": profile.email}
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.post(change, data).status_code == 302  # is_active unticked
    assert [set(call) for call in calls] == [{"profile", "is_active"}]
    assert _set_columns(queries, "workspaces_profile") == [["is_active"]]
    profile.refresh_from_db()
    assert profile.is_active is False


def test_an_unchanged_edit_writes_nothing(admin_client, profile):
    change = reverse("admin:workspaces_profile_change", args=[profile.pk])
    data = {
        "clerk_user_id": profile.clerk_user_id,
        "name": profile.name,
        "email": profile.email,
        "is_active": "on",
    }
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.post(change, data).status_code == 302
    assert _set_columns(queries, "workspaces_profile") == []


def test_key_rename_goes_through_the_service(admin_client, api_key, monkeypatch):
    calls = _spy(monkeypatch, "workspaces.admin.api_key_update")
    url = reverse("admin:workspaces_apikey_change", args=[api_key.pk])
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.post(url, {"name": "  Zapier  "}).status_code == 302
    assert [call["name"] for call in calls] == ["Zapier"]
    assert _set_columns(queries, "workspaces_apikey") == [["name"]]


def test_an_inactive_profile_added_in_the_admin_is_one_insert_and_the_log_names_it(
    admin_client, workspace
):
    add = reverse("admin:workspaces_profile_add")
    data = {"workspace": str(workspace.pk), "clerk_user_id": "user_2new", "name": "Sam"}
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.post(add, data).status_code == 302
    created = Profile.objects.get()
    assert created.is_active is False
    assert _set_columns(queries, "workspaces_profile") == []  # no second write for is_active
    # The admin carries on with its own instance: it is the created row, not a stray copy.
    entry = LogEntry.objects.get()
    assert (entry.object_id, entry.object_repr) == (str(created.pk), "Sam")


def _read_only_pages() -> list:
    from leads.admin import OptInHistoryInline
    from leads.models import Lead
    from optin.admin import OptInAdmin, QuestionAnswerInline
    from optin.models import OptIn
    from workspaces.admin import ApiKeyInline, ProfileInline

    return [
        pytest.param(ApiKeyInline, Workspace, id="workspace's keys"),
        pytest.param(ProfileInline, Workspace, id="workspace's profiles"),
        pytest.param(OptInHistoryInline, Lead, id="lead's opt-ins"),
        pytest.param(QuestionAnswerInline, OptIn, id="opt-in's answers"),
        pytest.param(OptInAdmin, OptIn, id="opt-ins"),
    ]


@pytest.mark.parametrize(("page", "model"), _read_only_pages())
def test_read_only_pages_deny_add_change_and_delete(admin_user, rf, page, model):
    request = rf.get("/")
    request.user = admin_user
    shown = page(model, admin.site)
    assert isinstance(shown, ReadOnlyAdminMixin)
    assert not shown.has_add_permission(request, None)
    assert not shown.has_change_permission(request, None)
    assert not shown.has_delete_permission(request, None)
