import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from workspaces.models import Workspace
from workspaces.selectors import workspaces_named
from workspaces.services import api_key_issue, workspace_create

DEMO_WORKSPACE = "Demo workspace"
DEMO_ADMIN = "admin"


class Command(BaseCommand):
    help = (
        "Print the demo's URLs (webhook, admin, docs) on every run. The first run (no admin "
        "user yet) also creates a demo workspace, an API key and an admin login, and prints "
        "them once."
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
        self.stdout.write("\n".join([*lines, ""]))

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
