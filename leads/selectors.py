"""Reads for leads, always scoped by workspace."""

import uuid

from leads.models import Lead
from workspaces.models import Profile, Workspace


def lead_get_by_submission_id(*, workspace: Workspace, submission_id: str) -> Lead | None:
    """The lead a webhook delivery with this retry key already created, or None."""
    return Lead.objects.filter(workspace=workspace, submission_id=submission_id).first()


def workspace_profile_get(*, workspace: Workspace, profile_id: uuid.UUID) -> Profile | None:
    """The profile with this id in this workspace (never another workspace's), or None."""
    return Profile.objects.filter(workspace=workspace, pk=profile_id).first()
