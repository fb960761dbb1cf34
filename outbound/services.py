"""Writes for outbound events: destinations, events and their deliveries (SPEC §9).

Leads and opt-ins call `event_emit` inside their own transactions; everything else here
is for operators (commands, admin). A delivery is rung (its task sent) only once the
transaction that wrote it has committed; the sweep (outbound.engine) rings whatever was
missed, so the rows, not the broker, decide what is sent.
"""

import base64
import logging
import secrets
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hushmetrics.inserts import rows_insert, rows_stamp
from hushmetrics.timestamps import api_timestamp
from outbound import tasks
from outbound.models import (
    Delivery,
    DeliveryState,
    Destination,
    DestinationKind,
    Event,
    EventType,
)
from outbound.network import BadTarget, vet_target
from workspaces.models import Workspace
from workspaces.selectors import workspace_cache_forget

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = 32
# After a rotation the old secret signs too, for receivers still configured with it.
ROTATION_OVERLAP = timedelta(hours=24)
# Event types a destination may subscribe to (destination.test is sent on request only).
SUBSCRIBABLE_EVENTS = (EventType.LEAD_CREATED, EventType.OPTIN_CREATED, EventType.LEAD_UPDATED)
# Kinds read by people, who get one message per submission (SPEC §9).
PEOPLE_KINDS = (DestinationKind.EMAIL, DestinationKind.SLACK)
MAX_DESCRIPTION = 200


def secret_generate() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


# --- Destinations ---------------------------------------------------------------------------


def _lock_workspace(*, workspace_id: uuid.UUID) -> None:
    """Serialise destination changes of one workspace, so its flag is computed right."""
    list(Workspace.objects.select_for_update().filter(pk=workspace_id).values_list("pk"))


def _workspace_flag_refresh(*, workspace_id: uuid.UUID) -> None:
    """Keep Workspace.has_active_destinations true exactly when it has one (same transaction).

    Other processes see the change within WORKSPACE_CACHE_SECONDS (their cached row)."""
    active = Destination.objects.filter(workspace_id=workspace_id, is_active=True).exists()
    Workspace.objects.filter(pk=workspace_id).update(has_active_destinations=active)
    workspace_cache_forget(workspace_id=workspace_id)
    transaction.on_commit(lambda: workspace_cache_forget(workspace_id=workspace_id))
    _routes_forget(workspace_id=workspace_id)


class Route(NamedTuple):
    """What event_emit needs of an active destination (cached per process)."""

    id: uuid.UUID
    kind: str
    event_types: list[str]
    include_spam: bool


def _routes_key(workspace_id: uuid.UUID) -> str:
    return f"outbound-routes:{workspace_id}"


def _routes(*, workspace_id: uuid.UUID) -> list[Route]:
    """The workspace's active destinations, remembered by this process for
    WORKSPACE_CACHE_SECONDS like the workspace row whose flag sends us here: a change made in
    this process is seen at once, one made in another within that time (a delivery created
    for a destination disabled meanwhile fails when it comes up, as one already pending does).
    """
    local = caches["local"]
    key = _routes_key(workspace_id)
    routes: list[Route] | None = local.get(key)
    if routes is None:
        routes = [
            Route(*row)
            for row in Destination.objects.filter(
                workspace_id=workspace_id, is_active=True
            ).values_list("id", "kind", "event_types", "include_spam")
        ]
        local.set(key, routes, settings.WORKSPACE_CACHE_SECONDS)
    return routes


def _routes_forget(*, workspace_id: uuid.UUID) -> None:
    """Drop this process's routes now and once the change commits (a read in between could
    cache the rows as they were)."""
    key = _routes_key(workspace_id)
    caches["local"].delete(key)
    transaction.on_commit(lambda: caches["local"].delete(key))


def _clean_target(*, kind: str, target: str) -> str:
    target = (target or "").strip()
    if kind == DestinationKind.EMAIL:
        try:
            validate_email(target)
        except ValidationError:
            raise ValidationError({"target": "Enter a valid email address."}) from None
        return target
    if not target:
        raise ValidationError({"target": "A URL is required."})
    try:
        vet_target(target, allow_private=settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS)
    except BadTarget as error:
        raise ValidationError({"target": str(error)}) from None
    return target


def _clean_event_types(event_types: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for event_type in event_types:
        event_type = event_type.strip()
        if not event_type:
            continue
        if event_type not in SUBSCRIBABLE_EVENTS:
            allowed = ", ".join(SUBSCRIBABLE_EVENTS)
            raise ValidationError(
                {"event_types": f"Unknown event type {event_type!r}; one of: {allowed}."}
            )
        if event_type not in cleaned:
            cleaned.append(event_type)
    return cleaned


def destination_validate(
    *, kind: str, target: str, event_types: Iterable[str] = (), description: str = ""
) -> tuple[str, list[str], str]:
    """The cleaned (target, event_types, description), or a ValidationError saying why."""
    if kind not in DestinationKind.values:
        raise ValidationError({"kind": f"Unknown kind {kind!r}; one of: webhook, email, slack."})
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise ValidationError(
            {"description": f"The description is too long ({MAX_DESCRIPTION} characters at most)."}
        )
    return _clean_target(kind=kind, target=target), _clean_event_types(event_types), description


@transaction.atomic
def destination_create(
    *,
    workspace: Workspace,
    kind: str,
    target: str,
    event_types: Iterable[str] = (),
    include_spam: bool = False,
    description: str = "",
) -> Destination:
    """Create an active destination; a webhook gets its signing secret (on the result)."""
    target, cleaned_types, description = destination_validate(
        kind=kind, target=target, event_types=event_types, description=description
    )
    _lock_workspace(workspace_id=workspace.pk)
    destination = Destination.objects.create(
        workspace=workspace,
        kind=kind,
        target=target,
        event_types=cleaned_types,
        include_spam=include_spam,
        description=description,
        signing_secret=secret_generate() if kind == DestinationKind.WEBHOOK else "",
    )
    _workspace_flag_refresh(workspace_id=workspace.pk)
    workspace.has_active_destinations = True
    return destination


@transaction.atomic
def destination_update(
    *,
    destination: Destination,
    target: str | None = None,
    event_types: Iterable[str] | None = None,
    include_spam: bool | None = None,
    description: str | None = None,
) -> Destination:
    """Change what a destination receives; a changed target is checked like a new one."""
    new_target, cleaned_types, new_description = destination_validate(
        kind=destination.kind,
        target=destination.target if target is None else target,
        event_types=destination.event_types if event_types is None else event_types,
        description=destination.description if description is None else description,
    )
    destination.target = new_target
    destination.event_types = cleaned_types
    destination.description = new_description
    if include_spam is not None:
        destination.include_spam = include_spam
    destination.save(update_fields=["target", "event_types", "description", "include_spam"])
    _routes_forget(workspace_id=destination.workspace_id)
    return destination


@transaction.atomic
def destination_disable(
    *, destination: Destination, reason: str, alert: bool = True
) -> Destination:
    """Stop sending to a destination (its pending deliveries fail when they come up).

    An active destination disabled with `alert` (the engine's 410 and days-of-failures rules)
    tells the workspace's other active email destinations, in this same transaction: a
    `destination.disabled` event, delivered like any other. Staff disabling one by hand pass
    alert=False: they know."""
    _lock_workspace(workspace_id=destination.workspace_id)
    # Read under the workspace's lock: of two workers disabling it at once, one alerts.
    was_active = Destination.objects.filter(pk=destination.pk, is_active=True).exists()
    destination.is_active = False
    destination.disabled_reason = reason[:300]
    destination.save(update_fields=["is_active", "disabled_reason"])
    _workspace_flag_refresh(workspace_id=destination.workspace_id)
    if alert and was_active:
        _disabled_alert_emit(destination=destination)
    return destination


def target_label(destination: Destination) -> str:
    """The target as an alert shows it: an address, or a URL without its query and with a
    long last path segment shortened (a Slack webhook's path is its secret)."""
    if destination.kind == DestinationKind.EMAIL:
        return destination.target
    parts = urlsplit(destination.target)
    head, _, last = parts.path.rpartition("/")
    if len(last) > 8:
        last = last[:4] + "…"
    return f"{parts.scheme}://{parts.netloc}{head}/{last}"


def _disabled_alert_emit(*, destination: Destination) -> Event | None:
    """A `destination.disabled` event to the workspace's active email destinations (the
    disabled one is no longer among them); None when it has none."""
    recipients = list(
        Destination.objects.filter(
            workspace_id=destination.workspace_id, is_active=True, kind=DestinationKind.EMAIL
        )
    )
    if not recipients:
        logger.warning(
            "destination %s disabled (%s): no email destination to tell",
            destination.id,
            destination.disabled_reason,
        )
        return None
    event = Event.objects.create(
        workspace_id=destination.workspace_id,
        type=EventType.DESTINATION_DISABLED,
        payload={
            "destination": {
                "id": str(destination.id),
                "kind": destination.kind,
                "target": target_label(destination),
                "description": destination.description,
            },
            "reason": destination.disabled_reason,
            "disabled_at": api_timestamp(timezone.now()),
        },
    )
    _deliveries_create(event=event, destinations=recipients)
    return event


@transaction.atomic
def destination_enable(*, destination: Destination) -> Destination:
    """Send to a destination again, with a clean failure record."""
    _lock_workspace(workspace_id=destination.workspace_id)
    destination.is_active = True
    destination.disabled_reason = ""
    destination.failing_since = None
    destination.save(update_fields=["is_active", "disabled_reason", "failing_since"])
    _workspace_flag_refresh(workspace_id=destination.workspace_id)
    _outcome_forget(destination.id)
    return destination


@transaction.atomic
def destination_rotate_secret(*, destination: Destination) -> str:
    """A new signing secret; the old one still signs (beside it) for ROTATION_OVERLAP."""
    if destination.kind != DestinationKind.WEBHOOK:
        raise ValidationError("Only webhook destinations have a signing secret.")
    locked = Destination.objects.select_for_update().get(pk=destination.pk)
    locked.previous_signing_secret = locked.signing_secret
    locked.previous_secret_expires_at = timezone.now() + ROTATION_OVERLAP
    locked.signing_secret = secret_generate()
    locked.save(
        update_fields=["signing_secret", "previous_signing_secret", "previous_secret_expires_at"]
    )
    destination.signing_secret = locked.signing_secret
    destination.previous_signing_secret = locked.previous_signing_secret
    destination.previous_secret_expires_at = locked.previous_secret_expires_at
    return locked.signing_secret


# What this process last recorded per destination: (ok, at), set once it committed.
_outcomes: dict[uuid.UUID, tuple[bool, datetime]] = {}
OUTCOME_RESOLUTION = timedelta(seconds=1)


def destination_record_outcome(*, destination_id: uuid.UUID, ok: bool, at: datetime) -> None:
    """The destination's last success / failure and its run of failures (auto-disable).

    Conditional UPDATEs that match nothing in the steady state, so a busy destination is
    not a row every worker writes on every delivery; and no statement at all for a failure
    when this process committed a failure for it less than OUTCOME_RESOLUTION ago (the
    timestamps are kept to that resolution; a failing destination costs two UPDATEs a
    delivery otherwise). At worst that delays another process's success being undone by
    this failure by that second. Successes are always written: one skipped could leave
    another process's failing_since standing, and the destination disabled days later."""
    last = _outcomes.get(destination_id)
    if not ok and last is not None and not last[0] and at - last[1] < OUTCOME_RESOLUTION:
        return
    rows = Destination.objects.filter(pk=destination_id)
    resolution = at - OUTCOME_RESOLUTION
    if ok:
        rows.filter(
            Q(last_success_at__isnull=True)
            | Q(last_success_at__lt=resolution)
            | Q(failing_since__isnull=False)
        ).update(last_success_at=at, failing_since=None)
    else:
        rows.filter(failing_since__isnull=True).update(failing_since=at)
        rows.filter(Q(last_failure_at__isnull=True) | Q(last_failure_at__lt=resolution)).update(
            last_failure_at=at
        )
    transaction.on_commit(partial(_outcome_remember, destination_id, ok, at))


def _outcome_remember(destination_id: uuid.UUID, ok: bool, at: datetime) -> None:
    _outcomes[destination_id] = (ok, at)


def _outcome_forget(destination_id: uuid.UUID) -> None:
    _outcomes.pop(destination_id, None)


# --- Events and deliveries ------------------------------------------------------------------


def _matches(destination: Destination | Route, *, type: str, is_spam: bool, people: bool) -> bool:
    if destination.event_types and type not in destination.event_types:
        return False
    if is_spam and not destination.include_spam:
        return False
    return people or destination.kind not in PEOPLE_KINDS


def _ring_on_commit(delivery_ids: list[uuid.UUID]) -> None:
    if delivery_ids:
        transaction.on_commit(lambda: tasks.ring_soon(delivery_ids), robust=True)


def _deliveries_create(
    *, event: Event, destinations: Collection[Destination | Route], ring: bool = True
) -> list[Delivery]:
    now = timezone.now()
    deliveries = Delivery.objects.bulk_create(
        [
            Delivery(
                event=event,
                destination_id=destination.id,
                event_type=event.type,
                next_attempt_at=now,
                rung_at=now if ring else None,
            )
            for destination in destinations
        ]
    )
    if ring:
        _ring_on_commit([delivery.id for delivery in deliveries])
    return deliveries


class PlannedEvent(NamedTuple):
    """An event and its deliveries, not yet written (`event_plan`)."""

    event: Event
    deliveries: list[Delivery]

    @property
    def rows(self) -> list[Event | Delivery]:
        return [self.event, *self.deliveries]


def event_plan(
    *,
    workspace: Workspace,
    type: str,
    payload: Callable[[], Mapping[str, Any]],
    is_spam: bool = False,
    people: bool = True,
) -> PlannedEvent | None:
    """The event and a pending delivery to each matching active destination, as new rows for
    the caller to write with its own in one statement (`hushmetrics.inserts.rows_insert`),
    then to ring (`event_ring`). None when no destination takes the event.

    A workspace with no active destination costs nothing (the flag is on the row the caller
    already holds); the destinations are cached per process. `payload` makes the event's
    `data`, called only when a destination takes the event, so it costs nothing either when
    none does. Spam goes only to destinations with include_spam. `people=False` when another
    event of the same submission is the one for people (email, Slack), so they get one
    message per submission.
    """
    if not workspace.has_active_destinations:
        return None
    routes = [
        route
        for route in _routes(workspace_id=workspace.pk)
        if _matches(route, type=type, is_spam=is_spam, people=people)
    ]
    if not routes:
        return None
    event = Event(workspace=workspace, type=type, payload=dict(payload()))
    rows_stamp(event)
    deliveries = [
        Delivery(
            event=event,
            destination_id=route.id,
            event_type=type,
            next_attempt_at=event.created_at,
            rung_at=event.created_at,
        )
        for route in routes
    ]
    rows_stamp(*deliveries)
    return PlannedEvent(event, deliveries)


def event_ring(planned: PlannedEvent) -> None:
    """Send the planned event's deliveries once the transaction that wrote them commits (at
    once outside a transaction)."""
    _ring_on_commit([delivery.id for delivery in planned.deliveries])


def event_emit(
    *,
    workspace: Workspace,
    type: str,
    payload: Mapping[str, Any],
    is_spam: bool = False,
    people: bool = True,
) -> Event | None:
    """Record an event and a delivery to each matching active destination (`event_plan`),
    in the caller's transaction, in one statement on PostgreSQL; the deliveries are sent
    once it commits. `payload` is the event's `data`."""
    planned = event_plan(
        workspace=workspace, type=type, payload=lambda: payload, is_spam=is_spam, people=people
    )
    if planned is None:
        return None
    rows_insert(planned.rows)
    event_ring(planned)
    return planned.event


@transaction.atomic
def destination_send_test_event(*, destination: Destination) -> Delivery:
    """A `destination.test` event to this destination alone (also when it is disabled)."""
    event = Event.objects.create(
        workspace_id=destination.workspace_id,
        type=EventType.DESTINATION_TEST,
        payload={
            "destination": {
                "id": str(destination.id),
                "kind": destination.kind,
                "description": destination.description,
            },
            "message": "A test event from Hushmetrics: this destination is connected.",
        },
    )
    (delivery,) = _deliveries_create(event=event, destinations=[destination])
    return delivery


@transaction.atomic
def delivery_redeliver(*, delivery: Delivery) -> Delivery:
    """Send a delivery's event to its destination again, as a new delivery (same event id,
    so the same `webhook-id`)."""
    destination = Destination.objects.get(pk=delivery.destination_id)
    event = Event.objects.get(pk=delivery.event_id)
    (new,) = _deliveries_create(event=event, destinations=[destination])
    return new


@transaction.atomic
def destination_redeliver(
    *,
    destination: Destination,
    since: datetime | None = None,
    until: datetime | None = None,
    state: str = "failed",
) -> int:
    """Send again, as new deliveries, the destination's events created in [since, until]:
    with state `failed`, those never delivered (failed, none succeeded or pending); with
    `all`, every event it was sent. Returns how many."""
    if state not in ("failed", "all"):
        raise ValidationError({"state": "State must be failed or all."})
    if since is not None and until is not None and since > until:
        raise ValidationError({"since": "--since must not be after --until."})
    sent = Delivery.objects.filter(destination=destination)
    if since is not None:
        sent = sent.filter(event__created_at__gte=since)
    if until is not None:
        sent = sent.filter(event__created_at__lte=until)
    if state == "failed":
        done = Delivery.objects.filter(
            destination=destination, state__in=[DeliveryState.SUCCEEDED, DeliveryState.PENDING]
        ).values("event_id")
        sent = sent.filter(state=DeliveryState.FAILED).exclude(event_id__in=done)
    event_ids = list(sent.order_by().values_list("event_id", flat=True).distinct())
    events = Event.objects.filter(pk__in=event_ids).order_by("created_at")
    now = timezone.now()
    # A few are rung at once; a big batch is left to the sweep, which rings it in batches.
    ring = len(event_ids) <= settings.OUTBOUND_SWEEP_BATCH
    deliveries = Delivery.objects.bulk_create(
        [
            Delivery(
                event=event,
                destination=destination,
                event_type=event.type,
                next_attempt_at=now,
                rung_at=now if ring else None,
            )
            for event in events.iterator(chunk_size=2000)
        ],
        batch_size=2000,
    )
    if ring:
        _ring_on_commit([delivery.id for delivery in deliveries])
    return len(deliveries)
