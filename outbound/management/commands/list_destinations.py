from django.core.management.base import BaseCommand, CommandParser

from outbound.management.commands._base import get_workspace_or_fail, when
from outbound.selectors import destination_list

COLUMNS = ("ID", "KIND", "TARGET", "EVENTS", "STATE", "LAST SUCCESS", "LAST FAILURE")


class Command(BaseCommand):
    help = "List destinations (never their secrets): id, kind, target, events, state, outcomes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", help="only this workspace's destinations")

    def handle(self, *args: object, **options: str | None) -> None:
        workspace = get_workspace_or_fail(options["workspace"]) if options["workspace"] else None
        rows = [
            (
                str(destination.id),
                destination.kind,
                destination.target,
                ",".join(destination.event_types) or "all",
                destination.state,
                when(destination.last_success_at),
                when(destination.last_failure_at),
            )
            for destination in destination_list(workspace=workspace)
        ]
        widths = [max(len(row[i]) for row in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
        for row in [COLUMNS, *rows]:
            self.stdout.write(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )
        self.stderr.write(f"{len(rows)} destination(s).")
