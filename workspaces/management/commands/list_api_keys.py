from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from workspaces.management.commands._base import (
    WORKSPACE_HELP,
    get_workspace_or_fail,
    when,
    write_table,
)
from workspaces.selectors import api_key_list

COLUMNS = ("PREFIX", "NAME", "WORKSPACE", "SCOPES", "CREATED", "LAST USED", "EXPIRES", "STATE")


class Command(BaseCommand):
    help = (
        "List API keys (never their secrets): prefix, name, workspace, scopes, created, "
        "last used, expiry, state."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", help=f"only this workspace's keys: {WORKSPACE_HELP}")

    def handle(self, *args: object, **options: str | None) -> None:
        workspace = get_workspace_or_fail(options["workspace"]) if options["workspace"] else None
        now = timezone.now()
        rows = [
            (
                key.display_prefix,
                key.name,
                f"{key.workspace.name} ({key.workspace_id})",
                ",".join(key.scopes),
                when(key.created_at),
                when(key.last_used_at),
                when(key.expires_at),
                key.state_at(now),
            )
            for key in api_key_list(workspace=workspace)
        ]
        write_table(self.stdout, COLUMNS, rows)
        self.stderr.write(f"{len(rows)} key(s).")
