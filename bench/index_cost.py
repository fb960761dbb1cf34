"""What each index of `leads_lead` costs per insert, at a given table size.

    createdb -h 127.0.0.1 -U postgres hm_idx
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hm_idx \\
        .venv/bin/python bench/index_cost.py --leads 1000000 [--mode each|gin] [--batch 2000]

It migrates and grows the bench workspace to --leads leads (`bench.seeding.grow_to`, COPY),
then times batches of inserts shaped like an ingest request's: one `Lead.objects.create` in
its own `transaction.atomic()` (INSERT + COMMIT), with the fields the webhook fills (name,
email, phone, page URL, UTM, a submission id). Every batch starts with the GIN pending lists
flushed and autovacuum off for the table, so each batch pays its own pending-list flushes.

By default the session runs with synchronous_commit off: each COMMIT then skips the WAL
flush wait (about 4 ms on this machine's disk, the same for every variant, no CPU, and
shared by concurrent requests through group commit), which would otherwise drown the
differences between batches in the disk's jitter. What is left is the work an insert makes
PostgreSQL do (heap, every index, WAL records): the part that costs CPU under load.
--synchronous-commit on times the commit as a request waits for it.

Columns: wall-clock ms per insert (mean with the final flush's share, p50, p99, max, the
final flush per insert, the mean's ratio to the "all indexes" batch just before); the server
process's CPU ms per insert (from /proc: the bench must run on the database's machine), its
ratio and the CPU it saves; and, from EXPLAIN (ANALYZE, BUFFERS, WAL) of 200 more inserts,
the median execution time of the INSERT in the server (its ratio); ms per insert (and ratio)
of as many inserts again made by PostgreSQL itself in a DO block, each committed on its own
(no client, driver or round trip: the figure where an index's share shows best); and from
the EXPLAINs, the median shared blocks touched and WAL bytes written.

--mode each: for every index but the primary key, a batch with all indexes, then a batch
with that index dropped (it is rebuilt from its definition afterwards), and a batch with none
at the end; --rounds times, so the spread of the "all" batches shows the noise.

--mode as-is: --rounds batches with the indexes as they are (before / after a migration).

--mode gin: the admin search's designs side by side, each against "all indexes as now" run
just before it: the three trigram GINs with fastupdate off; one combined trigram GIN over
UPPER(email || name || phone) instead of the three (fastupdate on, then off); no trigram
index at all.

It leaves the indexes as it found them (the rows it inserts stay). Run it on a database of
its own: it drops and rebuilds indexes, which locks the table.
"""

import argparse
import json
import os
import signal
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hushmetrics.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models.sql import InsertQuery  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.seeding import grow_to  # noqa: E402
from leads.models import Lead  # noqa: E402
from workspaces.models import Workspace  # noqa: E402

TABLE = Lead._meta.db_table
INSERT_WORKSPACE = "Bench index cost"
TRIGRAM = ("lead_email_trgm", "lead_name_trgm", "lead_phone_trgm")
COMBINED = (
    "CREATE INDEX lead_search_trgm ON leads_lead USING gin "
    "((UPPER(email::text || ' ' || name::text || ' ' || phone::text)) gin_trgm_ops)"
)
EXPLAIN_SAMPLE = 200
FIRST = ["Jane", "John", "Ana", "Li", "Omar", "Sofia", "Lukas", "Mia", "Noah", "Emma", "Ravi"]
LAST = ["Doe", "Smith", "Garcia", "Chen", "Haddad", "Rossi", "Meyer", "Kim", "Novak", "Silva"]


def sql(statement: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement)
        return cursor.fetchall() if cursor.description else []


def index_definitions() -> dict[str, str]:
    """name → CREATE INDEX statement, for every index of the table but the primary key."""
    rows = sql(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "  # noqa: S608 - constants
        f"JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = '{TABLE}'::regclass "
        "AND NOT i.indisprimary ORDER BY c.relname"
    )
    return dict(rows)


def gin_indexes() -> list[str]:
    return [
        name
        for (name,) in sql(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "  # noqa: S608
            "JOIN pg_am a ON a.oid = c.relam "
            f"WHERE i.indrelid = '{TABLE}'::regclass AND a.amname = 'gin'"
        )
    ]


def flush_pending_lists() -> None:
    for name in gin_indexes():
        sql(f"SELECT gin_clean_pending_list('{name}'::regclass)")


def rebuild(definitions: list[str]) -> None:
    # A SIGTERM waits until the indexes are back (it would leave the table without them).
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        sql("SET maintenance_work_mem = '512MB'")
        for definition in definitions:
            sql(definition)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})


class Batch:
    """Per-insert times (ms) of one batch."""

    def __init__(
        self, times: list[float], flush: float, cpu: float, plans: list[dict], loop: float
    ) -> None:
        self.times = sorted(times)
        self.loop = loop
        self.flush = flush
        self.cpu = cpu
        # Medians of the sampled inserts: the rare pending-list flush would swamp a mean.
        self.blocks = statistics.median(
            p["Shared Hit Blocks"] + p["Shared Read Blocks"] for p in plans
        )
        self.wal = statistics.median(p["WAL Bytes"] for p in plans)
        # The INSERT's own execution in the server (heap, every index, WAL records; no
        # parse, commit or round trip): the median is the least disturbed figure here.
        self.exec = statistics.median(p["Actual Total Time"] for p in plans)

    @property
    def mean(self) -> float:
        """Per insert, with the batch's share of the final pending-list flush."""
        return statistics.fmean(self.times) + self.flush

    def pct(self, p: float) -> float:
        return self.times[min(len(self.times) - 1, int(p * len(self.times)))]


def backend_cpu_ms() -> float:
    """CPU time (user + system, ms) the server process of this connection has used so far:
    far less disturbed by the other work on the machine than wall-clock time."""
    pid = sql("SELECT pg_backend_pid()")[0][0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def new_lead(workspace: Workspace, serial: list[int]) -> Lead:
    """An unsaved lead with what a webhook submission fills; a new email and phone each time."""
    n = serial[0] = serial[0] + 1
    first, last = FIRST[n % len(FIRST)], LAST[(n // 7) % len(LAST)]
    return Lead(
        workspace=workspace,
        name=f"{first} {last}",
        email=f"{first}.{last}.ic{n}@example.com".lower(),
        phone=f"+1666{n:07d}",
        page_url=f"https://example.com/landing/{n % 50}",
        utm={"source": "google", "medium": "cpc", "campaign": f"c{n % 9}"},
        submission_id=uuid.uuid4().hex,
    )


def explained_insert(lead: Lead) -> dict:
    """Run the ORM's INSERT of `lead` under EXPLAIN (ANALYZE, BUFFERS, WAL); its top node."""
    lead.created_at = lead.updated_at = timezone.now()  # what auto_now(_add) would set
    query = InsertQuery(Lead)
    query.insert_values(Lead._meta.local_concrete_fields, [lead])
    [(statement, params)] = query.get_compiler(connection=connection).as_sql()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) {statement}", params)
        plan = cursor.fetchone()[0]
    return (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]


SERVER_LOOP = """
DO $$
DECLARE
  first text[] := '{%(first)s}';
  last text[] := '{%(last)s}';
  n bigint;
  f text;
  l text;
BEGIN
  FOR i IN 1..%(size)s LOOP
    n := %(start)s + i;
    f := first[1 + n %% array_length(first, 1)];
    l := last[1 + (n / 7) %% array_length(last, 1)];
    INSERT INTO leads_lead (id, workspace_id, name, email, phone, status, source, value,
      created_by_id, setter_id, utm, extra_data, page_url, is_spam, submission_id,
      submission_fingerprint, created_at, updated_at)
    VALUES (gen_random_uuid(), '%(workspace)s', f || ' ' || l,
      lower(f || '.' || l || '.sl' || n || '@example.com'), '+1777' || lpad(n::text, 7, '0'),
      'contact', 'other', 0, NULL, NULL,
      jsonb_build_object('source', 'google', 'medium', 'cpc', 'campaign', 'c' || n %% 9),
      NULL, 'https://example.com/landing/' || n %% 50, false, md5(n::text), NULL, now(), now());
    COMMIT;
  END LOOP;
END $$
"""


def server_loop(workspace: Workspace, size: int, serial: list[int]) -> float:
    """ms per insert of `size` inserts of the same shape made by PostgreSQL itself, each
    committed on its own (a DO block): no client, driver or round trip in the figure."""
    start, serial[0] = serial[0], serial[0] + size
    statement = SERVER_LOOP % {
        "first": ",".join(FIRST),
        "last": ",".join(LAST),
        "size": size,
        "start": start,
        "workspace": workspace.pk,
    }
    began = time.perf_counter()
    sql(statement)
    flush_pending_lists()  # as in insert_batch
    return (time.perf_counter() - began) * 1000 / size


def insert_batch(workspace: Workspace, size: int, serial: list[int]) -> Batch:
    """`size` inserts, each its own transaction, as an ingest request makes them; then
    EXPLAIN_SAMPLE more under EXPLAIN for what each one touches (no timing noise there)."""
    flush_pending_lists()
    times = []
    cpu_before = backend_cpu_ms()
    for _ in range(size):
        lead = new_lead(workspace, serial)
        start = time.perf_counter()
        with transaction.atomic():
            lead.save(force_insert=True)
        times.append((time.perf_counter() - start) * 1000)
    # The GIN pending lists' entries still have to go into the indexes: by an insert that
    # finds a list over gin_pending_list_limit, or by (auto)vacuum. That work is counted too,
    # spread over the batch's inserts.
    start = time.perf_counter()
    flush_pending_lists()
    flush_ms = (time.perf_counter() - start) * 1000 / size
    cpu = (backend_cpu_ms() - cpu_before) / size
    plans = [explained_insert(new_lead(workspace, serial)) for _ in range(EXPLAIN_SAMPLE)]
    loop = server_loop(workspace, size, serial)
    return Batch(times, flush_ms, cpu, plans, loop)


def row(name: str, batch: Batch, reference: Batch | None) -> str:
    ratio = f"{batch.mean / reference.mean:6.3f}" if reference else "      "
    cpu_ratio = f"{batch.cpu / reference.cpu:6.3f}" if reference else "      "
    saved = f"{reference.cpu - batch.cpu:+7.3f}" if reference else "       "
    exec_ratio = f"{batch.exec / reference.exec:6.3f}" if reference else "      "
    loop_ratio = f"{batch.loop / reference.loop:6.3f}" if reference else "      "
    return (
        f"{name:<44.44} {batch.mean:7.3f} {batch.pct(0.5):6.3f} {batch.pct(0.99):6.2f} "
        f"{batch.times[-1]:6.1f} {batch.flush:5.3f} {ratio}  {batch.cpu:7.3f} {cpu_ratio} {saved}  "
        f"{batch.exec:7.4f} {exec_ratio}  {batch.loop:7.4f} {loop_ratio}  "
        f"{batch.blocks:6.0f} {batch.wal:6.0f}"
    )


HEADER = (
    f"{'batch':<44} {'mean ms':>7} {'p50':>6} {'p99':>6} {'max':>6} {'flush':>5} {'ratio':>6}  "
    f"{'cpu ms':>7} {'ratio':>6} {'Δcpu ms':>7}  "
    f"{'exec ms':>7} {'ratio':>6}  {'loop ms':>7} {'ratio':>6}  {'blocks':>6} {'WAL B':>6}"
)


def without(names: list[str], body: Callable[[], Batch]) -> Batch:
    """`body` run with the indexes `names` dropped; they are rebuilt afterwards."""
    definitions = index_definitions()
    for name in names:
        sql(f"DROP INDEX {name}")
    try:
        return body()
    finally:
        rebuild([definitions[name] for name in names])


def mode_each(workspace: Workspace, args: argparse.Namespace, serial: list[int]) -> None:
    names = list(index_definitions())
    print(HEADER)
    for r in range(args.rounds):
        for name in [*names, "(every index but the primary key)"]:
            dropped = names if name.startswith("(") else [name]
            reference = insert_batch(workspace, args.batch, serial)
            print(row(f"r{r + 1} all indexes", reference, None))
            batch = without(dropped, lambda: insert_batch(workspace, args.batch, serial))
            print(row(f"r{r + 1}   without {name}", batch, reference), flush=True)


def fastupdate(names: list[str], on: bool) -> None:
    for name in names:
        sql(f"SELECT gin_clean_pending_list('{name}'::regclass)")
        sql(f"ALTER INDEX {name} SET (fastupdate = {'on' if on else 'off'})")


def mode_gin(workspace: Workspace, args: argparse.Namespace, serial: list[int]) -> None:
    trigram = list(TRIGRAM)

    def fastupdate_off() -> Batch:
        fastupdate(trigram, on=False)
        try:
            return insert_batch(workspace, args.batch, serial)
        finally:
            fastupdate(trigram, on=True)

    def combined(on: bool) -> Callable[[], Batch]:
        def body() -> Batch:
            rebuild([COMBINED])
            try:
                fastupdate(["lead_search_trgm"], on=on)
                return insert_batch(workspace, args.batch, serial)
            finally:
                sql("DROP INDEX lead_search_trgm")

        return body

    designs: list[tuple[str, Callable[[], Batch]]] = [
        ("three GINs, fastupdate off", fastupdate_off),
        ("one combined GIN (fastupdate on)", lambda: without(trigram, combined(True))),
        ("one combined GIN, fastupdate off", lambda: without(trigram, combined(False))),
        (
            "no trigram index",
            lambda: without(trigram, lambda: insert_batch(workspace, args.batch, serial)),
        ),
    ]
    print(HEADER)
    for r in range(args.rounds):
        for name, body in designs:
            reference = insert_batch(workspace, args.batch, serial)
            print(row(f"r{r + 1} all indexes (three GINs, fastupdate on)", reference, None))
            print(row(f"r{r + 1}   {name}", body(), reference), flush=True)


def mode_as_is(workspace: Workspace, args: argparse.Namespace, serial: list[int]) -> None:
    names = ", ".join(index_definitions())
    print(f"indexes (and the primary key): {names}")
    print(HEADER)
    for r in range(args.rounds):
        print(
            row(
                f"r{r + 1} the indexes as they are",
                insert_batch(workspace, args.batch, serial),
                None,
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--mode", choices=["each", "gin", "as-is"], default="each")
    parser.add_argument(
        "--no-migrate", action="store_true", help="as migrated (e.g. back to an older design)"
    )
    parser.add_argument(
        "--synchronous-commit",
        choices=["on", "off"],
        default="off",
        help="this session's synchronous_commit (default off: see the module doc)",
    )
    args = parser.parse_args()
    # A kill (or ^C) still runs the `finally`s that rebuild what a batch dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    if connection.vendor != "postgresql":
        sys.exit("the bench needs PostgreSQL: set DATABASE_URL (see the README)")

    if not args.no_migrate:
        call_command("migrate", verbosity=0)
    grow_to(args.leads, neighbour_leads=1_000)
    # A workspace of its own, so the bench workspace keeps its size for the other benches.
    workspace = Workspace.objects.filter(name=INSERT_WORKSPACE).first()
    workspace = workspace or Workspace.objects.create(name=INSERT_WORKSPACE)
    serial = [Lead.objects.count()]
    sql(f"SET synchronous_commit = {args.synchronous_commit}")
    sql(f"ALTER TABLE {TABLE} SET (autovacuum_enabled = false)")
    try:
        print(
            f"{serial[0]} leads; {args.batch} inserts a batch, one transaction each; "
            f"synchronous_commit {args.synchronous_commit}"
        )
        for name, options in sql(
            "SELECT c.relname, c.reloptions FROM pg_class c JOIN pg_am a ON a.oid = c.relam "  # noqa: S608
            f"WHERE a.amname = 'gin' AND c.relname IN {TRIGRAM}"
        ):
            print(f"{name}: reloptions {options} (none: fastupdate on, the default)")
        print(f"gin_pending_list_limit = {sql('SHOW gin_pending_list_limit')[0][0]}")
        modes = {"each": mode_each, "gin": mode_gin, "as-is": mode_as_is}
        modes[args.mode](workspace, args, serial)
    finally:
        sql(f"ALTER TABLE {TABLE} RESET (autovacuum_enabled)")


if __name__ == "__main__":
    main()
