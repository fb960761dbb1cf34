"""Time the lead admin at a given table size: median time and query count of four pages.

    createdb -h 127.0.0.1 -U postgres hm_bench5
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hm_bench5 \\
        .venv/bin/python bench/admin_bench.py --sizes 10000 1000000

For each size (ascending) it migrates, grows the bench workspace to that many leads with
`seed_demo_data` (COPY), VACUUM ANALYZEs, then requests each page with Django's test Client
logged in as a superuser (the whole request: middleware, session, queries, templates) and
prints the median of --runs timed requests after two warm-ups, and the queries one request
makes. It only ever adds rows, so run it on a database of its own.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hushmetrics.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from bench.seeding import grow_to  # noqa: E402
from leads.models import Lead  # noqa: E402
from optin.models import OptIn, QuestionAnswer  # noqa: E402
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

    print(f"{'leads':>9}  {'page':<32} {'median ms':>9}  {'queries':>7}  {'status':>6}  target")
    worst = 0.0
    for size in sorted(args.sizes):
        workspace = grow_to(size)
        lead = lead_with_history(workspace)
        email = Lead.objects.filter(workspace=workspace).order_by("created_at")[size // 2].email
        pages = [
            ("changelist, unfiltered", "/admin/leads/lead/"),
            ("changelist, by workspace", f"/admin/leads/lead/?workspace__id__exact={workspace.pk}"),
            ("changelist, search by email", f"/admin/leads/lead/?q={email}"),
            ("lead change page", f"/admin/leads/lead/{lead.pk}/change/"),
        ]
        total = Lead.objects.count()
        for name, url in pages:
            median, queries, status = measure(client, url, args.runs)
            worst = max(worst, median)
            verdict = "ok" if median < TARGET_MS and status == 200 else "MISSED"
            print(f"{total:>9}  {name:<32} {median:>9.1f}  {queries:>7}  {status:>6}  {verdict}")
    print(f"slowest median: {worst:.1f} ms (target < {TARGET_MS} ms)")


if __name__ == "__main__":
    main()
