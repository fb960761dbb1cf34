"""Growing a bench database to a size, for the benches that time pages at a million rows.

Call after `django.setup()`. Each function only ever adds rows, so a second run on the same
database reuses what the first seeded; run them on a database of their own.
"""

import io
import sys

from django.core.management import call_command
from django.db import connection

from leads.models import Lead
from outbound.models import Delivery, DeliveryAttempt, Event
from workspaces.models import Workspace

BENCH_WORKSPACE = "Bench workspace"
NEIGHBOUR_WORKSPACE = "Bench neighbour"
DELIVERY_WORKSPACE = "Bench deliveries"


def _workspace(name: str) -> Workspace:
    """The oldest workspace of that name, created if there is none."""
    workspace = Workspace.objects.filter(name=name).order_by("created_at").first()
    return workspace if workspace is not None else Workspace.objects.create(name=name)


def _vacuum_analyze(*tables: str) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")


def grow_to(size: int, *, neighbour_leads: int = 0) -> Workspace:
    """The bench workspace, grown to `size` leads with `seed_demo_data` (COPY), beside a
    neighbour workspace of `neighbour_leads` leads (seeded once)."""
    workspace = _workspace(BENCH_WORKSPACE)
    neighbour = _workspace(NEIGHBOUR_WORKSPACE)
    if neighbour_leads and not Lead.objects.filter(workspace=neighbour).exists():
        call_command(
            "seed_demo_data",
            leads=neighbour_leads,
            workspace=str(neighbour.pk),
            seed=1_000_000_007,  # ids of their own (the seed picks them)
            stdout=io.StringIO(),
        )
    have = Lead.objects.filter(workspace=workspace).count()
    if have > size:
        sys.exit(f"the bench workspace already has {have} leads (> {size}): use a fresh database")
    if have < size:
        call_command(
            "seed_demo_data", leads=size - have, workspace=str(workspace.pk), stdout=io.StringIO()
        )
    _vacuum_analyze(Lead._meta.db_table)
    return workspace


def grow_deliveries_to(size: int) -> Workspace:
    """The delivery bench workspace, grown to `size` deliveries (with their events and
    attempts, to five destinations) with `seed_demo_deliveries` (COPY)."""
    workspace = _workspace(DELIVERY_WORKSPACE)
    have = Delivery.objects.filter(destination__workspace=workspace).count()
    if have > size:
        sys.exit(f"the bench has {have} deliveries already (> {size}): use a fresh database")
    if have < size:
        call_command(
            "seed_demo_deliveries",
            deliveries=size - have,
            workspace=str(workspace.pk),
            seed=have,  # each run's rows (and ids) of their own
            stdout=io.StringIO(),
        )
    _vacuum_analyze(*(model._meta.db_table for model in (Event, Delivery, DeliveryAttempt)))
    return workspace
