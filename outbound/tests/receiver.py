"""A local webhook receiver for the tests: a real HTTP server on a free port, in a thread.

Each path is a behaviour (§9's faults): `/ok`, `/fail-once` (500 then 200), `/fail`,
`/redirect`, `/gone`, `/hang`, `/reset`, `/big` (10 MB back), `/busy` and `/slow-down` (503
and 429 with Retry-After: the `retry_after` query value), `/status` (the `code` query value,
with the `retry_after` one as Retry-After when given, and the `body` one, Latin-1, as body).
Every request received is recorded with its headers and body.
"""

import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

BIG_BYTES = 10 * 1024 * 1024


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    port: int
    requests: list[Received] = field(default_factory=list)
    hang_seconds: float = 30.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    released: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def received(self, path: str | None = None) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if path is None or r.path == path]

    def wait_for(self, count: int, path: str | None = None, timeout: float = 20) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.received(path)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"{len(self.received(path))} requests to {path}, wanted {count}")


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def _answer(self, status: int, body: bytes = b"", **headers: str) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            parts = urlsplit(self.path)
            path = parts.path
            with receiver.lock:
                receiver.requests.append(
                    Received(path=path, headers=dict(self.headers.items()), body=body)
                )
                seen = sum(1 for r in receiver.requests if r.path == path)
            query = parse_qs(parts.query)
            if path == "/ok":
                self._answer(200, b'{"received": true}', Content_Type="application/json")
            elif path == "/fail-once":
                self._answer(500 if seen == 1 else 200, b"first fails")
            elif path == "/fail":
                self._answer(500, b"always fails")
            elif path == "/redirect":
                self._answer(302, Location=receiver.url("/ok"))
            elif path == "/gone":
                self._answer(410, b"this endpoint is gone")
            elif path == "/busy":
                self._answer(503, b"busy", Retry_After=query.get("retry_after", ["120"])[0])
            elif path == "/slow-down":
                self._answer(429, b"slow down", Retry_After=query.get("retry_after", ["120"])[0])
            elif path == "/status":
                extra = {"Retry_After": query["retry_after"][0]} if "retry_after" in query else {}
                raw = parse_qs(parts.query, encoding="latin-1").get("body", [""])[0]
                body = raw.encode("latin-1")
                self._answer(int(query["code"][0]), body, **extra)
            elif path == "/hang":
                receiver.released.wait(receiver.hang_seconds)
                self.close_connection = True
            elif path == "/reset":
                # SO_LINGER 0: close() sends a TCP RST instead of a FIN.
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.close_connection = True
                self.connection.close()
            elif path == "/big":
                self.send_response(200)
                self.send_header("Content-Length", str(BIG_BYTES))
                self.end_headers()
                chunk = b"x" * 65536
                try:
                    for _ in range(BIG_BYTES // len(chunk)):
                        self.wfile.write(chunk)
                except OSError:
                    pass  # the sender stopped reading and closed: as it should
                self.close_connection = True
            else:
                self._answer(404, b"no such behaviour")

    return Handler


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Receiver(port=0)))
    receiver = Receiver(port=server.server_address[1])
    server.RequestHandlerClass = _handler(receiver)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.released.set()
        server.shutdown()
        server.server_close()
