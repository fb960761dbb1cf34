"""The delivery engine: claim a due delivery, make one attempt with no transaction open,
record it and schedule the next; sweep for due deliveries; disable failing destinations.

`next_attempt_at` is the schedule. A claim pushes it forward by a lease, so a worker that
dies mid-attempt leaves a delivery the sweep finds again once the lease has passed.
"""

import logging
import random
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from outbound import tasks
from outbound.emails import email_send
from outbound.models import Delivery, DeliveryAttempt, DeliveryState, Destination, Event
from outbound.services import destination_disable, destination_record_outcome
from outbound.slack import slack_send
from outbound.webhooks import Outcome, webhook_send

logger = logging.getLogger(__name__)

# One sender per destination kind.
Sender = Callable[..., Outcome]
SENDERS: dict[str, Sender] = {
    Destination.Kind.WEBHOOK: webhook_send,
    Destination.Kind.EMAIL: email_send,
    Destination.Kind.SLACK: slack_send,
}

JITTER = 0.10
MAX_RETRY_AFTER = timedelta(hours=24)
# A claim holds a delivery this long beyond the attempt's own deadline.
LEASE_MARGIN = timedelta(seconds=30)
DISABLED = "destination disabled"


def _lease() -> timedelta:
    return timedelta(seconds=settings.OUTBOUND_TIMEOUT_SECONDS) + LEASE_MARGIN


def _claim(delivery_id: uuid.UUID) -> Delivery | None:
    """Take a pending, due delivery for one attempt (a short transaction), or None when it
    is not due, already done, or held by another worker right now."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("event", "destination")
            .filter(pk=delivery_id, state=DeliveryState.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if delivery is None:
            return None
        destination = delivery.destination
        if not destination.is_active and delivery.event_type != Event.Type.DESTINATION_TEST:
            delivery.state = DeliveryState.FAILED
            delivery.last_error = f"{DISABLED}: {destination.disabled_reason}"[:500]
            delivery.finished_at = now
            delivery.next_attempt_at = None
            delivery.save(update_fields=["state", "last_error", "finished_at", "next_attempt_at"])
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now + _lease()
        delivery.rung_at = None  # this message is used up; after the lease the sweep rings
        delivery.save(update_fields=["attempts", "next_attempt_at", "rung_at"])
    return delivery


def _release_connection() -> None:
    """Hand a pooled database connection back while the attempt waits on the network: a
    worker's threads may all be waiting on slow receivers, and none of them needs one then."""
    if connection.settings_dict.get("OPTIONS", {}).get("pool") and not connection.in_atomic_block:
        connection.close()


def retry_delay(*, attempts: int, outcome: Outcome) -> timedelta | None:
    """The wait before the next attempt after `attempts` failed ones; None: no more."""
    schedule = settings.OUTBOUND_RETRY_SCHEDULE
    if outcome.gone or outcome.permanent or attempts > len(schedule):
        return None
    delay = schedule[attempts - 1] * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311
    if outcome.retry_after is not None and outcome.status_code in (429, 503):
        delay = max(delay, min(outcome.retry_after, MAX_RETRY_AFTER.total_seconds()))
    return timedelta(seconds=delay)


def delivery_run(*, delivery_id: uuid.UUID) -> DeliveryAttempt | None:
    """One attempt of a delivery, if it is pending and due; the attempt, or None."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    destination, event = delivery.destination, delivery.event
    _release_connection()
    started_at = timezone.now()
    clock = time.monotonic()
    sender = SENDERS.get(destination.kind)
    try:
        if sender is None:  # a kind whose sender is not deployed yet: retried on the schedule
            outcome = Outcome(ok=False, error=f"{destination.kind} delivery is not available")
        else:
            outcome = sender(destination=destination, event=event)
    except Exception as error:  # a bug must not leave the delivery leased forever
        logger.exception("delivery %s: sender failed", delivery.id)
        outcome = Outcome(ok=False, error=f"internal error: {type(error).__name__}")
    duration_ms = int((time.monotonic() - clock) * 1000)
    ended_at = timezone.now()
    attempt = _record(
        delivery, outcome, started_at=started_at, duration_ms=duration_ms, at=ended_at
    )
    if attempt is None:
        return None
    logger.info(
        "delivery %s (%s to %s %s) attempt %d: %s in %d ms, %s",
        delivery.id,
        event.type,
        destination.kind,
        destination.id,
        delivery.attempts,
        outcome.status_code or outcome.error or ("sent" if outcome.ok else "failed"),
        duration_ms,
        delivery.state
        if delivery.state != DeliveryState.PENDING
        else "retry due " + f"{delivery.next_attempt_at:%Y-%m-%d %H:%M:%S}",
    )
    return attempt


class _Vanished(Exception):
    """The delivery row is gone."""


def _record(
    delivery: Delivery, outcome: Outcome, *, started_at: datetime, duration_ms: int, at: datetime
) -> DeliveryAttempt | None:
    """Store the attempt and the outcome: done, failed for good, or the next due time."""
    fields: dict[str, object] = {
        "last_status_code": outcome.status_code,
        "last_error": outcome.error[:500],
    }
    if outcome.ok:
        fields.update(state=DeliveryState.SUCCEEDED, finished_at=at, next_attempt_at=None)
    else:
        delay = retry_delay(attempts=delivery.attempts, outcome=outcome)
        if delay is None:
            fields.update(state=DeliveryState.FAILED, finished_at=at, next_attempt_at=None)
        else:
            # The sweep rings it when due (rung_at is null): no broker ETA, however long.
            fields.update(next_attempt_at=at + delay, rung_at=None)
    try:
        with transaction.atomic():
            # Guarded by the attempt number: if the lease ran out and another worker has
            # since claimed the delivery, that attempt's outcome is the one that counts.
            updated = Delivery.objects.filter(
                pk=delivery.id, state=DeliveryState.PENDING, attempts=delivery.attempts
            ).update(**fields)
            if not updated and not Delivery.objects.filter(pk=delivery.id).exists():
                raise _Vanished
            attempt = DeliveryAttempt.objects.create(
                delivery_id=delivery.id,
                started_at=started_at,
                duration_ms=duration_ms,
                status_code=outcome.status_code,
                response_excerpt=outcome.excerpt,
                error=outcome.error[:500],
            )
            destination_record_outcome(destination_id=delivery.destination_id, ok=outcome.ok, at=at)
            if outcome.gone:
                destination = Destination.objects.get(pk=delivery.destination_id)
                if destination.is_active:
                    destination_disable(
                        destination=destination,
                        reason=f"The receiver answered 410 Gone on {at:%Y-%m-%d %H:%M} UTC.",
                    )
    except (_Vanished, IntegrityError, Destination.DoesNotExist):
        # Erased during the attempt (its workspace deleted, a person's data erased):
        # nothing is left to record against.
        logger.info("delivery %s was deleted during its attempt", delivery.id)
        return None
    for name, value in fields.items():
        setattr(delivery, name, value)
    return attempt


def deliveries_sweep(*, batch: int | None = None) -> int:
    """Ring the pending deliveries that are due and have no live message: never rung for
    this attempt (a retry, a lease run out), or rung longer than OUTBOUND_RERING_SECONDS
    ago (a message lost with a broker flush). Bounded; returns how many were rung."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.OUTBOUND_RERING_SECONDS)
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
            .filter(Q(rung_at__isnull=True) | Q(rung_at__lte=stale))
            .order_by("next_attempt_at")
            .values_list("id", flat=True)[: batch or settings.OUTBOUND_SWEEP_BATCH]
        )
        if ids:
            Delivery.objects.filter(pk__in=ids).update(rung_at=now)
    tasks.ring(ids)
    return len(ids)


def destinations_disable_failing() -> int:
    """Disable the active destinations whose attempts have all failed for
    OUTBOUND_DISABLE_AFTER_DAYS; returns how many."""
    days = settings.OUTBOUND_DISABLE_AFTER_DAYS
    cutoff = timezone.now() - timedelta(days=days)
    failing = Destination.objects.filter(is_active=True, failing_since__lte=cutoff)
    count = 0
    for destination in failing:
        destination_disable(
            destination=destination,
            reason=(
                f"Every delivery failed for {days} days "
                f"(since {destination.failing_since:%Y-%m-%d %H:%M} UTC)."
            ),
        )
        count += 1
    return count
