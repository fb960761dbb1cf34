import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from workspaces.models import Workspace
from workspaces.services import api_key_issue, workspace_create

DEMO_WORKSPACE = "Demo workspace"
DEMO_ADMIN = "admin"


class Command(BaseCommand):
    help = (
        "First run only: create a demo workspace, an API key and an admin login, and print "
        "them once. Does nothing when an admin user already exists."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        base_url = str(options["base_url"]).rstrip("/")
        user_model = get_user_model()
        if user_model.objects.filter(is_superuser=True).exists():
            self.stderr.write("Demo data already set up (an admin user exists); nothing to do.")
            return
        password = secrets.token_urlsafe(12)
        user_model.objects.create_superuser(DEMO_ADMIN, "admin@example.com", password)
        workspace = Workspace.objects.filter(name=DEMO_WORKSPACE).first() or workspace_create(
            name=DEMO_WORKSPACE
        )
        issued = api_key_issue(workspace=workspace, name="demo key")
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "First run: demo data created. This is shown once; keep it.",
                    f"  Admin:        {base_url}/admin/  user {DEMO_ADMIN!r}  "
                    f"password {password!r}",
                    f"  Workspace id: {workspace.id}",
                    f"  API key:      {issued.plaintext}",
                    f"  Webhook URL:  {base_url}/v1/webhook/{workspace.id}",
                    "",
                ]
            )
        )
