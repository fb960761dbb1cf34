"""Reads for opt-ins, each one query, each workspace-scoped."""

from optin.models import OptIn
from workspaces.models import Workspace


def optin_get_by_reference(
    *, workspace: Workspace, source: str, external_reference: str
) -> OptIn | None:
    """The opt-in a partner already sent with this reference and source, or None (one row at
    most: the constraint optin_unique_external_reference)."""
    try:
        return OptIn.objects.get(
            workspace=workspace, source=source, external_reference=external_reference
        )
    except OptIn.DoesNotExist:
        return None
