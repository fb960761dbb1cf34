from django.core.management.base import BaseCommand, CommandParser

from outbound.management.commands._base import get_destination_or_fail
from outbound.services import destination_disable


class Command(BaseCommand):
    help = "Stop sending to a destination; prints its id."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("destination_id")
        parser.add_argument("--reason", default="Disabled by an operator.")

    def handle(self, *args: object, **options: str) -> None:
        destination = get_destination_or_fail(options["destination_id"])
        # By hand: the operator knows, so no alert goes to the workspace's email destinations.
        destination_disable(destination=destination, reason=options["reason"], alert=False)
        self.stderr.write(f"Disabled {destination.kind} destination {destination.target}.")
        self.stdout.write(str(destination.id))
