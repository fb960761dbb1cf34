from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from workspaces.management.commands._base import get_workspace_or_fail
from workspaces.selectors import api_key_list

COLUMNS = ("PREFIX", "NAME", "WORKSPACE", "CREATED", "LAST USED", "STATE")


def _when(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"  # type: ignore[attr-defined]


class Command(BaseCommand):
    help = "List API keys (never their secrets): prefix, name, workspace, created, used, state."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", help="only this workspace's keys")

    def handle(self, *args: object, **options: str | None) -> None:
        workspace = get_workspace_or_fail(options["workspace"]) if options["workspace"] else None
        now = timezone.now()
        rows = [
            (
                key.display_prefix,
                key.name,
                f"{key.workspace.name} ({key.workspace_id})",
                _when(key.created_at),
                _when(key.last_used_at),
                key.state_at(now),
            )
            for key in api_key_list(workspace=workspace)
        ]
        widths = [max(len(row[i]) for row in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
        for row in [COLUMNS, *rows]:
            self.stdout.write(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )
        self.stderr.write(f"{len(rows)} key(s).")
