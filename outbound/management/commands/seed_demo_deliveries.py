"""Fill a workspace with N demo deliveries (and their events and attempts), for the admin's
benchmark at a million rows: COPY on PostgreSQL, batches elsewhere. Targets are on
`.invalid`, so a running worker sends nothing."""

import json
import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction
from django.utils import timezone
from tqdm import tqdm

from outbound.management.commands._base import get_workspace_or_fail
from outbound.models import Delivery, DeliveryAttempt, DeliveryState, Destination, Event
from outbound.services import destination_create
from workspaces.models import Workspace
from workspaces.services import workspace_create

BATCH = 5_000
# Uneven, as customers are: one destination takes half the traffic, one a few per cent.
DESTINATION_WEIGHTS = [50, 25, 12, 8, 5]
# Most deliveries succeed (a few only after retries); some fail for good after the whole
# schedule; a few are pending, their next attempt due in 30 days (so the sweep leaves them).
STATES = [DeliveryState.SUCCEEDED] * 90 + [DeliveryState.FAILED] * 8 + [DeliveryState.PENDING] * 2
RETRIED = 0.05  # of the succeeded ones: 2 or 3 attempts
TYPES = ["lead.created"] * 6 + ["optin.created"] * 3 + ["lead.updated"]
# Seconds after the event of each attempt: the default OUTBOUND_RETRY_SCHEDULE, summed.
ATTEMPT_OFFSETS = [0, *accumulate([5, 300, 1800, 7200, 18000, 36000, 36000])]
FAILURES = [(500, "", "Internal Server Error"), (None, "timed out after 15 s", ""), (502, "", "")]

Row = tuple[Event, Delivery, list[DeliveryAttempt]]


def demo_rows(
    *, workspace: Workspace, destinations: list[Destination], count: int, seed: int
) -> Iterator[Row]:
    """`count` events of the past year, each with one delivery and its attempts."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    now = timezone.now()
    weights = DESTINATION_WEIGHTS[: len(destinations)]
    for n in range(count):
        created = now - timedelta(seconds=rng.randrange(365 * 24 * 3600))
        kind = rng.choice(TYPES)
        event = Event(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            workspace=workspace,
            type=kind,
            payload={
                "lead": {
                    "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "name": f"Demo lead {n}",
                    "email": f"demo{n}@example.com",
                    "source": "website",
                    "utm": {"utm_source": "google", "utm_medium": "cpc"},
                    "created_at": created.isoformat(),
                }
            },
            created_at=created,
        )
        state = rng.choice(STATES)
        if state == DeliveryState.SUCCEEDED:
            tries = 1 if rng.random() >= RETRIED else rng.choice([2, 3])
        elif state == DeliveryState.FAILED:
            tries = len(ATTEMPT_OFFSETS)
        else:
            tries = rng.choice([1, 2, 3])
        delivery = Delivery(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            event=event,
            destination=rng.choices(destinations, weights)[0],
            event_type=kind,
            state=state,
            attempts=tries,
            created_at=created,
        )
        attempts = []
        for k in range(tries):
            started = min(created + timedelta(seconds=ATTEMPT_OFFSETS[k]), now)
            ok = state == DeliveryState.SUCCEEDED and k == tries - 1
            status, error, body = (200, "", "ok") if ok else rng.choice(FAILURES)
            attempts.append(
                DeliveryAttempt(
                    delivery=delivery,
                    started_at=started,
                    duration_ms=rng.randrange(20, 900) if not error else 15_000,
                    status_code=status,
                    response_excerpt=body,
                    error=error,
                )
            )
        last = attempts[-1]
        delivery.last_status_code = last.status_code
        if last.status_code != 200:
            delivery.last_error = last.error or f"HTTP {last.status_code}"
        if state == DeliveryState.PENDING:
            delivery.next_attempt_at = now + timedelta(days=30)
        else:
            delivery.finished_at = last.started_at + timedelta(milliseconds=last.duration_ms)
        yield event, delivery, attempts


def _copy(model: type[models.Model], objects: list[Any]) -> None:
    """COPY the objects' rows into the model's table (every column but an auto id)."""
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]
    columns = ", ".join(str(f.column) for f in fields)
    jsons = {i for i, f in enumerate(fields) if isinstance(f, models.JSONField)}
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for obj in objects:
            values = [getattr(obj, f.attname) for f in fields]
            for i in jsons:
                values[i] = json.dumps(values[i])
            copy.write_row(values)


def _bulk_create(model: type[models.Model], objects: list[Any]) -> None:
    # auto_now_add would stamp every row with now: the demo keeps its spread of dates.
    created = [f for f in model._meta.concrete_fields if getattr(f, "auto_now_add", False)]
    for field in created:
        field.auto_now_add = False  # type: ignore[attr-defined]  # a DateTimeField's, in `created`
    try:
        model._default_manager.bulk_create(objects)
    finally:
        for field in created:
            field.auto_now_add = True  # type: ignore[attr-defined]  # as above


class Command(BaseCommand):
    help = "Add N demo deliveries (events, attempts) to a workspace; prints the workspace id."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--deliveries", type=int, required=True)
        parser.add_argument("--workspace", help="default: a new workspace")
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        count = int(options["deliveries"])
        if count < 0:
            raise CommandError("--deliveries must not be negative.")
        if options["workspace"]:
            workspace = get_workspace_or_fail(str(options["workspace"]))
        else:
            workspace = workspace_create(name="Delivery demo")
        destinations = list(
            Destination.objects.filter(workspace=workspace).order_by("created_at")[
                : len(DESTINATION_WEIGHTS)
            ]
        )
        for n in range(len(destinations), len(DESTINATION_WEIGHTS)):
            destinations.append(
                destination_create(
                    workspace=workspace,
                    kind="webhook",
                    target=f"https://seed-{n}.hushmetrics.invalid/hook",
                    description=f"Demo receiver {n}",
                )
            )
        seed = options["seed"]
        rows = demo_rows(
            workspace=workspace,
            destinations=destinations,
            count=count,
            seed=int(seed) if seed is not None else random.randrange(2**32),  # noqa: S311
        )
        self._insert(rows, count)
        self.stdout.write(str(workspace.id))

    def _insert(self, rows: Iterator[Row], count: int) -> None:
        """Batches of BATCH events, deliveries and attempts, each batch one transaction; then
        each destination's last success and failure, as the engine would have kept them."""
        write = _copy if connection.vendor == "postgresql" else _bulk_create
        last: dict[tuple[uuid.UUID, bool], datetime] = {}
        # The wrapped stream: OutputWrapper.write would end each of tqdm's updates with "\n".
        out = cast(TextIO, self.stderr._out)  # noqa: SLF001
        with tqdm(total=count, unit="delivery", file=out, mininterval=0.5) as progress:
            while batch := [row for _, row in zip(range(BATCH), rows, strict=False)]:
                with transaction.atomic():
                    write(Event, [event for event, _, _ in batch])
                    write(Delivery, [delivery for _, delivery, _ in batch])
                    write(DeliveryAttempt, [a for _, _, attempts in batch for a in attempts])
                for _, delivery, _ in batch:
                    if delivery.finished_at is not None:
                        key = (delivery.destination_id, delivery.state == DeliveryState.SUCCEEDED)
                        last[key] = max(last.get(key, delivery.finished_at), delivery.finished_at)
                progress.update(len(batch))
        for (destination_id, ok), at in last.items():
            field = "last_success_at" if ok else "last_failure_at"
            Destination.objects.filter(pk=destination_id).filter(
                models.Q(**{f"{field}__isnull": True}) | models.Q(**{f"{field}__lt": at})
            ).update(**{field: at})
