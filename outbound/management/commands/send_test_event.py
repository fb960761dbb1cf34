from django.core.management.base import BaseCommand, CommandParser

from outbound.management.commands._base import get_destination_or_fail
from outbound.services import destination_send_test_event


class Command(BaseCommand):
    help = "Send a destination.test event to one destination; prints the delivery id."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("destination_id")

    def handle(self, *args: object, **options: str) -> None:
        destination = get_destination_or_fail(options["destination_id"])
        delivery = destination_send_test_event(destination=destination)
        self.stderr.write(f"Queued a test event to {destination.target}.")
        self.stdout.write(str(delivery.id))
