"""What the operator commands share: workspace lookup and ValidationError → CommandError."""

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from workspaces.models import Workspace
from workspaces.selectors import workspace_get


def get_workspace_or_fail(workspace_id: str) -> Workspace:
    workspace = workspace_get(workspace_id=workspace_id)
    if workspace is None:
        raise CommandError(f"No workspace with id {workspace_id!r}.")
    return workspace


def validation_to_command_error(error: ValidationError) -> CommandError:
    if hasattr(error, "message_dict"):
        text = "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
        )
    else:
        text = " ".join(error.messages)
    return CommandError(text)
