from django.core.management.base import BaseCommand, CommandParser

from workspaces.management.commands._base import (
    WORKSPACE_HELP,
    get_workspace_or_fail,
    validation_fails_the_command,
)
from workspaces.services import profile_create


class Command(BaseCommand):
    help = "Create a profile in a workspace; prints its id."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help=WORKSPACE_HELP)
        parser.add_argument("--clerk-user-id", required=True, help="Clerk user id, user_…")
        parser.add_argument("--name", default="")
        parser.add_argument("--email", default="")

    def handle(self, *args: object, **options: str) -> None:
        workspace = get_workspace_or_fail(options["workspace"])
        with validation_fails_the_command():
            profile = profile_create(
                workspace=workspace,
                clerk_user_id=options["clerk_user_id"],
                name=options["name"],
                email=options["email"],
            )
        self.stderr.write(f"Created profile {profile.clerk_user_id} in {workspace.name!r}.")
        self.stdout.write(str(profile.id))
