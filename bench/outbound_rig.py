"""The outbound side of the benches: a webhook receiver and a delivery worker.

`bench/faults.py` and `bench/load_bench.py` both run them: the receiver is an HTTP server
thread on loopback that records every `webhook-id` it gets (when, and whether its Standard
Webhooks signature verified); the worker is `make worker`'s `celery -A hushmetrics worker
--pool threads`, in a process group of its own.
"""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

PROJECT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Receipt:
    """One webhook request the receiver got."""

    webhook_id: str
    at: float  # monotonic
    signed: bool  # its signature verified with the destination's secret


def first_receipts(receipts: Iterable[Receipt]) -> dict[str, float]:
    """When each webhook-id was first received."""
    first: dict[str, float] = {}
    for receipt in receipts:
        first[receipt.webhook_id] = min(first.get(receipt.webhook_id, receipt.at), receipt.at)
    return first


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A sender killed mid-request (faults.py's scenario e) is expected: no traceback."""


class Receiver:
    """The webhook destination: an HTTP server thread on a loopback port that records every
    `webhook-id` it gets (when, and whether its Standard Webhooks signature verified) and
    answers `status` (200) with no body; `slow` makes it hold each request for a while first.
    Port 0: a free one (then `port` says which)."""

    def __init__(self, port: int = 0, status: int = 200) -> None:
        self.status = status
        self.secret = ""
        self.receipts: list[Receipt] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.slow_until = 0.0  # monotonic; until then every request waits `slow_seconds`
        self.slow_seconds = 0.0
        self.server = QuietServer(("127.0.0.1", port), self._handler())
        self.port = self.server.server_address[1]
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                with receiver.lock:
                    receiver.in_flight += 1
                try:
                    body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                    receiver.record(dict(self.headers.items()), body)
                    if time.monotonic() < receiver.slow_until:
                        time.sleep(receiver.slow_seconds)
                    self.send_response(receiver.status)
                    if receiver.status != 204:  # a 204 has no body, so no length either
                        self.send_header("Content-Length", "0")
                    self.end_headers()
                finally:
                    with receiver.lock:
                        receiver.in_flight -= 1

        return Handler

    def record(self, headers: dict[str, str], body: bytes) -> None:
        lowered = {name.lower(): value for name, value in headers.items()}
        try:
            Webhook(self.secret).verify(body, lowered)
            signed = True
        except WebhookVerificationError:
            signed = False
        receipt = Receipt(lowered.get("webhook-id", ""), time.monotonic(), signed)
        with self.lock:
            self.receipts.append(receipt)

    def seen(self) -> set[str]:
        with self.lock:
            return {receipt.webhook_id for receipt in self.receipts}

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        if self.thread.is_alive():  # shutdown() waits for serve_forever, so only if it runs
            self.server.shutdown()
        self.server.server_close()


class Worker:
    """`make worker`'s delivery worker: `celery -A hushmetrics worker -B --pool threads`,
    in a process group of its own (the embedded beat is a child process), so a SIGKILL
    kills the worker and its beat together, as the OOM killer or a lost machine would.
    `beat=False`: the worker alone, as every further worker runs."""

    def __init__(
        self, root: Path, env: dict[str, str], concurrency: int, *, beat: bool = True
    ) -> None:
        self.env = env
        self.concurrency = concurrency
        self.beat = beat
        self.log = root / "worker.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        offset = self.log.stat().st_size if self.log.exists() else 0
        self.process = subprocess.Popen(
            [str(BIN / "celery"), "-A", "hushmetrics", "worker", "--pool", "threads"]
            + (["-B"] if self.beat else [])
            + ["--concurrency", str(self.concurrency), "--loglevel", "INFO"],
            cwd=PROJECT,
            env=self.env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the worker exited:\n{self.log.read_text()[-3000:]}")
            with self.log.open("rb") as log:
                log.seek(offset)
                if b" ready." in log.read():
                    return
            time.sleep(0.1)
        raise SystemExit("the worker did not become ready")

    @property
    def running(self) -> subprocess.Popen:
        """The process `start` began."""
        if self.process is None:
            raise RuntimeError("the worker is not started")
        return self.process

    def pids(self) -> list[int]:
        """The worker's process group: the worker and its embedded beat."""
        if self.process is None:
            return []
        group = self.process.pid
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == group and fields[0] != "Z":
                    found.append(int(stat.parent.name))
        return sorted(found)

    def kill(self) -> list[int]:
        """SIGKILL to every process of the group; the pids killed."""
        pids = self.pids()
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        return pids

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # the beat child, if it lingers
        self.process.wait()
