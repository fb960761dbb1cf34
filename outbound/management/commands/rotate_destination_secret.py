from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandParser

from outbound.management.commands._base import (
    get_destination_or_fail,
    validation_to_command_error,
)
from outbound.services import ROTATION_OVERLAP, destination_rotate_secret


class Command(BaseCommand):
    help = "Give a webhook destination a new signing secret; prints it (shown this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("destination_id")

    def handle(self, *args: object, **options: str) -> None:
        destination = get_destination_or_fail(options["destination_id"])
        try:
            secret = destination_rotate_secret(destination=destination)
        except ValidationError as error:
            raise validation_to_command_error(error) from None
        hours = int(ROTATION_OVERLAP.total_seconds() // 3600)
        self.stderr.write(
            f"Rotated. For {hours} h deliveries carry signatures with both the old and the "
            "new secret; store the new one now, it is shown this once."
        )
        self.stdout.write(secret)
