"""Fault injection (`make faults`): outages under load, and nothing acknowledged is lost.

Starts its own PostgreSQL cluster (initdb into a temporary directory) and its own
redis-server, on ports in 19300-19399, so "stop PostgreSQL" and "stop Redis" are real stops of
real servers that nothing else uses. Serves hushmetrics with gunicorn the way `make serve`
does (gunicorn.conf.py, DEBUG off, 2 workers, rate limits raised), drives concurrent load on
the three write endpoints (create-lead; the webhook as JSON with an Idempotency-Key and as a
form; opt-ins with Q&A, some with an external_reference that two clients submit at once and
retry until acknowledged), and injects, one after another, with the load running:

  a. PostgreSQL stopped (fast shutdown) for 5 s, then started again;
  a'. PostgreSQL restarted while the load is paused (its pooled connections all idle);
  b. Redis stopped for 3 s, then started again;
  c. SIGHUP to gunicorn (graceful reload);
  d. SIGTERM to gunicorn (graceful shutdown), then gunicorn started again;
  e. SIGKILL to the delivery worker (its process group: worker and embedded beat) while the
     receiver is slow, so deliveries are in flight, then the worker started again;
  f. the broker (the same redis-server) stopped for 10 s, then started again (empty).

Outbound: the workspace has one webhook destination, a receiver in this process (an HTTP
server thread on loopback that verifies each Standard Webhooks signature, records every
`webhook-id` and answers 200), and one delivery worker runs throughout, as `make worker`
does (`celery -A hushmetrics worker -B --pool threads`, that Redis as the broker), with short
retries and re-rings (OUTBOUND_RETRY_SCHEDULE=1,2,4,8, OUTBOUND_RERING_SECONDS=10,
OUTBOUND_TIMEOUT_SECONDS=5). So scenario a is also "PostgreSQL down under the worker", and b
a short broker outage.

Every response is recorded (status, content type, body, the ids of a 2xx). Checked: every
non-2xx is a JSON 503 (with Retry-After) or 429 in its surface's envelope, never a 500 or
HTML, and no request hangs past the client timeout; without a gunicorn restart, every
endpoint answers 2xx again within 5 s of PostgreSQL's return; the idle restart, Redis down
and SIGHUP cost no request at all; requests in flight at SIGTERM are answered; afterwards,
querying the script's PostgreSQL directly: every id acknowledged with a 2xx is stored
(acknowledged-but-lost = 0), every opt-in has exactly the Q&A that was sent (partial = 0), no
external_reference or webhook Idempotency-Key was stored twice.
Connection errors while gunicorn is down are counted apart (they acknowledge nothing).
Once the load stops and the delivery backlog has drained: every stored lead and opt-in has
its lead.created / optin.created event and every event its stored write (none for a
rolled-back one), every event has a succeeded delivery and its webhook-id reached the
receiver (missing = 0, failed = 0, bad signatures = 0); duplicates are counted, and allowed
only after the first fault. Per scenario (by the event's commit): the delay from commit to
first receipt, how soon after the fault deliveries resumed and the backlog drained.
Exits non-zero if any check fails.

    python bench/faults.py [--outage 5] [--settle 8] [--broker-outage 10] [--log responses.jsonl]

Needs the PostgreSQL server binaries (Debian: /usr/lib/postgresql/*/bin) and redis-server.
Takes about two minutes; everything it starts is stopped and deleted at the end.
"""

import argparse
import contextlib
import http.client
import itertools
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import psycopg

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
from bench.outbound_rig import Receipt, Receiver, Worker, first_receipts  # noqa: E402
from hushmetrics.tests.gunicorn_server import free_port  # noqa: E402

BIN = Path(sys.executable).parent
# Seconds; a request without an answer by then is a hang. While the database is down a
# request waits up to DB_POOL_TIMEOUT (5 s) for a connection, and may first wait as long for
# a worker thread that is itself waiting: up to ~10 s for its 503.
CLIENT_TIMEOUT = 15.0
RECOVERY_LIMIT = 5.0  # seconds after PostgreSQL is back by which every endpoint must answer 2xx
RETRY_PAUSE = 0.2  # a retrying client's pause after a failure
DRAIN = 20.0  # seconds the retrying clients may keep retrying once the load stops

OPTIN_ENDPOINTS = ("opt-in", "opt-in ref")
MUST_BE_ZERO = (
    "acknowledged but lost",
    "partial opt-ins",
    "duplicate opt-ins",
    "duplicate webhook leads",
    "replay mismatches",
)


# --- What the clients send ------------------------------------------------------------------
def answers_for(email: str) -> list[tuple[str, str, int]]:
    """The Q&A an opt-in for `email` carries, in position order: 1-3 items, derived from the
    number in the email alone, so any stored opt-in can be checked against what was sent."""
    number = int(email.split("@")[0].rsplit("-", 1)[1])
    return [(f"Question {i} for {email}", f"Answer {i}", i) for i in range(number % 3 + 1)]


def optin_body(email: str, external_reference: str | None = None) -> dict:
    body = {
        "email": email,
        "first_name": "Fault",
        "last_name": email.split("@")[0],
        "source": "TYPEFORM" if external_reference else "LANDING_PAGE",
        # Sent in reverse: the service stores them in position order.
        "questions_answers": [
            {"question": q, "answer": a, "position": p} for q, a, p in reversed(answers_for(email))
        ],
        "traffic": {"utm_source": "faults", "utm_medium": "bench"},
    }
    if external_reference:
        body["external_reference"] = external_reference
    return body


@dataclass(frozen=True)
class Call:
    endpoint: str
    path: str
    headers: dict[str, str]
    body: bytes
    key: str | None = None  # the idempotency key (external_reference, Idempotency-Key)


def json_call(endpoint: str, path: str, body: dict, key: str | None = None, **headers) -> Call:
    headers = {"Content-Type": "application/json", **headers}
    return Call(endpoint, path, headers, json.dumps(body).encode(), key)


# --- What the clients get -------------------------------------------------------------------
@dataclass
class Result:
    endpoint: str
    started: float
    ended: float
    status: int | None = None  # None: no HTTP answer (see `error`)
    content_type: str = ""
    retry_after: str | None = None
    body: str = ""
    error: str = ""  # "refused" (nothing sent), "reset" (sent, closed unanswered), "timeout"
    key: str | None = None
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def failure_kind(result: Result) -> str:
    """How a non-2xx answer failed: "503" and "429" are the allowed answers (in the surface's
    JSON envelope, a 503 with Retry-After); anything else is "bad"."""
    if result.status not in (503, 429) or not result.content_type.startswith("application/json"):
        return "bad"
    try:
        body = json.loads(result.body)
    except ValueError:
        return "bad"
    if not isinstance(body, dict) or not isinstance(body.get("message"), str):
        return "bad"
    # Surface B (/api/) says "status": "error"; surface A (/v1) only "message".
    if (body.get("status") == "error") != (result.endpoint in OPTIN_ENDPOINTS):
        return "bad"
    if not result.retry_after:
        return "bad"
    return str(result.status)


def acknowledged_ids(endpoint: str, body: dict) -> dict[str, str]:
    if endpoint in OPTIN_ENDPOINTS:
        return {"opt_in": body["data"]["opt_in_id"], "lead": body["data"]["lead_id"]}
    return {"lead": body["id"]}


def post(port: int, call: Call) -> Result:
    """One request on a fresh connection (so a reload never races a kept-alive socket)."""
    result = Result(call.endpoint, time.monotonic(), 0.0, key=call.key)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT)
    try:
        try:
            connection.connect()
        except OSError:
            result.error = "refused"
            return result
        try:
            connection.request(
                "POST", call.path, call.body, {**call.headers, "Connection": "close"}
            )
            response = connection.getresponse()
            raw = response.read()
        except TimeoutError:
            result.error = "timeout"
            return result
        except (OSError, http.client.HTTPException):
            result.error = "reset"
            return result
        result.status = response.status
        result.content_type = response.getheader("Content-Type", "")
        result.retry_after = response.getheader("Retry-After")
        result.body = raw.decode(errors="replace")
        if result.ok:
            result.ids = acknowledged_ids(call.endpoint, json.loads(raw))
        return result
    finally:
        result.ended = time.monotonic()
        connection.close()


class Load:
    """Client threads, a few per endpoint, posting until stopped; every answer recorded."""

    # (what a client sends, whether it retries each submission until acknowledged). The two
    # reference clients draw from one sequence, two draws per reference: each reference is
    # submitted by both at about the same time, and retried by each.
    CLIENTS = [
        ("create_lead", False),
        ("create_lead", False),
        ("webhook_json", True),
        ("webhook_form", False),
        ("optin", False),
        ("optin", False),
        ("optin_reference", True),
        ("optin_reference", True),
    ]

    def __init__(self, port: int, workspace: str, api_key: str) -> None:
        self.port = port
        self.results: list[Result] = []
        self.stopping = threading.Event()
        self.running = threading.Event()
        self.running.set()
        self.lock = threading.Lock()
        self.in_flight = 0
        self.stopped_at = 0.0
        self.numbers = itertools.count(1)
        self.references = itertools.count(0)
        self.optin_headers = {"x-api-key": api_key}
        self.workspace = workspace
        self.threads = [
            threading.Thread(
                target=self._until_acknowledged if retries else self._once,
                args=(getattr(self, kind),),
                daemon=not retries,
            )
            for kind, retries in self.CLIENTS
        ]

    def create_lead(self) -> Call:
        n = next(self.numbers)
        body = {
            "workspace_id": self.workspace,
            "name": f"Lead {n}",
            "email": f"lead-{n}@faults.example",
            "source": "website",
            "value": 100,
            "extra_data": {"n": n},
        }
        return json_call("create-lead", "/v1/create-lead", body)

    def webhook_json(self) -> Call:
        n = next(self.numbers)
        body = {"name": f"Hook {n}", "email": f"hook-{n}@faults.example", "company": "Acme"}
        key = f"hook-{n}"
        path = f"/v1/webhook/{self.workspace}"
        return json_call("webhook JSON", path, body, key, **{"Idempotency-Key": key})

    def webhook_form(self) -> Call:
        n = next(self.numbers)
        body = urlencode({"name": f"Form {n}", "email": f"form-{n}@faults.example", "n": n})
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return Call("webhook form", f"/v1/webhook/{self.workspace}", headers, body.encode())

    def optin(self) -> Call:
        body = optin_body(f"optin-{next(self.numbers)}@faults.example")
        return json_call("opt-in", "/api/opt-in/submit", body, **self.optin_headers)

    def optin_reference(self) -> Call:
        n = next(self.references) // 2
        body = optin_body(f"ref-{n}@faults.example", external_reference=f"ref-{n}")
        return json_call("opt-in ref", "/api/opt-in/submit", body, f"ref-{n}", **self.optin_headers)

    def _post(self, call: Call) -> Result:
        self.running.wait()
        with self.lock:
            self.in_flight += 1
        try:
            result = post(self.port, call)
        finally:
            with self.lock:
                self.in_flight -= 1
        self.results.append(result)
        if not result.ok:
            # Refused connections would otherwise spin; a 503 says Retry-After, but we poll
            # faster than that to time the recovery.
            time.sleep(0.1 if result.error else 0.05)
        return result

    def _once(self, make: Callable[[], Call]) -> None:
        while not self.stopping.is_set():
            self._post(make())

    def _until_acknowledged(self, make: Callable[[], Call]) -> None:
        """A client that retries each submission, unchanged, until it is acknowledged."""
        while not self.stopping.is_set():
            call = make()
            while not self._post(call).ok:
                if self.stopping.is_set() and time.monotonic() > self.stopped_at + DRAIN:
                    return
                time.sleep(RETRY_PAUSE)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def pause(self) -> None:
        """Hold every client before its next request; return once none is in flight."""
        self.running.clear()
        while self.in_flight:
            time.sleep(0.05)

    def resume(self) -> None:
        self.running.set()

    def stop(self) -> None:
        self.stopped_at = time.monotonic()
        self.stopping.set()
        self.running.set()
        for thread in self.threads:
            thread.join(timeout=DRAIN + CLIENT_TIMEOUT + 5)


# --- The servers ----------------------------------------------------------------------------
def run(cmd: list[str], env: dict[str, str] | None = None, as_postgres: bool = False) -> str:
    if as_postgres and os.geteuid() == 0:
        # PostgreSQL refuses to run as root; Debian's server packages create this user.
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    result = subprocess.run(cmd, env=env, cwd=PROJECT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout.strip()


def pg_bindir() -> Path:
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        return Path(pg_ctl).parent
    raise SystemExit("PostgreSQL server binaries not found (set PG_BINDIR)")


class Postgres:
    """A throwaway cluster of our own, trust auth on 127.0.0.1 only."""

    def __init__(self, root: Path, port: int) -> None:
        self.bin = pg_bindir()
        self.data = root / "pgdata"
        self.log = root / "postgres.log"
        self.root = root
        self.port = port
        self.url = f"postgres://postgres@127.0.0.1:{port}/hushmetrics"

    def init(self) -> None:
        initdb = [str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres"]
        run([*initdb, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], None, True)
        settings = {
            "port": self.port,
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.root}'",
            # 2 workers × 4 threads pooled, plus migrate and the final checks.
            "max_connections": 40,
            "shared_buffers": "'32MB'",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    def start(self) -> None:
        pg_ctl = [str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log)]
        run([*pg_ctl, "start", "-w", "-t", "60"], None, True)

    def stop(self, mode: str = "fast") -> None:
        run([str(self.bin / "pg_ctl"), "-D", str(self.data), "stop", "-m", mode, "-w"], None, True)

    def create_database(self) -> None:
        admin = self.url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute("CREATE DATABASE hushmetrics")


class Redis:
    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--dir", str(self.root)],
            stdout=(self.root / "redis.log").open("a"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as probe:
                    probe.sendall(b"PING\r\n")
                    if probe.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


class Gunicorn:
    """`make serve`'s gunicorn: gunicorn.conf.py, settings from the environment."""

    def __init__(self, root: Path, port: int, env: dict[str, str]) -> None:
        self.port = port
        self.env = env
        self.log = root / "gunicorn.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "hushmetrics.wsgi:application"],
            cwd=PROJECT,
            env=self.env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/v1/health")
                if connection.getresponse().status == 200 and len(self.workers()) == int(
                    self.env["WEB_CONCURRENCY"]
                ):
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit("gunicorn did not become healthy")

    @property
    def running(self) -> subprocess.Popen:
        """The process `start` began."""
        if self.process is None:
            raise RuntimeError("gunicorn is not started")
        return self.process

    def workers(self) -> list[int]:
        pid = self.running.pid
        return sorted(int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())

    def signal(self, signum: int) -> None:
        self.running.send_signal(signum)

    def wait(self, timeout: float) -> int:
        return self.running.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- The checks -----------------------------------------------------------------------------
@dataclass
class Scenario:
    name: str
    kind: str  # "steady": every request 2xx; "database": down then back; "shutdown"
    started: float
    fault: str = ""  # what was done, with timings
    back: float | None = None  # when the stopped server was serving again
    checks: dict[str, bool] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def in_scenario(results: Iterable[Result], scenarios: list[Scenario], index: int) -> list[Result]:
    """The requests that ended between this scenario's start and the next one's: a request
    in flight when a fault struck is the fault's."""
    start = scenarios[index].started
    end = scenarios[index + 1].started if index + 1 < len(scenarios) else float("inf")
    return [r for r in results if start <= r.ended < end]


def recovery(results: list[Result], back: float) -> tuple[float | None, float]:
    """(when every endpoint had answered 2xx again, when the last failing request started),
    in seconds after `back`; None if some endpoint never answered 2xx again."""
    first_ok: dict[str, float] = {}
    endpoints = {r.endpoint for r in results}
    for r in results:
        if r.ok and r.ended >= back:
            first_ok[r.endpoint] = min(first_ok.get(r.endpoint, r.ended), r.ended)
    every = max(first_ok.values()) - back if first_ok.keys() == endpoints else None
    failing = [r.started - back for r in results if not r.ok and r.started >= back]
    return every, max(failing, default=0.0)


def tally(results: list[Result]) -> Counter:
    counts: Counter = Counter(requests=len(results))
    for r in results:
        if r.ok:
            counts["2xx"] += 1
        elif r.error:
            counts[r.error] += 1
        else:
            counts[failure_kind(r)] += 1
    return counts


def _count(connection: psycopg.Connection, sql: str, params: list[str] | None = None) -> int:
    """The count a `SELECT count(*)` answers (always one row)."""
    row = connection.execute(sql, params).fetchone()
    if row is None:
        raise RuntimeError(f"no row from {sql!r}")
    return int(row[0])


def verify_database(url: str, workspace: str, results: list[Result]) -> dict[str, int]:
    """What the database holds against what was acknowledged, read from PostgreSQL itself."""
    acknowledged = defaultdict(set)
    replies = defaultdict(set)  # reference → the opt-in ids its 2xx answers named
    for r in results:
        if r.ok:
            for kind, value in r.ids.items():
                acknowledged[kind].add(value)
            if r.endpoint == "opt-in ref":
                replies[r.key].add(r.ids["opt_in"])
    with psycopg.connect(url) as connection:
        leads = {
            str(row[0])
            for row in connection.execute(
                "SELECT id FROM leads_lead WHERE id = ANY(%s::uuid[])", [list(acknowledged["lead"])]
            )
        }
        optins = {
            str(row[0]): row[1:]
            for row in connection.execute(
                """
                SELECT o.id, o.email, o.external_reference,
                       COALESCE(json_agg(json_build_array(q.question, q.answer, q.position)
                                ORDER BY q.position) FILTER (WHERE q.id IS NOT NULL), '[]')
                FROM optin_optin o LEFT JOIN optin_questionanswer q ON q.opt_in_id = o.id
                WHERE o.workspace_id = %s GROUP BY o.id
                """,
                [workspace],
            )
        }
        duplicate_references = _count(
            connection,
            """
            SELECT count(*) FROM (SELECT 1 FROM optin_optin WHERE external_reference IS NOT NULL
                                  GROUP BY workspace_id, source, external_reference
                                  HAVING count(*) > 1) AS d
            """,
        )
        duplicate_deliveries = _count(
            connection,
            """
            SELECT count(*) FROM (SELECT 1 FROM leads_lead WHERE submission_id IS NOT NULL
                                  GROUP BY workspace_id, submission_id HAVING count(*) > 1) AS d
            """,
        )
        stored_leads = _count(
            connection, "SELECT count(*) FROM leads_lead WHERE workspace_id = %s", [workspace]
        )
    partial = sum(
        1
        for email, _reference, stored in optins.values()
        if [tuple(item) for item in stored] != answers_for(email)
    )
    by_reference = {reference: oid for oid, (_e, reference, _q) in optins.items() if reference}
    return {
        "acknowledged leads": len(acknowledged["lead"]),
        "acknowledged opt-ins": len(acknowledged["opt_in"]),
        "acknowledged but lost": len(acknowledged["lead"] - leads)
        + len(acknowledged["opt_in"] - optins.keys()),
        "stored leads": stored_leads,
        "stored opt-ins": len(optins),
        "partial opt-ins": partial,
        "references acknowledged": len(replies),
        "duplicate opt-ins": duplicate_references,
        "duplicate webhook leads": duplicate_deliveries,
        # Every 2xx for one reference named the same opt-in, and it is the stored one.
        "replay mismatches": sum(
            1 for ref, ids in replies.items() if len(ids) != 1 or by_reference.get(ref) not in ids
        ),
    }


# --- The outbound checks --------------------------------------------------------------------
@dataclass(frozen=True)
class EventRow:
    """An outbound Event of the workspace, with its deliveries' outcome."""

    id: str
    type: str
    subject: str  # the id of the lead (lead.created) or of the opt-in (optin.created)
    created: float  # monotonic
    succeeded: bool = False  # a delivery of it succeeded
    failed: bool = False  # a delivery of it failed for good
    attempts: int = 0  # the most attempts one of its deliveries took


def repeats(receipts: Iterable[Receipt]) -> list[Receipt]:
    """The receipts of a webhook-id already received before: the duplicates."""
    seen: set[str] = set()
    found = []
    for receipt in sorted(receipts, key=lambda r: r.at):
        if receipt.webhook_id in seen:
            found.append(receipt)
        seen.add(receipt.webhook_id)
    return found


def check_outbound(
    events: list[EventRow],
    leads: set[str],
    optins: set[str],
    receipts: list[Receipt],
    first_fault: float,
) -> dict[str, int]:
    """Every committed write has its event, every event its write (none for a rolled-back
    one), and every event was delivered at least once: a succeeded delivery and its
    webhook-id seen by the receiver. Duplicates are a figure, allowed only after a fault."""
    first = first_receipts(receipts)
    written = {"lead.created": leads, "optin.created": optins}
    subjects = defaultdict(set)
    for event in events:
        subjects[event.type].add(event.subject)
    duplicates = repeats(receipts)
    return {
        "events": len(events),
        "events delivered": sum(1 for e in events if e.succeeded and e.id in first),
        "events missing": sum(1 for e in events if not (e.succeeded and e.id in first)),
        "deliveries failed": sum(1 for e in events if e.failed),
        "events retried": sum(1 for e in events if e.attempts > 1),
        "events without their write": sum(
            1 for e in events if e.subject not in written.get(e.type, set())
        ),
        "writes without their event": len(leads - subjects["lead.created"])
        + len(optins - subjects["optin.created"]),
        "unknown webhook-ids": len(first.keys() - {e.id for e in events}),
        "bad signatures": sum(1 for r in receipts if not r.signed),
        "duplicate receipts": len(duplicates),
        "duplicates before a fault": sum(1 for r in duplicates if r.at < first_fault),
    }


def outbound_in_scenario(
    events: list[EventRow], receipts: list[Receipt], scenarios: list[Scenario], index: int
) -> dict[str, float | int | None]:
    """The events committed during one scenario: how many, how many delivered, the delay
    from commit to first receipt, the duplicates received meanwhile; and, for a fault
    scenario, how long after the fault ended the receiver got a request again (deliveries
    resumed) and every event committed before then had been received (the backlog drained;
    None if some never was)."""
    scenario = scenarios[index]
    start = scenario.started
    end = scenarios[index + 1].started if index + 1 < len(scenarios) else float("inf")
    first = first_receipts(receipts)
    mine = [e for e in events if start <= e.created < end]
    delays = sorted(first[e.id] - e.created for e in mine if e.id in first)
    figures: dict[str, float | int | None] = {
        "events": len(mine),
        "delivered": sum(1 for e in mine if e.succeeded and e.id in first),
        "retried": sum(1 for e in mine if e.attempts > 1),
        "duplicates": sum(1 for r in repeats(receipts) if start <= r.at < end),
        "p50 s": delays[len(delays) // 2] if delays else None,
        "max s": delays[-1] if delays else None,
        "resumed s": None,
        "drained s": None,
    }
    if scenario.back is not None:
        back = scenario.back
        figures["resumed s"] = min((r.at for r in receipts if r.at >= back), default=None)
        if figures["resumed s"] is not None:
            figures["resumed s"] -= back
        before = [e.id for e in events if e.created < back]
        if all(event_id in first for event_id in before):
            figures["drained s"] = max([back, *(first[i] for i in before)]) - back
    return figures


def read_outbound(url: str, workspace: str) -> tuple[list[EventRow], set[str], set[str]]:
    """The workspace's events (with their deliveries' outcome), lead ids and opt-in ids,
    read from PostgreSQL itself."""
    offset = time.time() - time.monotonic()
    with psycopg.connect(url) as connection:
        events = [
            EventRow(str(row[0]), row[1], row[2] or "", float(row[3]) - offset, *row[4:])
            for row in connection.execute(
                """
                SELECT e.id, e.type,
                       CASE WHEN e.type = 'optin.created' THEN e.payload -> 'opt_in' ->> 'id'
                            ELSE e.payload -> 'lead' ->> 'id' END,
                       extract(epoch FROM e.created_at),
                       COALESCE(bool_or(d.state = 'succeeded'), false),
                       COALESCE(bool_or(d.state = 'failed'), false),
                       COALESCE(max(d.attempts), 0)
                FROM outbound_event e LEFT JOIN outbound_delivery d ON d.event_id = e.id
                WHERE e.workspace_id = %s GROUP BY e.id
                """,
                [workspace],
            )
        ]
        leads = {
            str(row[0])
            for row in connection.execute(
                "SELECT id FROM leads_lead WHERE workspace_id = %s", [workspace]
            )
        }
        optins = {
            str(row[0])
            for row in connection.execute(
                "SELECT id FROM optin_optin WHERE workspace_id = %s", [workspace]
            )
        }
    return events, leads, optins


def wait_drained(url: str, workspace: str, receiver: Receiver, limit: float) -> bool:
    """Wait until no delivery is pending and the receiver has seen every event's id."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with contextlib.suppress(psycopg.OperationalError), psycopg.connect(url) as connection:
            pending = _count(
                connection, "SELECT count(*) FROM outbound_delivery WHERE state = 'pending'"
            )
            ids = {
                str(row[0])
                for row in connection.execute(
                    "SELECT id FROM outbound_event WHERE workspace_id = %s", [workspace]
                )
            }
            if not pending and ids <= receiver.seen():
                return True
        time.sleep(1)
    return False


# --- The run --------------------------------------------------------------------------------
def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outage", type=float, default=5.0, help="seconds PostgreSQL is down")
    parser.add_argument("--redis-outage", type=float, default=3.0)
    parser.add_argument("--settle", type=float, default=8.0, help="seconds of load after each")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--broker-outage", type=float, default=10.0)
    parser.add_argument("--worker-concurrency", type=int, default=8)
    parser.add_argument(
        "--drain-limit", type=float, default=300.0, help="seconds the backlog may take to drain"
    )
    parser.add_argument("--log", type=Path, help="write every response here (JSON lines)")
    parser.add_argument("--keep", action="store_true", help="keep the servers' directory")
    args = parser.parse_args()
    if not shutil.which("redis-server"):
        raise SystemExit("redis-server not found (Debian: apt-get install redis-server)")

    root = Path(tempfile.mkdtemp(prefix="hm-faults-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    postgres = Postgres(root, free_port(range(19300, 19320)))
    redis = Redis(root, free_port(range(19320, 19340)))
    port = free_port(range(19340, 19360))
    receiver = Receiver(free_port(range(19360, 19380)))
    env = {
        **os.environ,
        "DATABASE_URL": postgres.url,
        "REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "0",
        "RATE_LIMIT_OPTIN": "1000000/m",
        "RATE_LIMIT_CREATE_LEAD": "1000000/m",
        "RATE_LIMIT_WEBHOOK": "1000000/m",
        "RATE_LIMIT_WEBHOOK_WORKSPACE": "1000000/m",
        "RATE_LIMIT_AUTH_FAILURES": "1000000/m",
        "WEB_CONCURRENCY": str(args.workers),
        "GUNICORN_THREADS": "4",
        "BIND": f"127.0.0.1:{port}",
        "LOG_LEVEL": "warning",
        # No worker recycling mid-run: the PostgreSQL scenario checks the workers survive.
        "GUNICORN_MAX_REQUESTS": "1000000",
        # Outbound: the broker on the same redis-server (its own db), the beat schedule in
        # our directory, the receiver on loopback, and short retries and re-rings so the
        # run stays short (the lease of a claimed delivery is the timeout + 30 s).
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis.port}/1",
        "CELERY_BROKER_DIR": str(root / "celery"),
        "OUTBOUND_ALLOW_PRIVATE_NETWORKS": "1",
        "OUTBOUND_RETRY_SCHEDULE": "1,2,4,8",
        "OUTBOUND_TIMEOUT_SECONDS": "5",
        "OUTBOUND_RERING_SECONDS": "10",
    }
    gunicorn = Gunicorn(root, port, env)
    worker = Worker(root, env, args.worker_concurrency)
    load = None
    try:
        say(
            f"servers in {root}: PostgreSQL :{postgres.port}, Redis :{redis.port}, "
            f"web :{port}, receiver :{receiver.port}"
        )
        postgres.init()
        postgres.start()
        postgres.create_database()
        redis.start()
        python = str(BIN / "python")
        run([python, "manage.py", "migrate", "--noinput", "-v0"], env)
        workspace = run([python, "manage.py", "create_workspace", "Faults"], env)
        key = run(
            [python, "manage.py", "issue_api_key", "--workspace", workspace, "--name", "f"], env
        )
        receiver.start()
        destination = [python, "manage.py", "create_destination", "--workspace", workspace]
        destination += ["--kind", "webhook", "--url", receiver.url, "--include-spam"]
        created = run(destination, env)
        receiver.secret = created.splitlines()[1]
        worker.start()
        gunicorn.start()

        load = Load(port, workspace, key)
        scenarios = [Scenario("baseline", "steady", time.monotonic())]
        load.start()
        time.sleep(args.settle / 2)

        say(f"a. stopping PostgreSQL for {args.outage:g} s")
        pids = (gunicorn.running.pid, gunicorn.workers())
        scenario = Scenario("a. PostgreSQL down", "database", time.monotonic())
        scenarios.append(scenario)
        postgres.stop("fast")
        stopped = time.monotonic()
        time.sleep(args.outage)
        postgres.start()
        scenario.back = time.monotonic()
        scenario.fault = f"fast shutdown, down {scenario.back - stopped:.1f} s, then started"
        time.sleep(args.settle)
        scenario.checks["same gunicorn and workers"] = pids == (
            gunicorn.running.pid,
            gunicorn.workers(),
        )

        # A restart in a quiet moment (a maintenance window): every pooled connection is idle
        # when the server kills it, so none is discarded by a failing request meanwhile.
        say("a'. restarting PostgreSQL while no request is in flight")
        scenario = Scenario("a'. PostgreSQL idle restart", "steady", time.monotonic())
        scenarios.append(scenario)
        load.pause()
        postgres.stop("fast")
        postgres.start()
        load.resume()
        scenario.back = time.monotonic()
        scenario.fault = f"load paused, restarted in {scenario.back - scenario.started:.1f} s"
        time.sleep(args.settle / 2)

        say(f"b. stopping Redis for {args.redis_outage:g} s")
        scenario = Scenario("b. Redis down", "steady", time.monotonic())
        scenarios.append(scenario)
        redis.stop()
        stopped = time.monotonic()
        time.sleep(args.redis_outage)
        redis.start()
        scenario.back = time.monotonic()
        scenario.fault = f"stopped, down {scenario.back - stopped:.1f} s, then started"
        time.sleep(args.settle / 2)

        say("c. SIGHUP to gunicorn")
        old_workers = gunicorn.workers()
        scenario = Scenario("c. gunicorn SIGHUP", "steady", time.monotonic())
        scenarios.append(scenario)
        gunicorn.signal(signal.SIGHUP)
        time.sleep(args.settle)
        new_workers = gunicorn.workers()
        scenario.fault = f"graceful reload: {len(old_workers)} workers replaced by new ones"
        scenario.checks["workers replaced"] = not set(old_workers) & set(new_workers)

        say("d. SIGTERM to gunicorn, then start it again")
        scenario = Scenario("d. gunicorn SIGTERM", "shutdown", time.monotonic())
        scenarios.append(scenario)
        gunicorn.signal(signal.SIGTERM)
        code = gunicorn.wait(timeout=60)
        exited = time.monotonic()
        gunicorn.start()
        scenario.back = time.monotonic()
        scenario.fault = (
            f"graceful shutdown, exit {code} after {exited - scenario.started:.1f} s; "
            f"started again, serving {scenario.back - exited:.1f} s later"
        )
        scenario.checks["gunicorn exited 0"] = code == 0
        time.sleep(args.settle / 2)

        say("e. SIGKILL to the delivery worker mid-delivery, then start it again")
        scenario = Scenario("e. worker SIGKILL", "steady", time.monotonic())
        scenarios.append(scenario)
        receiver.slow_seconds = 2.0
        receiver.slow_until = time.monotonic() + 10
        deadline = time.monotonic() + 8
        while receiver.in_flight < args.worker_concurrency and time.monotonic() < deadline:
            time.sleep(0.02)
        in_flight = receiver.in_flight
        killed = worker.kill()
        receiver.slow_until = 0.0
        dead = time.monotonic()
        worker.start()
        scenario.back = time.monotonic()
        scenario.fault = (
            f"receiver slowed to 2 s a request; SIGKILL to {len(killed)} processes (worker and "
            f"beat) with {in_flight} deliveries in flight; started again, ready "
            f"{scenario.back - dead:.1f} s later"
        )
        scenario.checks["deliveries in flight at the kill"] = in_flight > 0
        time.sleep(args.settle)

        say(f"f. stopping the broker (redis-server) for {args.broker_outage:g} s")
        scenario = Scenario("f. broker down", "steady", time.monotonic())
        scenarios.append(scenario)
        redis.stop()
        stopped = time.monotonic()
        time.sleep(args.broker_outage)
        redis.start()
        scenario.back = time.monotonic()
        scenario.fault = (
            f"stopped, down {scenario.back - stopped:.1f} s (its queue lost: no persistence), "
            "then started"
        )
        time.sleep(args.settle)
        say("stopping the load (retrying clients finish their submissions)")
        load.stop()
        results = sorted(load.results, key=lambda r: r.started)
        data = verify_database(postgres.url, workspace, results)
        say("waiting for the delivery backlog to drain")
        drained = wait_drained(postgres.url, workspace, receiver, args.drain_limit)
        outbound = read_outbound(postgres.url, workspace)
        with psycopg.connect(postgres.url) as connection:
            # Context for "no event for a rolled-back write": how many transactions the
            # database rolled back (the outage's aborted ones, the reference races' losers).
            rollbacks = _count(
                connection,
                "SELECT xact_rollback FROM pg_stat_database WHERE datname = current_database()",
            )
        receipts = list(receiver.receipts)
        # The worker is only ever stopped by us: one that exited stopped delivering.
        worker_exit = worker.running.poll()
    finally:
        if load is not None and not load.stopping.is_set():
            load.stop()
        worker.stop()
        receiver.stop()
        gunicorn.stop()
        redis.stop()
        if postgres.data.exists():
            with contextlib.suppress(SystemExit):  # not running: nothing to stop
                postgres.stop("fast")
        if args.keep:
            say(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)

    failed = report(args, scenarios, results, data)
    failed += report_outbound(args, scenarios, outbound, receipts, drained, load.stopped_at)
    print(f"  {'transactions rolled back':<26}{rollbacks:>7}  (PostgreSQL's count, all causes)")
    if worker_exit is not None:
        print(f"the delivery worker exited on its own (status {worker_exit}): see worker.log")
        failed.append("the delivery worker exited")
    print("all checks passed" if not failed else "FAILED: " + "; ".join(failed))
    return 0 if not failed else 1


def report(
    args, scenarios: list[Scenario], results: list[Result], data: dict[str, int]
) -> list[str]:
    if args.log:
        with args.log.open("w") as log:
            origin = scenarios[0].started
            for r in results:
                line = asdict(r) | {"started": r.started - origin, "ended": r.ended - origin}
                log.write(json.dumps(line) + "\n")

    columns = ["requests", "2xx", "503", "429", "bad", "timeout", "refused", "reset"]
    slowest = "max s"
    print(f"\nFault injection: {args.workers} gunicorn workers × 4 threads, PostgreSQL + Redis,")
    print(f"{len(Load.CLIENTS)} client threads, client timeout {CLIENT_TIMEOUT:g} s")
    print(f"{'scenario':<29}" + "".join(f"{c:>8}" for c in [*columns, slowest]) + "  result")
    totals: Counter = Counter()
    failed = []
    for index, scenario in enumerate(scenarios):
        mine = in_scenario(results, scenarios, index)
        counts = tally(mine)
        totals.update(counts)
        checks = scenario.checks
        checks["failures are JSON 503/429"] = counts["bad"] == 0
        checks["no hang"] = counts["timeout"] == 0
        if scenario.kind == "steady":
            checks["every request 2xx"] = counts["2xx"] == counts["requests"]
        if scenario.kind == "database":
            checks["no connection error"] = counts["refused"] + counts["reset"] == 0
            back = scenario.back
            if back is None:
                raise RuntimeError(f"{scenario.name}: never marked as back")
            every, last_failure = recovery(mine, back)
            checks[f"2xx again within {RECOVERY_LIMIT:g} s"] = (
                every is not None and every <= RECOVERY_LIMIT and last_failure <= RECOVERY_LIMIT
            )
            shown = "never" if every is None else f"{every:.2f} s"
            late = sum(1 for r in mine if not r.ok and r.started >= back)
            scenario.notes.append(
                f"every endpoint answered 2xx again {shown} after PostgreSQL was back; "
                + (
                    f"{late} requests started later failed, the last {last_failure:.2f} s after"
                    if late
                    else "no request started after its return failed"
                )
            )
        if scenario.kind == "shutdown":
            # In flight when the signal came: answered. Connections made after it are refused,
            # or reset when the workers close the socket they had stopped accepting on.
            unanswered = [r for r in mine if r.started < scenario.started and r.status is None]
            checks["in-flight requests answered"] = not unanswered
            scenario.notes.append(
                f"{sum(r.started < scenario.started for r in mine)} requests in flight at the "
                f"signal, {len(unanswered)} unanswered; {counts['refused'] + counts['reset']} "
                "connection errors while it was down"
            )
        verdict = "ok" if all(checks.values()) else "FAIL"
        failed += [f"{scenario.name}: {name}" for name, passed in checks.items() if not passed]
        longest = max((r.ended - r.started for r in mine), default=0.0)
        figures = "".join(f"{counts[c]:>8}" for c in columns) + f"{longest:>8.1f}"
        print(f"{scenario.name:<29}{figures}  {verdict}")
    print(f"{'total':<29}" + "".join(f"{totals[c]:>8}" for c in columns))
    for scenario in scenarios[1:]:
        print(f"  {scenario.name}: {scenario.fault}")
        for note in scenario.notes:
            print(f"    {note}")
    print("data, read from PostgreSQL afterwards:")
    for name, value in data.items():
        print(f"  {name:<26}{value:>7}")
    for name in MUST_BE_ZERO:
        if data[name]:
            failed.append(name)
    return failed


OUTBOUND_MUST_BE_ZERO = (
    "events missing",
    "deliveries failed",
    "events without their write",
    "writes without their event",
    "unknown webhook-ids",
    "bad signatures",
    "duplicates before a fault",
)


def report_outbound(
    args,
    scenarios: list[Scenario],
    outbound: tuple[list[EventRow], set[str], set[str]],
    receipts: list[Receipt],
    drained: bool,
    load_stopped: float,
) -> list[str]:
    """The deliveries per scenario (by the event's commit) and the checks over them all."""
    events, leads, optins = outbound
    faults = [s.started for s in scenarios if s.kind != "steady" or s.back is not None]
    data = check_outbound(events, leads, optins, receipts, min(faults, default=float("inf")))
    failed = [name for name in OUTBOUND_MUST_BE_ZERO if data[name]]
    if not drained:
        failed.append(f"backlog not drained within {args.drain_limit:g} s")
    columns = ["events", "delivered", "retried", "duplicates", "p50 s", "max s"]
    columns += ["resumed s", "drained s"]
    print(
        f"\nOutbound deliveries: 1 webhook destination (a local receiver), 1 worker "
        f"(threads × {args.worker_concurrency}, beat embedded), Redis broker"
    )
    print(f"{'scenario':<29}" + "".join(f"{c:>11}" for c in columns) + "  result")
    for index, scenario in enumerate(scenarios):
        figures = outbound_in_scenario(events, receipts, scenarios, index)
        checks = {"every event delivered": figures["delivered"] == figures["events"]}
        if index == 0:
            checks["no duplicate"] = figures["duplicates"] == 0
        if scenario.back is not None:
            checks["backlog drained"] = figures["drained s"] is not None
        failed += [f"{scenario.name}: {name}" for name, ok in checks.items() if not ok]
        shown = "".join(
            f"{'-' if value is None else value:>11}"
            if not isinstance(value, float)
            else f"{value:>11.2f}"
            for value in (figures[c] for c in columns)
        )
        print(f"{scenario.name:<29}{shown}  {'ok' if all(checks.values()) else 'FAIL'}")
    first = first_receipts(receipts)
    last_fault = max((s.back for s in scenarios if s.back is not None), default=None)
    if first and last_fault is not None:
        last = max(first.values())
        print(
            f"  backlog drained {last - last_fault:.1f} s after the last fault ended, "
            f"{last - load_stopped:.1f} s after the load stopped"
        )
    print("outbound, read from PostgreSQL and the receiver afterwards:")
    for name, value in data.items():
        print(f"  {name:<26}{value:>7}")
    print(f"  {'receipts':<26}{len(receipts):>7}")
    return failed


if __name__ == "__main__":
    sys.exit(main())
