"""Fill a workspace with N demo leads, fast: COPY on PostgreSQL, big batches elsewhere."""

import random
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from hushmetrics.serializers import model_field
from leads.models import Lead
from workspaces.management.commands._base import (
    WORKSPACE_HELP,
    get_workspace_or_fail,
    validation_fails_the_command,
)
from workspaces.models import Profile, Workspace
from workspaces.services import profile_create, workspace_create

FIRST = ["Jane", "John", "Ana", "Li", "Omar", "Sofia", "Lukas", "Mia", "Noah", "Emma", "Ravi"]
LAST = ["Doe", "Smith", "Garcia", "Chen", "Haddad", "Rossi", "Meyer", "Kim", "Novak", "Silva"]
DOMAINS = ["example.com", "example.org", "acme.test", "mail.test"]
COLUMNS = [
    "id",
    "workspace_id",
    "name",
    "email",
    "phone",
    "status",
    "source",
    "value",
    "setter_id",
    "created_by_id",
    "page_url",
    "is_spam",
    "created_at",
    "updated_at",
]
BATCH = 50_000
SPAM_RATE = 0.02
SEED_PROFILES = 5


def demo_rows(
    *, workspace: Workspace, profiles: list[Profile], count: int, start: int, seed: int
) -> Iterator[tuple]:
    """`count` plausible leads, spread over the past year; emails are unique per run number."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    now = timezone.now()
    statuses, sources = Lead.Status.values, Lead.Source.values
    setter_ids = [None, *[p.pk for p in profiles]]
    for n in range(start, start + count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        created = now - timedelta(seconds=rng.randrange(365 * 24 * 3600))
        yield (
            uuid.UUID(int=rng.getrandbits(128), version=4),
            workspace.pk,
            f"{first} {last}",
            f"{first}.{last}.{n}@{rng.choice(DOMAINS)}".lower(),
            f"+1555{n:07d}",
            rng.choice(statuses),
            rng.choice(sources),
            Decimal(rng.randrange(0, 500_000)) / 100,
            rng.choice(setter_ids),
            None,
            f"https://example.com/landing/{n % 50}",
            rng.random() < SPAM_RATE,
            created,
            created,
        )


class Command(BaseCommand):
    help = "Fill a workspace with demo leads (COPY on PostgreSQL); prints the workspace id."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--leads", type=int, required=True, help="how many leads to add")
        parser.add_argument("--workspace", help=f"{WORKSPACE_HELP} (default: a new demo workspace)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")

    def handle(self, *args: Any, **options: Any) -> None:
        count = int(options["leads"])
        if count < 1:
            raise CommandError("--leads must be a positive number.")
        with validation_fails_the_command():
            workspace = (
                get_workspace_or_fail(str(options["workspace"]))
                if options["workspace"]
                else workspace_create(name="Demo workspace (seeded)")
            )
            profiles = self._profiles(workspace)
        start = Lead.objects.filter(workspace=workspace).count()
        rows = demo_rows(
            workspace=workspace,
            profiles=profiles,
            count=count,
            start=start,
            seed=int(options["seed"]) + start,
        )
        with tqdm(total=count, unit="lead", file=sys.stderr, mininterval=0.5) as bar:
            if connection.vendor == "postgresql":
                self._copy(rows, bar)
            else:
                self._batches(rows, bar)
        self.stderr.write(f"Added {count} leads to {workspace.name!r}.")
        self.stdout.write(str(workspace.pk))

    def _profiles(self, workspace: Workspace) -> list[Profile]:
        profiles = list(Profile.objects.filter(workspace=workspace)[:SEED_PROFILES])
        for k in range(len(profiles), SEED_PROFILES):
            profiles.append(
                profile_create(
                    workspace=workspace,
                    clerk_user_id=f"user_seed{uuid.uuid4().hex[:12]}",
                    name=f"{FIRST[k]} Setter",
                )
            )
        return profiles

    def _copy(self, rows: Iterator[tuple], bar: tqdm) -> None:
        """psycopg 3's COPY FROM STDIN, one transaction per BATCH rows, then ANALYZE."""
        table = Lead._meta.db_table
        sql = f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN"
        done = False
        while not done:
            written = 0
            with (
                transaction.atomic(),
                connection.cursor() as cursor,
                cursor.cursor.copy(sql) as copy,
            ):
                for row in rows:
                    copy.write_row(row)
                    written += 1
                    if written % 5_000 == 0:
                        bar.update(5_000)
                    if written == BATCH:
                        break
                else:
                    done = True
            bar.update(written % 5_000)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")

    def _batches(self, rows: Iterator[tuple], bar: tqdm) -> None:
        """Multi-row INSERTs of 5,000 rows, values prepared by the model's own fields.

        Not bulk_create: it would stamp auto_now_add's "now" over the spread-out created_at.
        """
        table = Lead._meta.db_table
        fields = [model_field(Lead, column) for column in COLUMNS]
        placeholders = ", ".join(["%s"] * len(COLUMNS))
        # Table and column names are this module's constants; the values are parameters.
        sql = f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({placeholders})"  # noqa: S608
        batch: list[list] = []
        for row in rows:
            batch.append(
                [f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)]
            )
            if len(batch) == 5_000:
                self._insert(sql, batch, bar)
        self._insert(sql, batch, bar)

    @staticmethod
    def _insert(sql: str, batch: list[list], bar: tqdm) -> None:
        if not batch:
            return
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, batch)
        bar.update(len(batch))
        batch.clear()
