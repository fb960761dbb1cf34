"""What the outbound commands share: lookups that fail clearly, ValidationError → CommandError."""

from datetime import UTC, datetime

from django.core.management.base import CommandError
from django.utils.dateparse import parse_date, parse_datetime

from outbound.models import Destination
from outbound.selectors import destination_get

# The workspace lookup (an id, or a unique name), the ValidationError message and the time
# format are the operator commands' own, shared with the workspaces app's commands.
from workspaces.management.commands._base import (  # noqa: F401  (re-exported)
    get_workspace_or_fail,
    validation_to_command_error,
    when,
)


def get_destination_or_fail(destination_id: str) -> Destination:
    destination = destination_get(destination_id=destination_id)
    if destination is None:
        raise CommandError(f"No destination with id {destination_id!r}.")
    return destination


def parse_when(value: str, *, option: str) -> datetime:
    """An ISO 8601 date or date-time; without an offset it is UTC."""
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            if day is not None:
                parsed = datetime(day.year, day.month, day.day, tzinfo=UTC)
    except ValueError:
        parsed = None
    if parsed is None:
        raise CommandError(f"{option} must be an ISO 8601 date or time, not {value!r}.")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
