"""Outbound events (SPEC §9): where they go (Destination), what happened (Event), one
send per destination (Delivery) and every try of it (DeliveryAttempt).

This app depends on `workspaces` only: leads and opt-ins hand it an event type and a JSON
payload (outbound.services.event_emit); it never imports them.
"""

import uuid

from django.db import models
from django.db.models import Q

from workspaces.models import Workspace


class DestinationKind(models.TextChoices):
    WEBHOOK = "webhook"
    EMAIL = "email"
    SLACK = "slack"


class EventType(models.TextChoices):
    LEAD_CREATED = "lead.created"
    LEAD_UPDATED = "lead.updated"
    OPTIN_CREATED = "optin.created"
    DESTINATION_TEST = "destination.test"
    # To the workspace's email destinations when another one is disabled automatically.
    DESTINATION_DISABLED = "destination.disabled"


class DeliveryState(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Destination(models.Model):
    """Where a workspace's events go: a webhook URL, an email address or a Slack URL."""

    Kind = DestinationKind

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="destinations")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # A URL (webhook, slack) or an email address (email).
    target = models.CharField(max_length=2048)
    description = models.CharField(max_length=200, blank=True, default="")
    # Event types this destination takes; empty means every type.
    event_types = models.JSONField(default=list, blank=True)
    include_spam = models.BooleanField(default=False)
    # `whsec_…` for webhooks; the previous one is still signed with until it expires.
    signing_secret = models.CharField(max_length=100, blank=True, default="", editable=False)
    previous_signing_secret = models.CharField(
        max_length=100, blank=True, default="", editable=False
    )
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    # Kept by the delivery engine so the admin and `list_destinations` read no deliveries.
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_failure_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Start of the current run of failed attempts (none since: null); the auto-disable rule.
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=DestinationKind.values), name="destination_kind_valid"
            ),
            models.CheckConstraint(condition=~Q(target=""), name="destination_target_not_blank"),
            models.CheckConstraint(
                condition=~Q(kind=DestinationKind.WEBHOOK) | Q(signing_secret__startswith="whsec_"),  # noqa: S106
                name="destination_webhook_has_secret",
            ),
        ]
        indexes = [
            # The active destinations of a workspace (event_emit) and the workspace's list.
            models.Index(fields=["workspace", "is_active"], name="destination_ws_active"),
        ]

    def __str__(self) -> str:
        return self.description or f"{self.kind} {self.target}"

    @property
    def state(self) -> str:
        return "active" if self.is_active else "disabled"


class Event(models.Model):
    """Something that happened in a workspace; `payload` is the event's `data` object."""

    Type = EventType

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=64, choices=Type.choices)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(type__in=EventType.values), name="event_type_valid"),
        ]
        indexes = [models.Index(fields=["workspace", "-created_at"], name="event_ws_created")]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class Delivery(models.Model):
    """One event sent to one destination. The row is the schedule: `next_attempt_at` says
    when the next attempt is due, whatever the broker holds."""

    State = DeliveryState

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    destination = models.ForeignKey(
        Destination, on_delete=models.CASCADE, related_name="deliveries"
    )
    # Copied from the event, so the admin filters deliveries by type without a join.
    event_type = models.CharField(max_length=64, choices=EventType.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When a task message was last sent for the attempt that is due (null: none yet). The
    # sweep rings a due delivery that has none, or whose message seems lost.
    rung_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=DeliveryState.values), name="delivery_state_valid"
            ),
            models.CheckConstraint(
                condition=~Q(state=DeliveryState.PENDING) | Q(next_attempt_at__isnull=False),
                name="delivery_pending_is_scheduled",
            ),
        ]
        indexes = [
            # The sweep: pending deliveries by due time (a small partial index).
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state=DeliveryState.PENDING),
                name="delivery_pending_due",
            ),
            # Admin lists, newest first: all, by destination, by state, by event type.
            models.Index(fields=["-created_at"], name="delivery_created"),
            models.Index(fields=["destination", "-created_at"], name="delivery_dest_created"),
            models.Index(fields=["state", "-created_at"], name="delivery_state_created"),
            models.Index(fields=["event_type", "-created_at"], name="delivery_type_created"),
            # Success rate over 24 h per destination; redeliver by destination and state.
            # (Covering the state: the count is an index-only scan on PostgreSQL.)
            models.Index(
                fields=["destination", "finished_at"],
                include=["state"],
                name="delivery_dest_finished",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.destination_id} ({self.state})"


class DeliveryAttempt(models.Model):
    """One try of a delivery: when, how long, what came back."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    # The first 2 KB of the response body, decoded leniently.
    response_excerpt = models.TextField(blank=True, default="")
    error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["started_at"]
        indexes = [models.Index(fields=["delivery", "started_at"], name="attempt_delivery_started")]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"
