"""Reads for opt-ins: the lookups the submission makes, each one query, each workspace-scoped."""

from django.db.models import Value
from django.db.models.functions import Lower

from leads.models import Lead
from optin.models import OptIn
from workspaces.models import Profile, Workspace

SETTER_PREFIX = "user_"


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


def setter_get_for_utm_content(*, workspace: Workspace, utm_content: str) -> Profile | None:
    """The active profile `utm_content` names by Clerk user id (`user_…`), or None."""
    if not utm_content.startswith(SETTER_PREFIX):
        return None
    return Profile.objects.filter(
        workspace=workspace, clerk_user_id=utm_content, is_active=True
    ).first()
