"""Time the lead admin, or the delivery admin, at a given table size: median time and query
count of each page.

    createdb -h 127.0.0.1 -U postgres hm_bench5
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hm_bench5 \\
        .venv/bin/python bench/admin_bench.py --sizes 10000 1000000 [--deliveries]

For each size (ascending) it migrates, grows the bench workspace to that many leads with
`seed_demo_data` (COPY) — with --deliveries, to that many outbound deliveries (their events
and attempts, five destinations) with `seed_demo_deliveries` (COPY) — VACUUM ANALYZEs, then
requests each page with Django's test Client logged in as a superuser (the whole request:
middleware, session, queries, templates) and prints the median of --runs timed requests
after two warm-ups, and the queries one request makes. It only ever adds rows, so run it on
a database of its own.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hushmetrics.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.seeding import grow_deliveries_to, grow_to  # noqa: E402
from leads.models import Lead  # noqa: E402
from optin.models import OptIn, QuestionAnswer  # noqa: E402
from outbound.models import Delivery, DeliveryState, Destination  # noqa: E402
from workspaces.models import Workspace  # noqa: E402

TARGET_MS = 300


def lead_with_history(workspace: Workspace) -> Lead:
    """A lead from the middle of the table with three opt-ins of five answers each."""
    lead = Lead.objects.filter(workspace=workspace).order_by("created_at")[1_000:1_001].get()
    if not lead.opt_ins.exists():
        for k in range(3):
            opt_in = OptIn.objects.create(
                workspace=workspace,
                lead=lead,
                source="TYPEFORM",
                first_name="Bench",
                email=lead.email,
                utm_source="bench",
                utm_campaign=f"campaign {k}",
            )
            QuestionAnswer.objects.bulk_create(
                QuestionAnswer(opt_in=opt_in, question=f"Q{p}?", answer=f"A{p}", position=p)
                for p in range(5)
            )
    return lead


def lead_pages(size: int) -> list[tuple[str, str]]:
    """The lead admin's pages, at `size` leads in the bench workspace."""
    workspace = grow_to(size)
    lead = lead_with_history(workspace)
    email = Lead.objects.filter(workspace=workspace).order_by("created_at")[size // 2].email
    return [
        ("changelist, unfiltered", "/admin/leads/lead/"),
        ("changelist, by workspace", f"/admin/leads/lead/?workspace__id__exact={workspace.pk}"),
        ("changelist, search by email", f"/admin/leads/lead/?q={email}"),
        ("lead change page", f"/admin/leads/lead/{lead.pk}/change/"),
    ]


def delivery_pages(size: int) -> list[tuple[str, str]]:
    """The delivery admin's pages (every filter, the search, a delivery's page) and the
    destination list, at `size` deliveries."""
    workspace = grow_deliveries_to(size)
    deliveries = Delivery.objects.filter(destination__workspace=workspace)
    destinations = Destination.objects.filter(workspace=workspace).order_by("created_at")
    busiest, smallest = destinations.first(), destinations.last()  # 50 % and 5 % of them
    assert busiest is not None and smallest is not None
    middle = deliveries.order_by("created_at")[size // 2]
    failed = deliveries.filter(state=DeliveryState.FAILED).order_by("created_at")[100]
    # The date filter's "Past 7 days", as DateFieldListFilter links it.
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    week = urlencode(
        {
            "created_at__gte": str(today - timedelta(days=7)),
            "created_at__lt": str(today + timedelta(days=1)),
        }
    )
    changelist = "/admin/outbound/delivery/"
    return [
        ("changelist, default", changelist),
        ("filter: state failed (8 %)", f"{changelist}?state__exact=failed"),
        ("filter: state pending (2 %)", f"{changelist}?state__exact=pending"),
        ("filter: destination (50 %)", f"{changelist}?destination__id__exact={busiest.pk}"),
        ("filter: destination (5 %)", f"{changelist}?destination__id__exact={smallest.pk}"),
        ("filter: type lead.updated (10 %)", f"{changelist}?event_type__exact=lead.updated"),
        ("filter: date, past 7 days", f"{changelist}?{week}"),
        (
            "filter: failed + destination (5 %)",
            f"{changelist}?state__exact=failed&destination__id__exact={smallest.pk}",
        ),
        ("search: a delivery id", f"{changelist}?q={middle.pk}"),
        ("search: an event id (webhook-id)", f"{changelist}?q={middle.event_id}"),
        (f"delivery page ({failed.attempts} attempts)", f"{changelist}{failed.pk}/change/"),
        ("destination list (24 h rates)", "/admin/outbound/destination/"),
    ]


def measure(client: Client, url: str, runs: int) -> tuple[float, int, int]:
    """(median ms, queries of one request, HTTP status)."""
    for _ in range(2):
        client.get(url)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return statistics.median(times), len(queries), response.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--deliveries", action="store_true", help="the delivery admin at SIZES deliveries"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("the bench needs PostgreSQL: set DATABASE_URL (see the README)")

    setup_test_environment()  # lets the test Client's "testserver" host in
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    user_model = get_user_model()
    admin = user_model.objects.filter(username="bench-admin").first()
    if admin is None:
        admin = user_model.objects.create_superuser("bench-admin", "bench@example.com", None)
    client = Client()
    client.force_login(admin)

    rows, pages_at, width = (
        ("deliveries", delivery_pages, 36) if args.deliveries else ("leads", lead_pages, 32)
    )
    model = Delivery if args.deliveries else Lead
    print(f"{rows:>10}  {'page':<{width}} {'median ms':>9}  {'queries':>7}  {'status':>6}  target")
    worst = 0.0
    for size in sorted(args.sizes):
        pages = pages_at(size)
        total = model.objects.count()
        for name, url in pages:
            median, queries, status = measure(client, url, args.runs)
            worst = max(worst, median)
            verdict = "ok" if median < TARGET_MS and status == 200 else "MISSED"
            print(
                f"{total:>10}  {name:<{width}} {median:>9.1f}  {queries:>7}  {status:>6}  {verdict}"
            )
    print(f"slowest median: {worst:.1f} ms (target < {TARGET_MS} ms)")


if __name__ == "__main__":
    main()
