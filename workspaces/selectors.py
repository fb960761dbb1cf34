"""Reads for workspaces and API keys."""

import contextlib
import uuid

from django.db.models import Q, QuerySet

from workspaces.models import ApiKey, Workspace


def workspace_get(*, workspace_id: str | uuid.UUID) -> Workspace | None:
    """The workspace with this id, or None (also for a malformed id)."""
    try:
        pk = workspace_id if isinstance(workspace_id, uuid.UUID) else uuid.UUID(str(workspace_id))
    except ValueError:
        return None
    return Workspace.objects.filter(pk=pk).first()


def api_key_list(*, workspace: Workspace | None = None) -> QuerySet[ApiKey]:
    keys = ApiKey.objects.select_related("workspace").order_by("-created_at")
    return keys.filter(workspace=workspace) if workspace is not None else keys


def api_key_find(*, prefix_or_id: str) -> ApiKey | None:
    """A key by its id, its public prefix, or its displayed prefix (`sk_live_XXXXXXXX`)."""
    value = prefix_or_id.strip()
    if value.startswith("sk_live_"):
        value = value[len("sk_live_") :][:8]
    query = Q(prefix=value)
    with contextlib.suppress(ValueError):
        query |= Q(pk=uuid.UUID(value))
    return ApiKey.objects.select_related("workspace").filter(query).first()
