from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from outbound.management.commands._base import get_workspace_or_fail, validation_to_command_error
from outbound.services import destination_create
from workspaces.management.commands._base import WORKSPACE_HELP


class Command(BaseCommand):
    help = (
        "Create a destination for a workspace's events: a webhook (--url), an email address "
        "(--email) or a Slack incoming webhook (--url). Prints its id and, for a webhook, its "
        "signing secret on a second line (shown this once)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help=WORKSPACE_HELP)
        parser.add_argument("--kind", required=True, choices=["webhook", "email", "slack"])
        parser.add_argument(
            "--url", help="the webhook URL, or the Slack incoming-webhook URL; https:// only"
        )
        parser.add_argument("--email", help="the address, for --kind email")
        parser.add_argument(
            "--events", default="", help="comma-separated event types (default: all)"
        )
        parser.add_argument("--include-spam", action="store_true", help="send spam leads too")
        parser.add_argument("--description", default="")

    def handle(self, *args: object, **options: object) -> None:
        workspace = get_workspace_or_fail(str(options["workspace"]))
        kind = str(options["kind"])
        if kind == "email" and options["url"]:
            raise CommandError("--url goes with --kind webhook or slack; use --email ADDRESS.")
        if kind != "email" and options["email"]:
            raise CommandError(f"--email goes with --kind email; use --url URL for {kind}.")
        target = options["email"] if kind == "email" else options["url"]
        if not target:
            raise CommandError(f"--{'email' if kind == 'email' else 'url'} is required.")
        try:
            destination = destination_create(
                workspace=workspace,
                kind=kind,
                target=str(target),
                event_types=str(options["events"]).split(","),
                include_spam=bool(options["include_spam"]),
                description=str(options["description"]),
            )
        except ValidationError as error:
            raise validation_to_command_error(error) from None
        self.stderr.write(f"Created {kind} destination for {workspace.name!r}.")
        self.stdout.write(str(destination.id))
        if destination.signing_secret:
            self.stderr.write("Its signing secret follows; store it now, it is shown this once.")
            self.stdout.write(destination.signing_secret)
