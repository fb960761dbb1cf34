from django.core.management.base import BaseCommand

from workspaces.management.commands._base import when, write_table
from workspaces.selectors import workspace_list_with_lead_counts

COLUMNS = ("ID", "NAME", "CREATED", "LEADS", "WEBHOOK", "API KEY")


class Command(BaseCommand):
    help = (
        "List workspaces, oldest first: id, name, created, leads, whether the webhook is on and "
        "whether create-lead requires an API key."
    )

    def handle(self, *args: object, **options: object) -> None:
        rows = [
            (
                str(workspace.id),
                workspace.name,
                when(workspace.created_at),
                str(workspace.lead_count),
                "on" if workspace.webhook_enabled else "off",
                "required" if workspace.require_api_key else "optional",
            )
            for workspace in workspace_list_with_lead_counts()
        ]
        write_table(self.stdout, COLUMNS, rows)
        self.stderr.write(f"{len(rows)} workspace(s).")
