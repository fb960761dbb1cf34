"""What the operator commands share: workspace lookup, tables, ValidationError → CommandError."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, OutputWrapper

from workspaces.models import Workspace
from workspaces.selectors import workspace_find

WORKSPACE_HELP = "workspace id, or its name when no other workspace has that name"


def get_workspace_or_fail(id_or_name: str) -> Workspace:
    """The workspace `--workspace` names (an id, or a unique name); a CommandError if none
    or several match."""
    found = workspace_find(id_or_name=id_or_name)
    if not found:
        raise CommandError(f"No workspace with id or name {id_or_name!r}.")
    if len(found) > 1:
        ids = ", ".join(str(workspace.id) for workspace in found)
        raise CommandError(
            f"{len(found)} workspaces are named {id_or_name.strip()!r}; pass one's id: {ids}."
        )
    return found[0]


def when(value: datetime | None, *, missing: str = "never") -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else missing


def write_table(out: OutputWrapper, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Left-aligned columns, two spaces apart, a header line first."""
    lines = [columns, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(columns))]
    for line in lines:
        out.write(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )


@contextmanager
def validation_fails_the_command() -> Iterator[None]:
    """A service's ValidationError inside the block ends the command as a CommandError (one
    line on stderr, a non-zero exit)."""
    try:
        yield
    except ValidationError as error:
        raise validation_to_command_error(error) from None


def validation_to_command_error(error: ValidationError) -> CommandError:
    if hasattr(error, "message_dict"):
        text = "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
        )
    else:
        text = " ".join(error.messages)
    return CommandError(text)
