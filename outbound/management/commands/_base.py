"""What the outbound commands share: lookups that fail clearly, ValidationError → CommandError."""

from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.utils.dateparse import parse_date, parse_datetime

from outbound.models import Destination
from outbound.selectors import destination_get
from workspaces.models import Workspace
from workspaces.selectors import workspace_get


def get_workspace_or_fail(workspace_id: str) -> Workspace:
    workspace = workspace_get(workspace_id=workspace_id)
    if workspace is None:
        raise CommandError(f"No workspace with id {workspace_id!r}.")
    return workspace


def get_destination_or_fail(destination_id: str) -> Destination:
    destination = destination_get(destination_id=destination_id)
    if destination is None:
        raise CommandError(f"No destination with id {destination_id!r}.")
    return destination


def validation_to_command_error(error: ValidationError) -> CommandError:
    if hasattr(error, "message_dict"):
        text = "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
        )
    else:
        text = " ".join(error.messages)
    return CommandError(text)


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


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"
