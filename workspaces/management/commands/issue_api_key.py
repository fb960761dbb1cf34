from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from workspaces.management.commands._base import (
    WORKSPACE_HELP,
    get_workspace_or_fail,
    validation_fails_the_command,
)
from workspaces.models import ApiKeyScope
from workspaces.services import api_key_issue


class Command(BaseCommand):
    help = "Issue an API key for a workspace; prints the key, which is shown this once only."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help=WORKSPACE_HELP)
        parser.add_argument("--name", required=True, help="what the key is for")
        parser.add_argument("--expires-in-days", type=int, default=None)
        parser.add_argument(
            "--scopes",
            default=ApiKeyScope.INGEST.value,
            help=f"comma-separated, from {', '.join(ApiKeyScope.values)} (default: ingest)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = get_workspace_or_fail(str(options["workspace"]))
        with validation_fails_the_command():
            issued = api_key_issue(
                workspace=workspace,
                name=str(options["name"]),
                expires_in_days=options["expires_in_days"],
                scopes=str(options["scopes"]),
            )
        self.stderr.write(
            f"Issued key {issued.api_key.display_prefix}… for {workspace.name!r} "
            f"(scopes: {', '.join(issued.api_key.scopes)}). "
            "Store it now: it cannot be shown again."
        )
        self.stdout.write(issued.plaintext)
