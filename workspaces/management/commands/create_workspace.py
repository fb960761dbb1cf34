from django.core.management.base import BaseCommand, CommandParser

from workspaces.management.commands._base import validation_fails_the_command
from workspaces.selectors import workspaces_named
from workspaces.services import workspace_create


class Command(BaseCommand):
    help = "Create a workspace; prints its id."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument(
            "--require-api-key", action="store_true", help="reject create-lead without a key"
        )
        parser.add_argument(
            "--no-webhook", action="store_true", help="disable the universal webhook"
        )
        parser.add_argument(
            "--thank-you-url",
            default="",
            metavar="URL",
            help="where a browser's form post lands when it gives no valid _next (http/https)",
        )
        parser.add_argument(
            "--allowed-redirect-hosts",
            default="",
            metavar="HOSTS",
            help="other hosts _next may name, comma-separated: a.com,*.b.com",
        )

    def handle(self, *args: object, **options: object) -> None:
        namesakes = [str(workspace.id) for workspace in workspaces_named(name=str(options["name"]))]
        with validation_fails_the_command():
            workspace = workspace_create(
                name=str(options["name"]),
                require_api_key=bool(options["require_api_key"]),
                webhook_enabled=not options["no_webhook"],
                thank_you_url=str(options["thank_you_url"]),
                allowed_redirect_hosts=str(options["allowed_redirect_hosts"]),
            )
        if namesakes:
            self.stderr.write(
                f"Warning: {len(namesakes)} workspace(s) already named {workspace.name!r} "
                f"({', '.join(namesakes)}); --workspace needs this one's id from now on."
            )
        self.stderr.write(f"Created workspace {workspace.name!r}.")
        self.stdout.write(str(workspace.id))
