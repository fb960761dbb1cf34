"""The README says what the code does: nothing in it is maintained by hand out of step."""

import re
from pathlib import Path

import pytest
from django.core.management import get_commands
from rest_framework.test import APIClient

from leads.webhook import ALIASES
from workspaces.tests.factories import WorkspaceFactory

PROJECT = Path(__file__).resolve().parents[2]
README = (PROJECT / "README.md").read_text()
SPELLINGS = re.compile(
    r"<!-- webhook-spellings:.*?-->\n(.*?)<!-- /webhook-spellings -->", re.DOTALL
)


def test_the_webhook_spellings_are_the_ones_it_recognises():
    table = SPELLINGS.search(README)
    assert table, "the webhook-spellings table is missing"
    documented = {}
    for row in table.group(1).splitlines()[2:]:  # past the header and its rule
        field, spellings = (cell.strip() for cell in row.strip("|").split("|"))
        documented[field.strip("`")] = re.findall(r"`([^`]+)`", spellings)
    recognised: dict[str, list[str]] = {}
    for spelling, field in ALIASES.items():
        recognised.setdefault(field, []).append(spelling)
    assert documented == recognised


def test_the_control_fields_are_documented():
    for control in ("_next", "_redirect", "_gotcha", "_honeypot"):
        assert f"`{control}`" in README


def test_operator_commands_run_with_the_virtualenvs_python():
    invocations = re.findall(r"(\S*python\S*) manage\.py (\w+)", README)
    assert len(invocations) >= 10
    commands = get_commands()
    for python, command in invocations:
        assert python.endswith(".venv/bin/python"), f"{python} manage.py {command}"
        assert command in commands, command


def test_every_operator_command_is_documented():
    ours = [name for name, app in get_commands().items() if app in ("workspaces", "leads", "optin")]
    assert "update_workspace" in ours
    for name in ours:
        assert f"manage.py {name}" in README, name


def test_nothing_outside_the_repository_is_referred_to():
    assert "SPEC" not in README
    assert "shared folder" not in README
    assert "../" not in README
    for target in re.findall(r"\]\(([^)]+)\)", README):
        if not target.startswith(("http://", "https://", "#")):
            assert (PROJECT / target).exists(), target


@pytest.mark.django_db
def test_require_api_key_covers_create_lead_only_as_documented():
    assert "covers **create-lead only**" in README
    client = APIClient()
    strict = WorkspaceFactory(require_api_key=True)
    relaxed = WorkspaceFactory(require_api_key=False)

    create = client.post("/v1/create-lead", {"workspace_id": str(strict.id)}, format="json")
    webhook = client.post(f"/v1/webhook/{strict.id}", {"name": "Jane"}, format="json")
    optin = client.post(
        "/api/opt-in/submit",
        {"email": "jane@example.com", "first_name": "Jane", "source": "OTHER"},
        format="json",
    )
    relaxed_create = client.post(
        "/v1/create-lead", {"workspace_id": str(relaxed.id)}, format="json"
    )

    assert (create.status_code, webhook.status_code, optin.status_code) == (401, 201, 401)
    assert relaxed_create.status_code == 201
