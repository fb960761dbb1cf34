"""Reads for leads, always scoped by workspace."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.db.models import Count, Max, Q, QuerySet, Value
from django.db.models.functions import Lower

from hushmetrics.lookups import db_value, row_where
from leads.cursors import Keyset
from leads.models import Lead, LeadSearchText
from workspaces.models import Workspace


def lead_get_by_submission_id(*, workspace: Workspace, submission_id: str) -> Lead | None:
    """The lead a webhook delivery with this retry key already created, or None."""
    return Lead.objects.filter(workspace=workspace, submission_id=submission_id).first()


def lead_get_for_email(*, workspace: Workspace, email: str) -> Lead | None:
    """The workspace's earliest lead with this email in any letter case, or None.

    LOWER() on both sides (not `iexact`, which PostgreSQL compiles to UPPER()) so the query
    uses the (workspace, LOWER(email), created_at) index. Every opt-in asks it: written
    once, not compiled per request (`row_where`).
    """
    return row_where(
        Lead,
        '"workspace_id" = %s AND LOWER("email") = LOWER(%s)',
        [db_value(Lead, "workspace", workspace.pk), email],
        order_by='"created_at", "id"',
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


def lead_get(*, workspace: Workspace, lead_id: uuid.UUID) -> Lead | None:
    """The workspace's lead with this id, or None (also when another workspace has it)."""
    return Lead.objects.filter(workspace=workspace, pk=lead_id).first()


class LeadOrder(StrEnum):
    """The orders of GET /v1/leads; each is a keyset on (its field, id)."""

    NEWEST_FIRST = "-created_at"
    OLDEST_FIRST = "created_at"
    UPDATED = "updated_at"

    @property
    def field(self) -> str:
        return self.value.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.value.startswith("-")


class SpamFilter(StrEnum):
    EXCLUDE = "exclude"
    ONLY = "only"
    INCLUDE = "include"


@dataclass(frozen=True)
class LeadListFilters:
    """The filters of GET /v1/leads, validated; None is "not filtered"."""

    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    status: str | None = None
    source: str | None = None
    email: str | None = None
    q: str | None = None
    spam: SpamFilter = SpamFilter.EXCLUDE


def lead_list(
    *,
    workspace: Workspace,
    filters: LeadListFilters,
    order: LeadOrder,
    after: Keyset | None,
    limit: int,
) -> list[Lead]:
    """Up to `limit` of the workspace's leads that pass `filters`, in `order`, starting right
    after `after` (a keyset) or at the top. One query, whatever the depth.

    The keyset is written `field <= v AND (field < v OR id < i)` (mirrored for ascending):
    the first half is a range of the (workspace, field, id) indexes, so a deep page starts
    where the last one ended instead of counting past the rows before it.
    """
    if "\x00" in f"{filters.email or ''}{filters.q or ''}":
        # No lead holds a NUL (PostgreSQL cannot store one; every surface strips them), so
        # nothing matches, and the database is not asked (it would refuse the parameter).
        return []
    leads = Lead.objects.filter(workspace=workspace)
    if filters.spam is SpamFilter.EXCLUDE:
        leads = leads.filter(is_spam=False)
    elif filters.spam is SpamFilter.ONLY:
        leads = leads.filter(is_spam=True)
    if filters.created_after is not None:
        leads = leads.filter(created_at__gt=filters.created_after)
    if filters.created_before is not None:
        leads = leads.filter(created_at__lt=filters.created_before)
    if filters.updated_after is not None:
        leads = leads.filter(updated_at__gt=filters.updated_after)
    if filters.status is not None:
        leads = leads.filter(status=filters.status)
    if filters.source is not None:
        leads = leads.filter(source=filters.source)
    if filters.email is not None:
        # LOWER() on both sides, as the (workspace, LOWER(email), created_at) index is built.
        leads = leads.alias(email_lower=Lower("email")).filter(
            email_lower=Lower(Value(filters.email))
        )
    if filters.q is not None:
        leads = lead_search(leads, term=filters.q)
    field = order.field
    if after is not None:
        if order.descending:
            leads = leads.filter(
                Q(**{f"{field}__lte": after.value}),
                Q(**{f"{field}__lt": after.value}) | Q(id__lt=after.id),
            )
        else:
            leads = leads.filter(
                Q(**{f"{field}__gte": after.value}),
                Q(**{f"{field}__gt": after.value}) | Q(id__gt=after.id),
            )
    ordering = (f"-{field}", "-id") if order.descending else (field, "id")
    return list(leads.order_by(*ordering)[:limit])


def lead_search(leads: QuerySet[Lead], *, term: str) -> QuerySet[Lead]:
    """`leads` whose email, name or phone contains `term`, in any letter case.

    The condition is the one the trigram index lead_search_trgm (one GIN over the three
    fields joined by spaces) serves. A term without a space cannot straddle two fields there,
    so that alone is exact; a term with one is also checked field by field. (The check is
    left out when it is not needed: the planner takes the two conditions as independent and
    would expect far fewer matches, choosing the trigram index over walking the newest
    leads for a common term.)
    """
    leads = leads.alias(search_text=LeadSearchText()).filter(search_text__icontains=term)
    if " " in term:
        leads = leads.filter(
            Q(name__icontains=term) | Q(email__icontains=term) | Q(phone__icontains=term)
        )
    return leads


def lead_keyset(*, lead: Lead, order: LeadOrder) -> Keyset:
    """Where a page that ends with `lead` leaves off, in `order`."""
    return Keyset(value=getattr(lead, order.field), id=lead.id)
