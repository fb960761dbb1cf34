"""Load benchmark (`make bench`): every write endpoint against a same-run baseline.

Starts the service the way `make serve` does (gunicorn.conf.py, PostgreSQL + Redis, DEBUG
off), with 2 CPU cores' worth of workers and raised rate limits, then drives each endpoint
with wrk for the same duration and connections, in interleaved rounds, and prints per
endpoint requests/s, p50, p99, errors, the ratio to the baseline (a bench-only view that
parses the JSON body and inserts one row, served by the same gunicorn) measured in the same
run, and the gunicorn workers' CPU time per request; plus the peak RSS of a worker.

Outbound (issue 13): the lines marked "(1 webhook)" send the same requests to a second
workspace that has one active webhook destination, a receiver in this process (an HTTP
server thread on loopback that answers 204 and records each `webhook-id` and when it came).
No worker consumes during the rounds (in production it runs on machines of its own), so
their ratio is the ingest path's own cost: the event and delivery rows, and the broker
publish on commit (Redis, a db of the bench's own). After the rounds one delivery worker
(`celery -A hushmetrics worker --pool threads --concurrency 16`, as `make worker` runs it,
without beat) drains every pending delivery: webhooks/s for one worker process, and every
event received at least once. Then, the worker idle, create-lead requests one at a time:
the commit-to-receipt latency (receipt minus the event's `timestamp`, its created_at, set
in the transaction shortly before COMMIT).

    python bench/load_bench.py [--duration 6] [--rounds 3] [--connections 16] [--no-outbound]
                               [--front nginx|none|both]

`--front both` runs `make serve`'s topology and measures every endpoint twice per round,
through nginx and straight to the same gunicorn, interleaved: what the proxy costs, free of
the run-to-run noise two separate runs carry.

Needs wrk (Debian package `wrk`), PostgreSQL and Redis on 127.0.0.1. Uses its own database
(hushmetrics_bench, recreated), Redis db 8 and, as the broker, Redis db 9, and ports 18090
and 18091 (BENCH_DATABASE_URL, BENCH_REDIS_URL, BENCH_BROKER_URL, BENCH_PORT choose others);
nothing else is touched.
"""

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import psycopg

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
from bench.outbound_rig import Receiver, Worker, first_receipts  # noqa: E402

PYTHON = str(PROJECT / ".venv" / "bin" / "python")
GUNICORN = str(PROJECT / ".venv" / "bin" / "gunicorn")
PORT = int(os.environ.get("BENCH_PORT", "18090"))
BASE = f"http://127.0.0.1:{PORT}"
# `--front both`: gunicorn's own address behind nginx, measured directly as well.
DIRECT_PORT = PORT + 1
DIRECT = f"http://127.0.0.1:{DIRECT_PORT}"
# The bare floor (bench/floor/): a Django + DRF app with nothing of ours (bar `floor checked`'s
# cache client), its own gunicorn, measured with no front.
FLOOR_PORT = PORT + 2
FLOOR = f"http://127.0.0.1:{FLOOR_PORT}"
# The floor's endpoints: measured on its server, with no front.
FLOOR_SIDE = ("floor", "floor checked")
# The endpoints against the workspace with one webhook destination.
HOOKED = ("create-lead (1 webhook)", "webhook JSON (1 webhook)")
TARGETS = {
    "create-lead": 0.8,
    "webhook JSON": 0.8,
    "webhook form": 0.8,
    "opt-in new lead": 0.5,
    HOOKED[0]: 0.55,
    HOOKED[1]: 0.55,
}
WORKER_TARGET = 100  # webhooks/s, one worker process
LATENCY_TARGET = 1.0  # seconds, p50 of commit to receipt with the worker idle

CREATE_LEAD = {
    "name": "Jane Doe",
    "email": "jane@example.com",
    "phone": "+1234567890",
    "source": "website",
    "value": 500,
    "utm": {"utm_source": "google", "utm_medium": "cpc"},
    "extra_data": {"company": "Acme Inc", "role": "CTO"},
    "page_url": "https://example.com/pricing",
}
WEBHOOK = {
    "name": "John Smith",
    "email": "john@example.com",
    "source": "website",
    "utm_source": "google",
    "utm_medium": "cpc",
    "company": "Acme Inc",
    "message": "I'd like a demo",
}
QA = [{"question": "What is your biggest challenge?", "answer": "Leads", "position": 0}]
TRAFFIC = {"utm_source": "facebook", "utm_medium": "paid", "utm_campaign": "q1"}
# `{id}` is replaced per request: new emails make new leads, new references new opt-ins.
OPTIN_NEW = {
    "email": "new-{id}@example.com",
    "first_name": "John",
    "last_name": "Doe",
    "source": "LANDING_PAGE",
    "questions_answers": QA,
    "traffic": TRAFFIC,
}
OPTIN_EXISTING = {
    "email": "Existing@Example.com",
    "first_name": "Eve",
    "source": "WEBINAR",
    "external_reference": "ref-{id}",
    "questions_answers": QA,
}
OPTIN_REPLAY = {
    "email": "replay@example.com",
    "first_name": "Rae",
    "source": "TYPEFORM",
    "external_reference": "typeform-submission-abc123",
}

# wrk scripts: each request unique where the endpoint would otherwise dedupe.
LUA_COMMON = """
wrk.method = "POST"
local counter = 0
local thread_id = tostring(math.random(1, 1e9))
function next_id()
  counter = counter + 1
  return thread_id .. "-" .. counter
end
"""


def lua(path: str, content_type: str, body: str, headers: dict[str, str] | None = None) -> str:
    """A wrk script posting `body`, with every `{id}` in it replaced by a fresh id."""
    header_lines = "\n".join(f'  wrk.headers["{k}"] = "{v}"' for k, v in (headers or {}).items())
    return (
        LUA_COMMON
        + f"""
local body = [==[{body}]==]
function request()
  wrk.headers["Content-Type"] = "{content_type}"
{header_lines}
  local this_body = body:gsub("{{id}}", next_id())
  return wrk.format("POST", "{path}", nil, this_body)
end
"""
    )


def run(cmd: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(cmd, env=env, cwd=PROJECT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stderr}")
    return result.stdout.strip()


def wait_healthy(timeout: float = 30, base: str = BASE) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/v1/health", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not become healthy")


def _found(match: re.Match[str] | None, what: str) -> re.Match[str]:
    if match is None:
        raise SystemExit(f"wrk's output has no {what}")
    return match


def parse_wrk(output: str) -> dict[str, float]:
    def to_ms(text: str) -> float:
        value, unit = _found(re.fullmatch(r"([\d.]+)(us|ms|s)", text), "latency").groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    rps = float(_found(re.search(r"Requests/sec:\s+([\d.]+)", output), "Requests/sec").group(1))
    p50 = to_ms(_found(re.search(r"^\s+50%\s+(\S+)", output, re.M), "50%").group(1))
    p99 = to_ms(_found(re.search(r"^\s+99%\s+(\S+)", output, re.M), "99%").group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(non2xx.group(1)) if non2xx else 0
    if socket:
        errors += sum(int(n) for n in socket.groups())
    total = int(_found(re.search(r"(\d+) requests in", output), "request count").group(1))
    return {"rps": rps, "p50": p50, "p99": p99, "errors": errors, "requests": total}


def gunicorn_master(pid: int) -> int:
    """`pid` if it is gunicorn's master, else its child that is (deploy/serve.py's)."""
    if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes():
        return pid
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        if b"gunicorn" in Path(f"/proc/{child}/cmdline").read_bytes():
            return int(child)
    raise SystemExit("gunicorn's master process not found")


def worker_peak_rss_mb(master_pid: int) -> float:
    peak = 0
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        if match:
            peak = max(peak, int(match.group(1)))
    return peak / 1024


def cpu_seconds(pids: Iterable[int | str]) -> float:
    """User + system CPU these processes have used so far (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def workers_cpu_seconds(master_pid: int) -> float:
    """User + system CPU the gunicorn workers have used so far."""
    return cpu_seconds(Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split())


def nginx_master(pid: int) -> int | None:
    """deploy/serve.py's nginx master process, if `pid` is serve.py."""
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        if b"nginx" in Path(f"/proc/{child}/cmdline").read_bytes():
            return int(child)
    return None


def median_round(measured: list[dict[str, float]]) -> dict[str, float]:
    """The round with the median requests/s; errors summed over every round."""
    ordered = sorted(measured, key=lambda figures: figures["rps"])
    chosen = dict(ordered[len(ordered) // 2])
    chosen["errors"] = sum(figures["errors"] for figures in measured)
    return chosen


def report(results: dict[str, dict[str, float]]) -> list[str]:
    """Print one table of figures with their ratios to the in-stack baseline (its targets)
    and to the bare floor; what missed a target."""
    baseline = results["baseline"]["rps"]
    floor = results["floor"]["rps"]
    print(
        f"{'endpoint':<26}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'× base':>8}"
        f"{'target':>8}{'× floor':>9}{'app CPU ms/req':>16}"
    )
    failed = []
    for name, figures in results.items():
        ratio = figures["rps"] / baseline
        target = TARGETS.get(name)
        verdict = "" if target is None else (f"≥{target}" if ratio >= target else f"<{target}!")
        if target is not None and ratio < target:
            failed.append(name)
        if figures["errors"]:
            failed.append(f"{name} errors")
        print(
            f"{name:<26}{figures['rps']:>9.0f}{figures['p50']:>9.1f}{figures['p99']:>9.1f}"
            f"{figures['errors']:>8}{ratio:>8.2f}{verdict:>8}{figures['rps'] / floor:>9.2f}"
            f"{figures['cpu_ms']:>16.2f}"
        )
    return failed


@dataclass
class Outbound:
    """What the worker part measured: the drain of the rounds' backlog, then the latency."""

    backlog: int  # deliveries pending when the worker started
    events: int  # events of the workspace with the destination
    leads: int  # its leads (each one's lead.created is an event)
    drained: int = 0  # deliveries the worker finished
    seconds: float = 0.0  # from its first attempt's start to its last delivery's end
    cpu_ms: float = 0.0  # the worker's CPU per delivery
    complete: bool = False  # nothing pending and every event received, within the limit
    missing: int = 0  # events the receiver never got
    failed: int = 0  # deliveries that failed
    duplicates: int = 0  # receipts of a webhook-id received before
    bad_signatures: int = 0
    sent: int = 0  # create-lead requests of the latency part
    latencies: tuple[float, ...] = ()  # seconds from commit to receipt, sorted


def _count(connection: psycopg.Connection, sql: str, params: list | None = None) -> int:
    row = connection.execute(sql, params).fetchone()
    return int(row[0]) if row is not None and row[0] is not None else 0


def drain(
    db_url: str, workspace: str, worker: Worker, receiver: Receiver, limit: float
) -> Outbound:
    """Start the worker on the backlog the rounds left; wait until no delivery is pending
    and the receiver has every event's webhook-id (or `limit` seconds)."""
    pending = "SELECT count(*) FROM outbound_delivery WHERE state = 'pending'"
    with psycopg.connect(db_url, autocommit=True) as connection:
        # Requests wrk left unanswered at the end of a round may still commit: wait until
        # the workspace's leads, its events and the pending deliveries stay put for 1 s.
        counts = previous = None
        for _ in range(30):
            counts = connection.execute(
                f"""
                SELECT (SELECT count(*) FROM leads_lead WHERE workspace_id = %s),
                       (SELECT count(*) FROM outbound_event WHERE workspace_id = %s),
                       ({pending})
                """,  # noqa: S608 - `pending` is this function's constant
                [workspace, workspace],
            ).fetchone()
            if counts == previous:
                break
            previous = counts
            time.sleep(1)
        assert counts is not None
        events = {
            str(row[0])
            for row in connection.execute(
                "SELECT id FROM outbound_event WHERE workspace_id = %s", [workspace]
            )
        }
        figures = Outbound(backlog=int(counts[2]), events=len(events), leads=int(counts[0]))
    print(f"  draining {figures.backlog} deliveries with one worker", file=sys.stderr)
    before = time.time()
    worker.start()
    cpu_before = cpu_seconds(worker.pids())
    deadline = time.monotonic() + limit
    with psycopg.connect(db_url, autocommit=True) as connection:
        while time.monotonic() < deadline:
            if not _count(connection, pending) and events <= receiver.seen():
                figures.complete = True
                break
            time.sleep(0.5)
        figures.cpu_ms = (cpu_seconds(worker.pids()) - cpu_before) * 1000
        row = connection.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE d.state = 'failed'),
                   extract(epoch FROM max(d.finished_at)),
                   (SELECT extract(epoch FROM min(a.started_at)) FROM outbound_deliveryattempt a
                    WHERE a.started_at >= to_timestamp(%s))
            FROM outbound_delivery d WHERE d.finished_at >= to_timestamp(%s)
            """,
            [before, before],
        ).fetchone()
    assert row is not None
    figures.drained, figures.failed = int(row[0]), int(row[1])
    if row[2] is not None and row[3] is not None:
        figures.seconds = float(row[2]) - float(row[3])
    figures.cpu_ms /= max(1, figures.drained)
    with receiver.lock:
        ids = [receipt.webhook_id for receipt in receiver.receipts]
        figures.bad_signatures = sum(1 for receipt in receiver.receipts if not receipt.signed)
    figures.missing = len(events - set(ids))
    figures.duplicates = len(ids) - len(set(ids))
    return figures


def commit_to_receipt(
    db_url: str, workspace: str, receiver: Receiver, count: int, spacing: float
) -> tuple[int, tuple[float, ...]]:
    """`count` create-lead requests one at a time, `spacing` s apart, with the worker idle:
    (requests answered, the seconds from each event's timestamp to its first receipt)."""
    offset = time.time() - time.monotonic()  # receipts are monotonic, timestamps wall-clock
    leads = []
    for n in range(count):
        body = CREATE_LEAD | {"workspace_id": workspace, "email": f"latency-{n}@example.com"}
        request = urllib.request.Request(  # noqa: S310
            f"{BASE}/v1/create-lead",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            leads.append(json.loads(response.read())["id"])
        time.sleep(spacing)
    with psycopg.connect(db_url) as connection:
        created = {
            str(row[0]): float(row[1])
            for row in connection.execute(
                """
                SELECT id, extract(epoch FROM created_at) FROM outbound_event
                WHERE workspace_id = %s AND payload -> 'lead' ->> 'id' = ANY(%s)
                """,
                [workspace, leads],
            )
        }
    deadline = time.monotonic() + 30
    while not created.keys() <= receiver.seen() and time.monotonic() < deadline:
        time.sleep(0.1)
    with receiver.lock:
        first = first_receipts(receiver.receipts)
    latencies = sorted(first[i] + offset - at for i, at in created.items() if i in first)
    return len(leads), tuple(latencies)


def report_outbound(figures: Outbound, args: argparse.Namespace, broker_url: str) -> list[str]:
    """Print the worker part; the names of the checks it failed."""
    failed = []
    rate = figures.drained / figures.seconds if figures.seconds else 0.0
    print(
        f"\nOutbound: 1 webhook destination (a receiver in this process, answering 204), "
        f"broker {broker_url}; after the rounds, 1 worker process "
        f"(--pool threads --concurrency {args.worker_concurrency}, no beat)"
    )
    print(
        f"  drain    {figures.drained} of {figures.backlog} pending deliveries in "
        f"{figures.seconds:.1f} s: {rate:.0f} webhooks/s (target ≥ {WORKER_TARGET}/s), "
        f"worker CPU {figures.cpu_ms:.2f} ms/delivery"
    )
    print(
        f"  receipt  {figures.events - figures.missing} of {figures.events} events received "
        f"(missing {figures.missing}); {figures.duplicates} duplicates, {figures.failed} "
        f"deliveries failed, {figures.bad_signatures} bad signatures; "
        f"{figures.leads} leads in the workspace"
    )
    if figures.latencies:
        ordered = figures.latencies
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        print(
            f"  latency  {figures.sent} create-lead one at a time, "
            f"{args.latency_spacing * 1000:.0f} ms apart, worker idle: commit to receipt "
            f"(receipt − the event's timestamp) p50 {statistics.median(ordered):.3f} s, "
            f"p95 {p95:.3f} s, max {ordered[-1]:.3f} s (target p50 < {LATENCY_TARGET:g} s); "
            f"{figures.sent - len(ordered)} not received"
        )
    if not figures.complete:
        failed.append(f"outbound backlog not drained within {args.drain_limit:g} s")
    if rate < WORKER_TARGET:
        failed.append("worker webhooks/s")
    if figures.missing or figures.failed or figures.bad_signatures:
        failed.append("events missing, failed or badly signed")
    if figures.events != figures.leads:
        failed.append("leads without their event")
    if len(figures.latencies) < figures.sent:
        failed.append("latency events not received")
    if not figures.latencies or statistics.median(figures.latencies) >= LATENCY_TARGET:
        failed.append("commit-to-receipt p50")
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=6, help="seconds per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="ENDPOINT",
        help="measure these (and the floor's lines and the baseline) only",
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2 * 2 + 1, help="2 cores' worth: 2×2+1")
    parser.add_argument(
        "--front",
        choices=["nginx", "none", "both"],
        default="nginx",
        help="nginx in front of gunicorn, as make serve runs (default), gunicorn alone, or "
        "both: through nginx and straight to its gunicorn, interleaved in one run",
    )
    parser.add_argument(
        "--no-outbound",
        action="store_true",
        help="no workspace with a webhook destination: neither its endpoints nor the worker",
    )
    parser.add_argument("--worker-concurrency", type=int, default=16)
    parser.add_argument(
        "--drain-limit", type=float, default=900, help="seconds the worker may take to drain"
    )
    parser.add_argument("--latency-requests", type=int, default=200)
    parser.add_argument(
        "--latency-spacing", type=float, default=0.03, help="seconds between those requests"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install wrk")
    # The outbound part (the destination's workspace, its endpoints, the worker) runs
    # unless switched off or left out by --only.
    outbound = not args.no_outbound and (not args.only or any(name in args.only for name in HOOKED))

    db_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hushmetrics_bench"
    )
    broker_url = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/9")
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8"),
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-" + "x" * 50),
        "DEBUG": "0",
        # The production settings plus the baseline endpoint (bench/baseline/).
        "DJANGO_SETTINGS_MODULE": "bench.baseline.settings",
        "RATE_LIMIT_OPTIN": "1000000/m",
        "RATE_LIMIT_CREATE_LEAD": "1000000/m",
        "RATE_LIMIT_WEBHOOK": "1000000/m",
        "RATE_LIMIT_WEBHOOK_WORKSPACE": "1000000/m",
        "RATE_LIMIT_AUTH_FAILURES": "1000000/m",
        "WEB_CONCURRENCY": str(args.workers),
        "BIND": f"127.0.0.1:{PORT}",
        "LOG_LEVEL": "warning",
        # No recycling mid-run: a recycled worker would take its CPU time and peak RSS along.
        "GUNICORN_MAX_REQUESTS": "0",
        # The rings (the web processes) and the delivery worker: a Redis db of our own.
        "CELERY_BROKER_URL": broker_url,
        # The receiver is on loopback.
        "OUTBOUND_ALLOW_PRIVATE_NETWORKS": "1",
    }
    dbname = db_url.rsplit("/", 1)[1]
    admin_url = db_url.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(["psql", admin_url, "-qc", f"DROP DATABASE IF EXISTS {dbname}"], check=True)
    subprocess.run(["psql", admin_url, "-qc", f"CREATE DATABASE {dbname}"], check=True)
    run([PYTHON, "manage.py", "migrate", "-v0"], env)
    # The floor: its own settings and table, the same gunicorn flags and database server.
    floor_env = {
        **env,
        "DJANGO_SETTINGS_MODULE": "bench.floor.settings",
        "BIND": f"127.0.0.1:{FLOOR_PORT}",
    }
    run([PYTHON, "manage.py", "migrate", "-v0"], floor_env)
    run(["redis-cli", "-u", env["REDIS_URL"], "flushdb"], env)
    run(["redis-cli", "-u", broker_url, "flushdb"], env)
    workspace = run([PYTHON, "manage.py", "create_workspace", "Bench"], env)
    key = run([PYTHON, "manage.py", "issue_api_key", "--workspace", workspace, "--name", "b"], env)
    receiver = Receiver(status=204)
    hooked = ""
    if outbound:
        receiver.start()
        hooked = run([PYTHON, "manage.py", "create_workspace", "Bench outbound"], env)
        destination = [PYTHON, "manage.py", "create_destination", "--workspace", hooked]
        created = run([*destination, "--kind", "webhook", "--url", receiver.url], env)
        receiver.secret = created.splitlines()[1]

    with tempfile.TemporaryDirectory() as tmp:
        as_json = json.dumps
        opt_in = {"x-api-key": key}
        hooked_scripts = {
            HOOKED[0]: lua(
                "/v1/create-lead",
                "application/json",
                as_json(CREATE_LEAD | {"workspace_id": hooked}),
            ),
            HOOKED[1]: lua(f"/v1/webhook/{hooked}", "application/json", as_json(WEBHOOK)),
        }
        scripts = {
            # The same documented lead into the bare floor's plain table (bench/floor/).
            "floor": lua("/bench/floor", "application/json", as_json(CREATE_LEAD)),
            # The same, counted against a rate limit and validated first (bench/floor/).
            "floor checked": lua("/bench/floor-checked", "application/json", as_json(CREATE_LEAD)),
            # The same documented lead, stored unchecked: the same row as create-lead writes.
            "baseline": lua(
                "/v1/bench-baseline",
                "application/json",
                as_json(CREATE_LEAD | {"workspace_id": workspace}),
            ),
            "create-lead": lua(
                "/v1/create-lead",
                "application/json",
                as_json(CREATE_LEAD | {"workspace_id": workspace}),
            ),
            "webhook JSON": lua(f"/v1/webhook/{workspace}", "application/json", as_json(WEBHOOK)),
            "webhook form": lua(
                f"/v1/webhook/{workspace}",
                "application/x-www-form-urlencoded",
                "name=John+Smith&email=john%40example.com&source=website&utm_source=google",
            ),
            **(hooked_scripts if outbound else {}),
            "opt-in new lead": lua(
                "/api/opt-in/submit", "application/json", as_json(OPTIN_NEW), opt_in
            ),
            "opt-in existing lead": lua(
                "/api/opt-in/submit", "application/json", as_json(OPTIN_EXISTING), opt_in
            ),
            "opt-in replay": lua(
                "/api/opt-in/submit", "application/json", as_json(OPTIN_REPLAY), opt_in
            ),
        }
        if args.only:
            scripts = {
                k: v for k, v in scripts.items() if k in (*FLOOR_SIDE, "baseline") or k in args.only
            }
        paths = {}
        for name, script in scripts.items():
            paths[name] = Path(tmp) / (re.sub(r"\W+", "_", name) + ".lua")
            paths[name].write_text(script)

        # gunicorn's error log goes to a file: an unread pipe could fill and stall it.
        server_log = (Path(tmp) / "gunicorn.log").open("w")
        command = (
            [GUNICORN, "-c", "gunicorn.conf.py", "hushmetrics.wsgi:application"]
            if args.front == "none"
            else [PYTHON, "deploy/serve.py"]
        )
        if args.front == "both":
            env["UPSTREAM_BIND"] = f"127.0.0.1:{DIRECT_PORT}"
        fronts = {"direct": DIRECT, "nginx": BASE} if args.front == "both" else {args.front: BASE}
        server = subprocess.Popen(  # noqa: S603
            command,
            cwd=PROJECT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=server_log,
        )
        floor_server = subprocess.Popen(  # noqa: S603
            [GUNICORN, "-c", "gunicorn.conf.py", "bench.floor.wsgi:application"],
            cwd=PROJECT,
            env=floor_env,
            stdout=subprocess.DEVNULL,
            stderr=server_log,
        )
        try:
            wait_healthy()
            wait_healthy(base=FLOOR)
            master = gunicorn_master(server.pid)
            floor_master = floor_server.pid
            proxy = nginx_master(server.pid) if args.front != "none" else None
            # Prime the existing-lead and replay cases so they measure what their names say.
            primer = {k: v for k, v in OPTIN_EXISTING.items() if k != "external_reference"}
            for body in (primer, OPTIN_REPLAY):
                request = urllib.request.Request(  # noqa: S310
                    f"{BASE}/api/opt-in/submit",
                    data=json.dumps(body).encode(),
                    method="POST",
                    headers={"Content-Type": "application/json", "x-api-key": key},
                )
                urllib.request.urlopen(request, timeout=10).read()  # noqa: S310
            # The floor has a server of its own and no front; every other endpoint is measured
            # through each front.
            targets = {name: {"floor": FLOOR} if name in FLOOR_SIDE else fronts for name in paths}
            for name, path in paths.items():
                # A short warm-up so every endpoint is measured with warm workers and pool.
                for url in targets[name].values():
                    subprocess.run(
                        ["wrk", "-t2", "-c4", "-d2s", "-s", str(path), url],
                        capture_output=True,
                        check=True,
                    )
            # Rounds interleave the endpoints (and the fronts), so a busy spell on the machine
            # falls on all of them rather than on one; each one's figures are its median round.
            rounds: dict[tuple[str, str], list[dict[str, float]]] = {
                (front, name): [] for name in paths for front in targets[name]
            }
            for round_number in range(args.rounds):
                for (front, name), measured in rounds.items():
                    path = paths[name]
                    server_master = floor_master if front == "floor" else master
                    cpu_before = workers_cpu_seconds(server_master)
                    proxy_before = workers_cpu_seconds(proxy) if proxy else 0.0
                    output = subprocess.run(
                        [
                            "wrk",
                            "-t2",
                            f"-c{args.connections}",
                            f"-d{args.duration}s",
                            "--latency",
                            "-s",
                            str(path),
                            targets[name][front],
                        ],
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                    figures = parse_wrk(output)
                    cpu = workers_cpu_seconds(server_master) - cpu_before
                    figures["cpu_ms"] = cpu * 1000 / max(1, figures["requests"])
                    # nginx's workers, for requests that went through it.
                    proxy_cpu = (
                        workers_cpu_seconds(proxy) - proxy_before
                        if proxy and front != "floor"
                        else 0.0
                    )
                    figures["proxy_cpu_ms"] = proxy_cpu * 1000 / max(1, figures["requests"])
                    measured.append(figures)
                    print(
                        f"  round {round_number + 1}/{args.rounds} {name}"
                        f"{f' ({front})' if len(fronts) > 1 else ''}: {figures['rps']:.0f} req/s",
                        file=sys.stderr,
                    )
            results = {key: median_round(measured) for key, measured in rounds.items()}
            peak_rss = worker_peak_rss_mb(master)
            delivered = None
            if outbound:
                worker = Worker(Path(tmp), env, args.worker_concurrency, beat=False)
                try:
                    delivered = drain(db_url, hooked, worker, receiver, args.drain_limit)
                    delivered.sent, delivered.latencies = commit_to_receipt(
                        db_url, hooked, receiver, args.latency_requests, args.latency_spacing
                    )
                finally:
                    worker.stop()
        finally:
            for process in (server, floor_server):
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=40)
            server_log.close()
            receiver.stop()

    names = [name for name in paths if name != "floor"]
    topology = {
        "nginx": " behind nginx (make serve)",
        "none": ", no proxy",
        "both": " behind nginx (make serve), each endpoint also straight to gunicorn",
    }[args.front]
    print(
        f"\nLoad benchmark: {args.workers} gunicorn workers × threads from gunicorn.conf.py"
        f"{topology}, wrk -t2 -c{args.connections} -d{args.duration}s per endpoint × "
        f"{args.rounds} interleaved rounds (median round shown), PostgreSQL + Redis"
    )
    if outbound:
        print(
            "(1 webhook): a workspace with one active webhook destination; no worker consumes "
            "during the rounds (in production it runs on machines of its own): the ingest "
            "path's own cost (event + delivery rows + broker publish on commit)"
        )
    failed = []
    for front in fronts:
        if len(fronts) > 1:
            print(f"\n{'through nginx' if front == 'nginx' else 'straight to gunicorn'}:")
        missed = report(
            {
                "floor": results["floor", "floor"],
                **{name: results["floor" if name in FLOOR_SIDE else front, name] for name in names},
            }
        )
        failed += [f"{name} ({front})" for name in missed] if len(fronts) > 1 else missed
    if len(fronts) > 1:
        print("\nnginx ÷ direct, same run (1.00: the proxy costs nothing); nginx's own CPU")
        print(f"{'endpoint':<26}{'req/s':>9}{'× base':>9}{'nginx CPU ms/req':>18}")
        for name in names:
            if name in FLOOR_SIDE:
                continue
            nginx, direct = results["nginx", name], results["direct", name]
            base_nginx = nginx["rps"] / results["nginx", "baseline"]["rps"]
            base_direct = direct["rps"] / results["direct", "baseline"]["rps"]
            print(
                f"{name:<26}{nginx['rps'] / direct['rps']:>9.2f}{base_nginx / base_direct:>9.2f}"
                f"{nginx['proxy_cpu_ms']:>18.2f}"
            )
    print(f"peak worker RSS: {peak_rss:.1f} MB (target < 150 MB)")
    if peak_rss >= 150:
        failed.append("worker RSS")
    if delivered is not None:
        failed += report_outbound(delivered, args, broker_url)
    print("targets met" if not failed else f"targets missed: {', '.join(failed)}")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
