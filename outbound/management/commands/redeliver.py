from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from outbound.management.commands._base import (
    get_destination_or_fail,
    parse_when,
    validation_to_command_error,
)
from outbound.selectors import delivery_get
from outbound.services import delivery_redeliver, destination_redeliver


class Command(BaseCommand):
    help = (
        "Send events again as new deliveries (same event, same webhook-id): one delivery, "
        "or a destination's failed (or all) deliveries in a time range. Prints how many."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--delivery", help="a delivery id")
        which.add_argument("--destination", help="a destination id")
        parser.add_argument("--since", help="events created at or after (ISO 8601)")
        parser.add_argument("--until", help="events created at or before (ISO 8601)")
        parser.add_argument("--state", choices=["failed", "all"], default="failed")

    def handle(self, *args: object, **options: str | None) -> None:
        if options["delivery"]:
            if options["since"] or options["until"] or options["state"] != "failed":
                raise CommandError("--since, --until and --state go with --destination.")
            delivery = delivery_get(delivery_id=options["delivery"])
            if delivery is None:
                raise CommandError(f"No delivery with id {options['delivery']!r}.")
            new = delivery_redeliver(delivery=delivery)
            self.stderr.write(f"Queued delivery {new.id} of event {delivery.event_id}.")
            self.stdout.write("1")
            return
        destination = get_destination_or_fail(str(options["destination"]))
        since = parse_when(options["since"], option="--since") if options["since"] else None
        until = parse_when(options["until"], option="--until") if options["until"] else None
        try:
            count = destination_redeliver(
                destination=destination, since=since, until=until, state=str(options["state"])
            )
        except ValidationError as error:
            raise validation_to_command_error(error) from None
        self.stderr.write(f"Queued {count} event(s) to {destination.target} again.")
        self.stdout.write(str(count))
