import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from workspaces.management.commands._base import (
    WORKSPACE_HELP,
    get_workspace_or_fail,
    validation_fails_the_command,
)
from workspaces.services import workspace_update

FIELDS = (
    "name",
    "require_api_key",
    "webhook_enabled",
    "thank_you_url",
    "allowed_redirect_hosts",
)


class Command(BaseCommand):
    help = (
        "Rename a workspace, switch its flags or set its redirect settings; what is not given "
        "stays. Prints its id."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("workspace", help=WORKSPACE_HELP)
        parser.add_argument("--name", help="the new name")
        parser.add_argument(
            "--require-api-key",
            action=argparse.BooleanOptionalAction,
            help="whether create-lead requests must carry one of the workspace's keys",
        )
        parser.add_argument(
            "--webhook",
            action=argparse.BooleanOptionalAction,
            help="whether the universal webhook takes submissions (off: 404)",
        )
        parser.add_argument(
            "--thank-you-url",
            metavar="URL",
            help="where a browser's form post lands when it gives no valid _next; '' clears",
        )
        parser.add_argument(
            "--allowed-redirect-hosts",
            metavar="HOSTS",
            help="other hosts _next may name, comma-separated (a.com,*.b.com); '' clears",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = get_workspace_or_fail(options["workspace"])
        before = {field: getattr(workspace, field) for field in FIELDS}
        with validation_fails_the_command():
            workspace = workspace_update(
                workspace=workspace,
                name=options["name"],
                require_api_key=options["require_api_key"],
                webhook_enabled=options["webhook"],
                thank_you_url=options["thank_you_url"],
                allowed_redirect_hosts=options["allowed_redirect_hosts"],
            )
        changes = [
            f"{field} {before[field]!r} → {getattr(workspace, field)!r}"
            for field in FIELDS
            if getattr(workspace, field) != before[field]
        ]
        if changes:
            self.stderr.write(f"Updated workspace {workspace.name!r}: {', '.join(changes)}.")
        else:
            self.stderr.write(f"Workspace {workspace.name!r}: nothing to change.")
        self.stdout.write(str(workspace.id))
