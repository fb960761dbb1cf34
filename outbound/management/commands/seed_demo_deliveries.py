"""Fill a workspace with N demo deliveries (and their events and attempts), for the admin's
benchmark at a million rows. Targets are on `.invalid`, so a running worker sends nothing."""

import random
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from outbound.management.commands._base import get_workspace_or_fail
from outbound.models import Delivery, DeliveryAttempt, DeliveryState, Destination, Event
from outbound.services import destination_create
from workspaces.models import Workspace
from workspaces.services import workspace_create

BATCH = 5_000
DESTINATIONS = 3
# Most deliveries succeed; some fail for good; a few are pending (due in 30 days, so the
# sweep leaves them alone).
STATES = [DeliveryState.SUCCEEDED] * 90 + [DeliveryState.FAILED] * 8 + [DeliveryState.PENDING] * 2
TYPES = ["lead.created"] * 6 + ["optin.created"] * 3 + ["lead.updated"]


def demo_rows(
    *, workspace: Workspace, destinations: list[Destination], count: int, seed: int
) -> Iterator[tuple[Event, Delivery, DeliveryAttempt]]:
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    now = timezone.now()
    for n in range(count):
        created = now - timedelta(seconds=rng.randrange(365 * 24 * 3600))
        kind = rng.choice(TYPES)
        event = Event(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            workspace=workspace,
            type=kind,
            payload={"lead": {"name": f"Demo lead {n}", "email": f"demo{n}@example.com"}},
            created_at=created,
        )
        state = rng.choice(STATES)
        status = {"succeeded": 200, "failed": 500, "pending": 503}[state]
        finished = created + timedelta(seconds=1) if state != DeliveryState.PENDING else None
        delivery = Delivery(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            event=event,
            destination=rng.choice(destinations),
            event_type=kind,
            state=state,
            attempts=1 if state != DeliveryState.FAILED else 8,
            next_attempt_at=now + timedelta(days=30) if state == DeliveryState.PENDING else None,
            last_status_code=status,
            last_error="" if state == DeliveryState.SUCCEEDED else f"HTTP {status}",
            created_at=created,
            finished_at=finished,
        )
        attempt = DeliveryAttempt(
            delivery=delivery,
            started_at=created,
            duration_ms=rng.randrange(20, 900),
            status_code=status,
            response_excerpt="ok" if status == 200 else "error",
        )
        yield event, delivery, attempt


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
        destinations = list(Destination.objects.filter(workspace=workspace)[:DESTINATIONS])
        for n in range(len(destinations), DESTINATIONS):
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
        created_fields = [model._meta.get_field("created_at") for model in (Event, Delivery)]
        # Keep the demo's spread of dates: auto_now_add would stamp every row with now.
        for field in created_fields:
            field.auto_now_add = False
        try:
            self._insert(rows, count)
        finally:
            for field in created_fields:
                field.auto_now_add = True
        self.stdout.write(str(workspace.id))

    def _insert(self, rows: Iterator[tuple[Event, Delivery, DeliveryAttempt]], count: int) -> None:
        # The wrapped stream: OutputWrapper.write would end each of tqdm's updates with "\n".
        out = cast(TextIO, self.stderr._out)  # noqa: SLF001
        with tqdm(total=count, unit="delivery", file=out) as progress:
            while True:
                batch = [row for _, row in zip(range(BATCH), rows, strict=False)]
                if not batch:
                    break
                with transaction.atomic():
                    Event.objects.bulk_create([event for event, _, _ in batch])
                    Delivery.objects.bulk_create([delivery for _, delivery, _ in batch])
                    DeliveryAttempt.objects.bulk_create([attempt for _, _, attempt in batch])
                progress.update(len(batch))
