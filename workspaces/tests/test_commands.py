import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError

from workspaces.models import ApiKey, Profile, Workspace
from workspaces.services import api_key_verify
from workspaces.tests.commands import run
from workspaces.tests.factories import ApiKeyFactory, ProfileFactory

pytestmark = pytest.mark.django_db
PROJECT = Path(__file__).resolve().parents[2]


def test_create_workspace_prints_only_its_id():
    out, err = run("create_workspace", "Acme Inc")
    workspace = Workspace.objects.get()
    assert out == f"{workspace.id}\n"
    assert workspace.name == "Acme Inc"
    assert "Acme Inc" in err


def test_create_workspace_rejects_a_blank_name():
    with pytest.raises(CommandError, match="must not be blank"):
        run("create_workspace", "   ")
    assert Workspace.objects.count() == 0


def test_create_profile_prints_its_id(workspace):
    out, _ = run(
        "create_profile",
        "--workspace",
        str(workspace.id),
        "--clerk-user-id",
        "user_2abc",
        "--name",
        "Sam Setter",
        "--email",
        "sam@example.com",
    )
    profile = Profile.objects.get()
    assert out == f"{profile.id}\n"
    assert (profile.workspace, profile.clerk_user_id, profile.name, profile.email) == (
        workspace,
        "user_2abc",
        "Sam Setter",
        "sam@example.com",
    )


def test_create_profile_rejects_a_duplicate_clerk_id(workspace):
    ProfileFactory(workspace=workspace, clerk_user_id="user_2abc")
    with pytest.raises(CommandError, match="already has a profile"):
        run("create_profile", "--workspace", str(workspace.id), "--clerk-user-id", "user_2abc")
    assert Profile.objects.count() == 1


@pytest.mark.parametrize("workspace_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_commands_reject_an_unknown_workspace(workspace_id):
    with pytest.raises(CommandError, match="No workspace"):
        run("create_profile", "--workspace", workspace_id, "--clerk-user-id", "user_x")
    with pytest.raises(CommandError, match="No workspace"):
        run("issue_api_key", "--workspace", workspace_id, "--name", "k")
    with pytest.raises(CommandError, match="No workspace"):
        run("list_api_keys", "--workspace", workspace_id)
    with pytest.raises(CommandError, match="No workspace"):
        run("update_workspace", workspace_id, "--name", "x")
    with pytest.raises(CommandError, match="No workspace"):
        run("seed_demo_data", "--leads", "1", "--workspace", workspace_id)


def test_create_profile_rejects_a_bad_clerk_id_and_email(workspace):
    with pytest.raises(CommandError, match="user_"):
        run("create_profile", "--workspace", str(workspace.id), "--clerk-user-id", "2abc")
    with pytest.raises(CommandError, match="email"):
        run(
            "create_profile",
            "--workspace",
            str(workspace.id),
            "--clerk-user-id",
            "user_1",
            "--email",
            "not-an-email",
        )
    assert Profile.objects.count() == 0


def test_issue_api_key_prints_a_working_key_once(workspace):
    out, err = run("issue_api_key", "--workspace", str(workspace.id), "--name", "Typeform")
    key = out.strip()
    assert re.fullmatch(r"sk_live_[A-Za-z0-9]{40}", key)
    assert key not in err
    verified = api_key_verify(key=key)
    assert verified is not None
    assert verified.workspace == workspace


def test_issue_api_key_with_expiry(workspace):
    out, _ = run(
        "issue_api_key", "--workspace", str(workspace.id), "--name", "t", "--expires-in-days", "7"
    )
    api_key = api_key_verify(key=out.strip())
    assert api_key is not None and api_key.expires_at is not None
    lifetime = api_key.expires_at - api_key.created_at
    assert abs(lifetime - timedelta(days=7)) < timedelta(seconds=5)


def test_issue_api_key_rejects_a_non_positive_expiry(workspace):
    with pytest.raises(CommandError, match="positive"):
        run(
            "issue_api_key",
            "--workspace",
            str(workspace.id),
            "--name",
            "t",
            "--expires-in-days",
            "0",
        )
    assert ApiKey.objects.count() == 0


def test_list_api_keys_shows_states_and_never_secrets(workspace):
    active = ApiKeyFactory(workspace=workspace, name="live one", expires_in_days=30)
    revoked = ApiKeyFactory(workspace=workspace, name="old one")
    run("revoke_api_key", revoked.display_prefix)
    other = ApiKeyFactory(name="elsewhere")
    out, _ = run("list_api_keys", "--workspace", str(workspace.id))
    lines = out.splitlines()
    assert lines[0].split() == [
        "PREFIX",
        "NAME",
        "WORKSPACE",
        "SCOPES",
        "CREATED",
        "LAST",
        "USED",
        "EXPIRES",
        "STATE",
    ]
    assert len(lines) == 3
    rows = {line.split()[0]: line for line in lines[1:]}
    expires_at = ApiKey.objects.get(pk=active.pk).expires_at
    assert expires_at is not None
    expires = expires_at.strftime("%Y-%m-%d %H:%M UTC")
    assert rows[active.display_prefix].split()[-4:] == [*expires.split(), "active"]
    assert rows[revoked.display_prefix].split()[-2:] == ["never", "revoked"]
    assert other.display_prefix not in out
    for key in (active, revoked):
        assert key.plaintext not in out
        assert key.secret_hash not in out
    all_out, _ = run("list_api_keys")
    assert other.display_prefix in all_out


def test_revoke_by_prefix_or_id(workspace):
    by_prefix = ApiKeyFactory(workspace=workspace)
    by_id = ApiKeyFactory(workspace=workspace)
    out, _ = run("revoke_api_key", by_prefix.display_prefix)
    assert out.strip() == by_prefix.display_prefix
    run("revoke_api_key", str(by_id.id))
    assert api_key_verify(key=by_prefix.plaintext) is None
    assert api_key_verify(key=by_id.plaintext) is None


def test_revoke_unknown_key_fails():
    with pytest.raises(CommandError, match="No API key"):
        run("revoke_api_key", "sk_live_nothere0")


def test_shell_capture_of_each_command(tmp_path):
    """`ID=$(python manage.py …)` captures exactly the result; errors exit non-zero."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'ops.sqlite3'}"}
    env.pop("REDIS_URL", None)
    script = f"""
set -eu
py="{sys.executable} manage.py"
$py migrate -v0
WS=$($py create_workspace "Shell Co" 2>/dev/null)
PROFILE=$($py create_profile --workspace "$WS" --clerk-user-id user_shell 2>/dev/null)
KEY=$($py issue_api_key --workspace "$WS" --name ci 2>/dev/null)
echo "WS=$WS"
echo "PROFILE=$PROFILE"
echo "KEY=$KEY"
$py list_api_keys --workspace "$WS" 2>/dev/null
REVOKED=$($py revoke_api_key "${{KEY:0:16}}" 2>/dev/null)
echo "REVOKED=$REVOKED"
if $py issue_api_key --workspace nope --name x >/dev/null 2>"{tmp_path / "err.txt"}"; then
  echo "BAD-ARGS-SUCCEEDED"
fi
BYNAME=$($py update_workspace "Shell Co" --require-api-key 2>/dev/null)
echo "BYNAME=$BYNAME"
$py create_workspace "Shell Co" >/dev/null 2>"{tmp_path / "dup.txt"}"
if $py issue_api_key --workspace "Shell Co" --name x >/dev/null 2>"{tmp_path / "amb.txt"}"; then
  echo "AMBIGUOUS-SUCCEEDED"
fi
"""
    result = subprocess.run(  # noqa: S603
        ["/bin/bash", "-c", script],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    values = dict(
        line.split("=", 1) for line in result.stdout.splitlines() if re.match(r"^[A-Z]+=", line)
    )
    assert re.fullmatch(r"[0-9a-f-]{36}", values["WS"])
    assert re.fullmatch(r"[0-9a-f-]{36}", values["PROFILE"])
    assert re.fullmatch(r"sk_live_[A-Za-z0-9]{40}", values["KEY"])
    assert values["REVOKED"] == values["KEY"][:16]
    assert "BAD-ARGS-SUCCEEDED" not in result.stdout
    assert "No workspace" in (tmp_path / "err.txt").read_text()
    assert values["BYNAME"] == values["WS"]
    assert "already named 'Shell Co'" in (tmp_path / "dup.txt").read_text()
    assert "AMBIGUOUS-SUCCEEDED" not in result.stdout
    assert "2 workspaces are named 'Shell Co'" in (tmp_path / "amb.txt").read_text()
    assert "active" in result.stdout
