from django.core.management.base import BaseCommand, CommandParser

from outbound.management.commands._base import get_destination_or_fail
from outbound.services import destination_enable


class Command(BaseCommand):
    help = "Send to a disabled destination again; prints its id."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("destination_id")

    def handle(self, *args: object, **options: str) -> None:
        destination = get_destination_or_fail(options["destination_id"])
        destination_enable(destination=destination)
        self.stderr.write(f"Enabled {destination.kind} destination {destination.target}.")
        self.stdout.write(str(destination.id))
