"""Reads for workspaces, profiles and API keys."""

import contextlib
import uuid
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.db.models import Count, Q, QuerySet

from hushmetrics.lookups import row_where
from workspaces.keys import public_part
from workspaces.models import CLERK_USER_ID_PREFIX, ApiKey, Profile, Workspace

if TYPE_CHECKING:
    # Type-checking only: django-stubs-ext is a dev requirement, not a runtime one.
    from django_stubs_ext import WithAnnotations


def _as_uuid(value: str | uuid.UUID) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def workspace_get(*, workspace_id: str | uuid.UUID) -> Workspace | None:
    """The workspace with this id, or None (also for a malformed id)."""
    pk = _as_uuid(workspace_id)
    if pk is None:
        return None
    try:
        return Workspace.objects.get(pk=pk)
    except Workspace.DoesNotExist:
        return None


def workspace_find(*, id_or_name: str) -> list[Workspace]:
    """What an operator's `--workspace` value names: the workspace with that id, else every
    workspace with exactly that name (none, one, or several: the caller decides)."""
    value = id_or_name.strip()
    by_id = workspace_get(workspace_id=value)
    if by_id is not None:
        return [by_id]
    return list(workspaces_named(name=value))


def workspaces_named(*, name: str) -> QuerySet[Workspace]:
    """Workspaces with exactly this name (names are not unique), oldest first."""
    return Workspace.objects.filter(name=name.strip()).order_by("created_at", "id")


class LeadCount(TypedDict):
    lead_count: int


def workspace_list_with_lead_counts() -> "QuerySet[WithAnnotations[Workspace, LeadCount]]":
    """Every workspace, oldest first, each with `lead_count`: one query however many."""
    return Workspace.objects.annotate(lead_count=Count("leads")).order_by("created_at", "id")


def _cache_key(workspace_id: uuid.UUID) -> str:
    return f"workspace:{workspace_id}"


def workspace_get_cached(*, workspace_id: str | uuid.UUID) -> Workspace | None:
    """`workspace_get`, remembered by this process for WORKSPACE_CACHE_SECONDS.

    The public endpoints read a workspace's flags on every submission; this saves that
    query. An edit made in this process is seen at once (`workspace_cache_forget` runs on
    save and delete), one made in another worker within WORKSPACE_CACHE_SECONDS. A missing
    workspace is not remembered, so a new one takes submissions at once.
    """
    pk = _as_uuid(workspace_id)
    if pk is None:
        return None
    local = caches["local"]
    workspace: Workspace | None = local.get(_cache_key(pk))
    if workspace is None:
        workspace = workspace_get(workspace_id=pk)
        if workspace is not None and settings.WORKSPACE_CACHE_SECONDS > 0:
            local.set(_cache_key(pk), workspace, settings.WORKSPACE_CACHE_SECONDS)
    return workspace


def workspace_cache_forget(*, workspace_id: uuid.UUID) -> None:
    caches["local"].delete(_cache_key(workspace_id))


def workspace_cache_on_change(sender: type, instance: Workspace, **kwargs: object) -> None:
    """post_save / post_delete receiver (connected in WorkspacesConfig.ready).

    Forgets the row now and again once the edit commits: a request in another thread could
    otherwise cache the old row in between, for WORKSPACE_CACHE_SECONDS.
    """
    workspace_id = instance.pk
    workspace_cache_forget(workspace_id=workspace_id)
    transaction.on_commit(lambda: workspace_cache_forget(workspace_id=workspace_id))


def profile_get(*, workspace: Workspace, profile_id: uuid.UUID) -> Profile | None:
    """The profile with this id in this workspace (never another workspace's), or None."""
    return Profile.objects.filter(workspace=workspace, pk=profile_id).first()


def profile_get_active(*, workspace: Workspace, clerk_user_id: str) -> Profile | None:
    """The workspace's active profile with this Clerk user id, or None. Text that is not a
    Clerk user id (`user_…`) names no profile, and costs no query."""
    if not clerk_user_id.startswith(CLERK_USER_ID_PREFIX):
        return None
    return Profile.objects.filter(
        workspace=workspace, clerk_user_id=clerk_user_id, is_active=True
    ).first()


def api_key_get_by_prefix(*, prefix: str) -> ApiKey | None:
    """The key with this public prefix (unique), or None; its workspace is not read.

    Every API request with a key asks it: written once, not compiled per request
    (`row_where`). `api_key_verify` gives a verified key its workspace.
    """
    return row_where(ApiKey, '"prefix" = %s', [prefix])


def api_key_list(*, workspace: Workspace | None = None) -> QuerySet[ApiKey]:
    keys = ApiKey.objects.select_related("workspace").order_by("-created_at")
    return keys.filter(workspace=workspace) if workspace is not None else keys


def api_key_find(*, prefix_or_id: str) -> ApiKey | None:
    """A key by its id, its public prefix, or its displayed prefix (`sk_live_XXXXXXXX`)."""
    value = public_part(prefix_or_id)
    query = Q(prefix=value)
    with contextlib.suppress(ValueError):
        query |= Q(pk=uuid.UUID(value))
    return ApiKey.objects.select_related("workspace").filter(query).first()
