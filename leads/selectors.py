"""Reads for leads, always scoped by workspace."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q, Value
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


@dataclass(frozen=True)
class LeadActivity:
    """How a workspace's inbox is doing: its newest lead's time and recent lead counts."""

    last_received_at: datetime | None
    last_24_hours: int
    last_7_days: int


def workspace_lead_activity(*, workspace: Workspace, now: datetime) -> LeadActivity:
    """The newest lead's time and the counts of the last 24 hours and 7 days (spam
    included: it was received too). Two queries on the (workspace, -created_at) index: a
    MAX, and COUNTs over the 7-day range only, however many leads the workspace holds."""
    recent = Lead.objects.filter(workspace=workspace, created_at__gt=now - timedelta(days=7))
    counts = recent.aggregate(
        last_7_days=Count("pk"),
        last_24_hours=Count("pk", filter=Q(created_at__gt=now - timedelta(hours=24))),
    )
    newest = Lead.objects.filter(workspace=workspace).aggregate(last=Max("created_at"))
    return LeadActivity(
        last_received_at=newest["last"],
        last_24_hours=counts["last_24_hours"],
        last_7_days=counts["last_7_days"],
    )
