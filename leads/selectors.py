"""Reads for leads, always scoped by workspace."""

from django.db.models import Value
from django.db.models.functions import Lower

from leads.models import Lead
from workspaces.models import Workspace


def lead_get_by_submission_id(*, workspace: Workspace, submission_id: str) -> Lead | None:
    """The lead a webhook delivery with this retry key already created, or None."""
    return Lead.objects.filter(workspace=workspace, submission_id=submission_id).first()


def lead_get_for_email(*, workspace: Workspace, email: str) -> Lead | None:
    """The workspace's earliest lead with this email in any letter case, or None.

    LOWER() on both sides (not `iexact`, which PostgreSQL compiles to UPPER()) so the query
    uses the (workspace, LOWER(email), created_at) index.
    """
    return (
        Lead.objects.alias(email_lower=Lower("email"))
        .filter(workspace=workspace, email_lower=Lower(Value(email)))
        .order_by("created_at", "id")
        .first()
    )
