"""`bootstrap_demo`, the quick start's demo data and URLs (`make run` runs it)."""

import re

import pytest

from outbound.models import Destination
from outbound.tests.conftest import rung_ids
from workspaces.models import ApiKey, Workspace
from workspaces.services import api_key_verify
from workspaces.tests.commands import run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("broker")]


def test_bootstrap_demo_prints_working_credentials_once():
    from django.contrib.auth import authenticate

    out, _ = run("bootstrap_demo", "--base-url", "http://127.0.0.1:9000")
    printed = [
        re.search(r"password '([^']+)'", out),
        re.search(r"API key:\s+(sk_live_\w+)", out),
        re.search(r"Workspace id:\s+([0-9a-f-]{36})", out),
    ]
    assert all(printed), out
    password, key, workspace_id = (match.group(1) for match in printed if match)
    assert "http://127.0.0.1:9000/admin/" in out
    admin = authenticate(username="admin", password=password)
    assert admin is not None and admin.is_superuser
    verified = api_key_verify(key=key)
    assert verified is not None and str(verified.workspace_id) == workspace_id

    again, _ = run("bootstrap_demo", "--base-url", "http://127.0.0.1:9000")
    assert Workspace.objects.count() == 1
    assert ApiKey.objects.count() == 1
    assert password not in again
    assert key not in again
    assert "sk_live_" not in again


def test_bootstrap_demo_prints_the_urls_on_every_run():
    run("bootstrap_demo", "--base-url", "http://127.0.0.1:9000")
    workspace = Workspace.objects.get()

    again, _ = run("bootstrap_demo", "--base-url", "http://localhost:8001/")

    assert f"Webhook URL:  http://localhost:8001/v1/webhook/{workspace.id}" in again
    assert f"Workspace id: {workspace.id}" in again
    assert "Admin:        http://localhost:8001/admin/" in again
    assert "API docs:     http://localhost:8001/v1/docs/" in again


def test_bootstrap_demo_without_its_workspace_still_prints_admin_and_docs():
    run("bootstrap_demo")
    Workspace.objects.all().delete()

    again, _ = run("bootstrap_demo")

    assert "Webhook URL:  none" in again
    assert "http://127.0.0.1:8000/admin/" in again
    assert "http://127.0.0.1:8000/v1/docs/" in again


def test_bootstrap_demo_gives_the_demo_an_email_destination_once(settings, tmp_path):
    settings.EMAIL_HOST = ""
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    out, _ = run("bootstrap_demo")
    workspace = Workspace.objects.get()
    (destination,) = Destination.objects.filter(workspace=workspace)
    assert (destination.kind, destination.target, destination.is_active) == (
        "email",
        "team@example.com",
        True,
    )
    assert "new leads go to team@example.com (the demo's email destination, active)" in out
    assert f"written as files to {tmp_path / 'mail'} (no EMAIL_HOST set)" in out
    workspace.refresh_from_db()
    assert workspace.has_active_destinations is True

    # Idempotent: a second run (or a disabled one) makes no other.
    Destination.objects.update(is_active=False)
    again, _ = run("bootstrap_demo")
    assert Destination.objects.count() == 1
    assert "(the demo's email destination, disabled)" in again
    rung_ids()


def test_bootstrap_demo_names_the_smtp_server_when_one_is_set(settings):
    settings.EMAIL_HOST = "smtp.example.com"
    settings.EMAIL_PORT = 587
    out, _ = run("bootstrap_demo")
    assert "sent through SMTP at smtp.example.com:587" in out
