"""The quick start's demo (`make run`): a workspace, an API key, an admin login and an email
destination, and the URLs to try them. It lives in `outbound`, the app that may use both
`workspaces` and outbound's own services (workspaces imports none of the others)."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from outbound.models import Destination, DestinationKind
from outbound.selectors import destination_list
from outbound.services import destination_create
from workspaces.models import Workspace
from workspaces.selectors import workspaces_named
from workspaces.services import api_key_issue, workspace_create

DEMO_WORKSPACE = "Demo workspace"
DEMO_ADMIN = "admin"
DEMO_EMAIL = "team@example.com"


class Command(BaseCommand):
    help = (
        "Print the demo's URLs (webhook, admin, docs) and where its emails go on every run. "
        "The first run (no admin user yet) also creates a demo workspace, an API key and an "
        "admin login, and prints them once; the demo workspace gets an email destination "
        "if it has none."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        base_url = str(options["base_url"]).rstrip("/")
        user_model = get_user_model()
        lines = [""]
        if user_model.objects.filter(is_superuser=True).exists():
            workspace = workspaces_named(name=DEMO_WORKSPACE).first()
        else:
            password = secrets.token_urlsafe(12)
            user_model.objects.create_superuser(DEMO_ADMIN, "admin@example.com", password)
            workspace = workspaces_named(name=DEMO_WORKSPACE).first() or workspace_create(
                name=DEMO_WORKSPACE
            )
            issued = api_key_issue(workspace=workspace, name="demo key")
            lines += [
                "First run: demo data created. The login and key are shown once; keep them.",
                f"  Admin login:  user {DEMO_ADMIN!r}  password {password!r}",
                f"  API key:      {issued.plaintext}",
            ]
        lines += self._urls(base_url, workspace)
        lines += self._email(workspace)
        self.stdout.write("\n".join([*lines, ""]))

    def _email(self, workspace: Workspace | None) -> list[str]:
        """The demo's email destination (created once), and where its messages land."""
        if settings.EMAIL_HOST:
            where = f"sent through SMTP at {settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
        elif settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
            where = f"written as files to {settings.EMAIL_FILE_PATH} (no EMAIL_HOST set)"
        else:
            where = f"handed to {settings.EMAIL_BACKEND}"
        if workspace is None:
            return [f"  Emails:       {where}"]
        destination = self._demo_email_destination(workspace)
        return [
            f"  Emails:       new leads go to {destination.target} "
            f"(the demo's email destination, {destination.state}),",
            f"                {where}",
        ]

    def _demo_email_destination(self, workspace: Workspace) -> Destination:
        emails = destination_list(workspace=workspace).filter(kind=DestinationKind.EMAIL)
        existing = emails.first()
        if existing is not None:
            return existing
        return destination_create(
            workspace=workspace,
            kind=DestinationKind.EMAIL,
            target=DEMO_EMAIL,
            description="Demo: an email for every new lead",
        )

    def _urls(self, base_url: str, workspace: Workspace | None) -> list[str]:
        if workspace is None:
            webhook = [f"  Webhook URL:  none (no workspace named {DEMO_WORKSPACE!r} any more)"]
        else:
            webhook = [
                f"  Workspace id: {workspace.id}",
                f"  Webhook URL:  {base_url}/v1/webhook/{workspace.id}",
            ]
        return [
            *webhook,
            f"  Admin:        {base_url}/admin/",
            f"  API docs:     {base_url}/v1/docs/",
        ]
