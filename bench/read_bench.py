"""Time GET /v1/leads at 1,000,000 leads in one workspace: the median of each page.

    createdb -h 127.0.0.1 -U postgres hm_read_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hm_read_bench \\
        .venv/bin/python bench/read_bench.py --leads 1000000

It migrates, grows the bench workspace to --leads leads with `seed_demo_data` (COPY; a run
on a database that already has them adds none), VACUUM ANALYZEs, issues a `leads:read` key,
then requests each page through Django's test Client with that key (the whole request:
middleware, authentication, rate limit, query, rendering) and prints the median of --runs
timed requests after two warm-ups, the queries one request makes, and the index PostgreSQL
uses for the page's query. Page 1,000 is reached by following 999 cursors, as a client does.
It only ever adds rows, so run it on a database of its own.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hushmetrics.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from bench.seeding import grow_to  # noqa: E402
from leads.models import Lead  # noqa: E402
from workspaces.services import api_key_issue  # noqa: E402

TARGET_MS = 50


def index_used(sql: str, params: Any) -> str:
    """The indexes in PostgreSQL's plan for the page query (EXPLAIN, no execution)."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = plan if isinstance(plan, list) else json.loads(plan)
    names: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if "Index Name" in node and node["Index Name"] not in names:
            names.append(node["Index Name"])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return "+".join(names) or "seq scan"


def measure(client: Client, url: str, runs: int) -> tuple[float, int, int, str, int]:
    """(median ms, queries of one request, HTTP status, index used, leads on the page)."""
    for _ in range(2):
        client.get(url)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    page_query = queries.captured_queries[-1]["sql"]
    # EXPLAIN the statement as sent (the captured SQL has its parameters inlined).
    index = index_used(page_query, None)
    rows = len(response.json().get("data", [])) if response.status_code == 200 else 0
    return statistics.median(times), len(queries), response.status_code, index, rows


def cursor_at_page(client: Client, query: str, page: int) -> tuple[str, float]:
    """The cursor that opens page `page` of `query`, by following next_cursor from page 1;
    and how long the walk took per page (ms)."""
    cursor = None
    start = time.perf_counter()
    for _ in range(page - 1):
        url = f"/v1/leads?{query}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url)
        assert response.status_code == 200, response.content
        cursor = response.json()["next_cursor"]
        assert cursor, f"{query} has fewer than {page} pages"
    per_page = (time.perf_counter() - start) * 1000 / max(1, page - 1)
    return str(cursor), per_page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--deep-page", type=int, default=1_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("the bench needs PostgreSQL: set DATABASE_URL (see the README)")
    if args.runs < 15:
        sys.exit("--runs must be at least 15")

    setup_test_environment()  # lets the test Client's "testserver" host in
    settings.RATE_LIMIT_READ = "10000000/m"  # this measures pages, not the limit
    call_command("migrate", verbosity=0)
    workspace = grow_to(args.leads, neighbour_leads=1_000)
    key = api_key_issue(workspace=workspace, name="read bench", scopes=["leads:read"])
    client = Client(HTTP_X_API_KEY=key.plaintext)
    sample = Lead.objects.filter(workspace=workspace).order_by("created_at")[args.leads // 2]
    total = Lead.objects.filter(workspace=workspace).count()

    deep_cursor, walk_ms = cursor_at_page(client, "limit=50", args.deep_page)
    sync_since = "2000-01-01T00:00:00%2B00:00"
    deep_sync_cursor, _ = cursor_at_page(
        client, f"limit=50&order=updated_at&updated_after={sync_since}", args.deep_page
    )
    pages = [
        ("first page (newest first)", "/v1/leads"),
        (f"page {args.deep_page} (newest first)", f"/v1/leads?limit=50&cursor={deep_cursor}"),
        ("first page, oldest first", "/v1/leads?order=created_at"),
        (
            f"page {args.deep_page}, order=updated_at",
            f"/v1/leads?limit=50&order=updated_at&updated_after={sync_since}"
            f"&cursor={deep_sync_cursor}",
        ),
        ("filtered: status=won", "/v1/leads?status=won"),
        ("filtered: status=won&source=ad", "/v1/leads?status=won&source=ad"),
        ("filtered: spam=only", "/v1/leads?spam=only"),
        (
            "filtered: created in one day",
            "/v1/leads?created_after=2026-06-01T00:00:00Z&created_before=2026-06-02T00:00:00Z",
        ),
        ("filtered: email (exact)", f"/v1/leads?email={sample.email.upper()}"),
        ("search: q=garcia (10% match)", "/v1/leads?q=garcia"),
        (f"search: q={sample.phone[-7:]} (one match)", f"/v1/leads?q={sample.phone[-7:]}"),
        ("search: q=zzzz (no match)", "/v1/leads?q=zzzz"),
    ]

    print(f"{total} leads in the bench workspace; {args.runs} timed runs per page")
    print(f"following cursors to page {args.deep_page}: {walk_ms:.1f} ms per page on average")
    print(
        f"{'page':<40} {'median ms':>9}  {'queries':>7}  {'status':>6}  {'rows':>4}  index  target"
    )
    worst = 0.0
    for name, url in pages:
        median, queries, status, index, rows = measure(client, url, args.runs)
        worst = max(worst, median)
        verdict = "ok" if median < TARGET_MS and status == 200 else "MISSED"
        print(
            f"{name:<40} {median:>9.1f}  {queries:>7}  {status:>6}  {rows:>4}  {index}  {verdict}"
        )
    print(f"slowest median: {worst:.1f} ms (target < {TARGET_MS} ms)")


if __name__ == "__main__":
    main()
