"""Writes for leads. Every surface (API, webhook, opt-in, admin) creates and edits through here."""

import hmac
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Model

from hushmetrics.inserts import rows_insert, rows_stamp
from leads.models import Lead
from leads.selectors import lead_get_by_submission_id
from leads.serializers import lead_output
from leads.webhook import WebhookSubmission
from outbound.models import EventType
from outbound.services import PlannedEvent, event_emit, event_plan, event_ring
from workspaces.models import Profile, Workspace
from workspaces.selectors import workspace_get_cached

# Fields staff and services may change on an existing lead.
EDITABLE_FIELDS = frozenset(
    {
        "name",
        "email",
        "phone",
        "status",
        "source",
        "value",
        "setter",
        "created_by",
        "utm",
        "extra_data",
        "page_url",
        "is_spam",
    }
)


def lead_create(
    *,
    workspace: Workspace,
    name: str = "",
    email: str = "",
    phone: str = "",
    status: str = Lead.Status.CONTACT,
    source: str = Lead.Source.OTHER,
    value: Decimal = Decimal("0"),
    created_by: Profile | None = None,
    setter: Profile | None = None,
    utm: dict[str, Any] | None = None,
    extra_data: dict[str, Any] | None = None,
    page_url: str | None = None,
    is_spam: bool = False,
    submission_id: str | None = None,
    submission_fingerprint: str | None = None,
) -> Lead:
    """Insert one lead and emit `lead.created` (SPEC §9). Inputs are already validated by
    the caller's surface. One statement: the lead alone for a workspace with no active
    destination, else the lead, its event and the event's deliveries (`rows_insert`, on
    PostgreSQL; elsewhere, one transaction)."""
    fields = dict(
        workspace=workspace,
        name=name,
        email=email,
        phone=phone,
        status=status,
        source=source,
        value=value,
        created_by=created_by,
        setter=setter,
        utm=utm,
        extra_data=extra_data,
        page_url=page_url,
        is_spam=is_spam,
        submission_id=submission_id,
        submission_fingerprint=submission_fingerprint,
    )
    lead = Lead(**fields)
    rows, planned = lead_rows(lead, announce_to_people=True)
    rows_insert(rows)
    if planned:
        event_ring(planned)
    return lead


def lead_rows(lead: Lead, *, announce_to_people: bool) -> tuple[list[Model], PlannedEvent | None]:
    """A new lead's rows, for a caller that writes it with rows of its own in one statement:
    the lead, stamped, then its `lead.created` event and deliveries (`event_plan`; none for a
    workspace with no active destination). The caller writes them (`rows_insert`), then
    rings the event (`event_ring`). `announce_to_people=False` when the caller emits the
    event email and Slack are told of (an opt-in's `optin.created`)."""
    rows_stamp(lead)
    planned = event_plan(
        workspace=lead.workspace,
        type=EventType.LEAD_CREATED,
        payload=lambda: {"lead": lead_event_object(lead)},
        is_spam=lead.is_spam,
        people=announce_to_people,
    )
    return ([lead, *planned.rows] if planned else [lead]), planned


def lead_updated_emit(*, workspace: Workspace, lead: Lead, changed_fields: list[str]) -> None:
    """Emit `lead.updated` for an edit by staff or the lead API (SPEC §9, §10), inside the
    edit's transaction; nothing when no field changed. No query for a workspace with no
    active destination."""
    if changed_fields:
        event_emit(
            workspace=workspace,
            type=EventType.LEAD_UPDATED,
            payload={"lead": lead_event_object(lead), "changed_fields": sorted(changed_fields)},
            is_spam=lead.is_spam,
        )


def lead_event_object(lead: Lead) -> dict[str, Any]:
    """The lead as events carry it: the A.1 object plus `is_spam` (SPEC §9)."""
    return {**lead_output(lead), "is_spam": lead.is_spam}


def lead_update(*, lead: Lead, data: dict[str, Any]) -> Lead:
    """Change the given fields of a lead (and updated_at), writing only those columns: one
    UPDATE statement, atomic by itself (no savepoint inside a caller's transaction)."""
    _lead_write(lead, data)
    return lead


def _lead_write(lead: Lead, data: dict[str, Any]) -> list[str]:
    """Set and save the fields of `data` that differ from the lead's; their names."""
    unknown = set(data) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    changed = [field for field, value in data.items() if getattr(lead, field) != value]
    for field in changed:
        setattr(lead, field, data[field])
    if changed:
        lead.save(update_fields=[*changed, "updated_at"])
    return changed


def _differs(lead: Lead, field: str, value: Any) -> bool:
    # A relation is compared by id, so an unchanged setter costs no query.
    if field in ("setter", "created_by"):
        return bool(getattr(lead, f"{field}_id") != (value.pk if value is not None else None))
    return bool(getattr(lead, field) != value)


@transaction.atomic
def lead_edit(*, lead: Lead, data: dict[str, Any]) -> Lead:
    """A lead edited by staff (the admin) or through the lead API (SPEC §10): on the row
    locked and read again, so the comparison is against what is stored and not a copy another
    edit has since overtaken, only the fields of `data` that differ are written (none: nothing
    written), and `lead.updated` is emitted with them in the same transaction (SPEC §9; no
    query for a workspace with no destination). Returns the lead as it is now; raises
    Lead.DoesNotExist when it was erased in between."""
    with transaction.atomic(savepoint=False):
        current = (
            Lead.objects.select_for_update()
            .filter(pk=lead.pk, workspace_id=lead.workspace_id)
            .get()
        )
        differing = {f: value for f, value in data.items() if _differs(current, f, value)}
        changed = _lead_write(current, differing)
        if changed:
            workspace = workspace_get_cached(workspace_id=current.workspace_id)
            lead_updated_emit(
                workspace=workspace or current.workspace, lead=current, changed_fields=changed
            )
    return current


def lead_touch(*, lead: Lead) -> Lead:
    """Record new activity on a lead with nothing to change: only updated_at moves."""
    lead.save(update_fields=["updated_at"])
    return lead


@transaction.atomic
def lead_erase(*, lead: Lead) -> dict[str, int]:
    """Delete a lead with everything stored under it (its opt-ins and their answers, by the
    foreign keys' CASCADE); rows deleted per model label (`leads.Lead`: 1, …).

    SPEC §12's erasure (inbound log entries, event payloads) extends this function when
    those exist; every caller that erases one lead comes through here.
    """
    _total, deleted = lead.delete()
    return deleted


class SubmissionIdReused(Exception):
    """A submission id already stored for the workspace came with a different body."""


def webhook_lead_ingest(
    *, workspace: Workspace, submission: WebhookSubmission
) -> tuple[Lead, bool]:
    """Store one webhook delivery as a lead: (lead, created).

    A delivery whose submission id was already stored for the workspace with the same body
    (fingerprint) returns that lead and writes nothing, also when retries race: the unique
    constraint on (workspace, submission_id) settles it, and the loser reads the winner. With
    another body it raises SubmissionIdReused, and the caller reveals nothing of the stored
    lead (as Stripe treats a reused idempotency key). The first delivery is one query (the
    insert); a retry is the failed insert and the read.
    """
    submission_id = submission.submission_id
    create = partial(
        lead_create,
        workspace=workspace,
        name=submission.name,
        email=submission.email,
        phone=submission.phone,
        source=submission.source,
        value=submission.value,
        utm=submission.utm,
        extra_data=submission.extra_data,
        page_url=submission.page_url,
        is_spam=submission.is_spam,
        submission_id=submission_id,
        submission_fingerprint=submission.fingerprint if submission_id else None,
    )
    try:
        if connection.in_atomic_block:
            # Inside a caller's transaction a savepoint keeps a lost race from aborting it.
            with transaction.atomic():
                lead = create()
        else:
            # In autocommit the INSERT is its own transaction (committed before the 2xx); a
            # failed one leaves nothing to roll back, and costs no BEGIN/COMMIT round trips.
            lead = create()
    except IntegrityError:
        if submission_id is None:
            raise
        winner = lead_get_by_submission_id(workspace=workspace, submission_id=submission_id)
        if winner is None:
            raise
        # A lead stored before fingerprints were kept has none: only its own body could
        # prove a retry, so it is treated as another body.
        if not hmac.compare_digest(
            winner.submission_fingerprint or "", submission.fingerprint or "-"
        ):
            raise SubmissionIdReused from None
        return winner, False
    return lead, True
