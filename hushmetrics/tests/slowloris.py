"""Slowloris clients and a health probe: what a public endpoint must survive.

`attack` opens connections that trickle a request as slowly as a server will wait for it —
half send one header line at a time and never finish the headers, half send complete headers
and then dribble the body — while `probe` times `GET /v1/health` on fresh connections.
Used by the test of `make serve`'s topology and runnable against any server for figures:

    .venv/bin/python -m hushmetrics.tests.slowloris 127.0.0.1 8000 [--connections 200]
"""

import argparse
import http.client
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class ProbeResult:
    """Health probe timings taken while the attack ran (None: no answer within the timeout)."""

    seconds: list[float | None] = field(default_factory=list)

    @property
    def worst(self) -> float:
        return max((s if s is not None else float("inf")) for s in self.seconds)

    @property
    def failures(self) -> int:
        return sum(1 for s in self.seconds if s is None)


@dataclass
class SlowClient:
    """One slow connection: how it trickles, and when (if) the server hung up on it."""

    mode: str  # "headers": one header line at a time; "body": full headers, then the body
    connected: bool = False
    closed_after: float | None = None  # seconds from connecting to the server's hang-up


def _trickle(host: str, port: int, client: SlowClient, stop: threading.Event, interval: float):
    try:
        sock = socket.create_connection((host, port), timeout=5)
    except OSError:
        return
    client.connected = True
    started = time.monotonic()
    with sock:
        try:
            if client.mode == "headers":
                sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\n")
            else:
                sock.sendall(
                    b"POST /v1/create-lead HTTP/1.1\r\nHost: localhost\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n{"
                )
            line = 0
            while not stop.is_set():
                # Readable means the server answered (a 408) or hung up: either way, cut off.
                if select.select([sock], [], [], interval)[0]:
                    break
                line += 1
                sock.sendall(b" " if client.mode == "body" else f"X-Slow-{line}: 1\r\n".encode())
            else:
                return
        except OSError:
            pass
        client.closed_after = time.monotonic() - started


@contextmanager
def attack(
    host: str, port: int, connections: int = 200, interval: float = 2.0
) -> Iterator[list[SlowClient]]:
    """Hold `connections` slow clients (half header trickle, half body trickle) open."""
    stop = threading.Event()
    clients = [SlowClient("headers" if i % 2 == 0 else "body") for i in range(connections)]
    threads = [
        threading.Thread(target=_trickle, args=(host, port, client, stop, interval), daemon=True)
        for client in clients
    ]
    for thread in threads:
        thread.start()
    try:
        yield clients
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)


def probe(host: str, port: int, seconds: float, every: float = 0.25) -> ProbeResult:
    """Time `GET /v1/health` on a fresh connection every `every` s for `seconds` s."""
    result = ProbeResult()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            connection = http.client.HTTPConnection(host, port, timeout=5)
            connection.request("GET", "/v1/health")
            response = connection.getresponse()
            response.read()
            connection.close()
            result.seconds.append(time.monotonic() - started if response.status == 200 else None)
        except OSError:
            result.seconds.append(None)
        time.sleep(max(0.0, every - (time.monotonic() - started)))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    with attack(args.host, args.port, args.connections):
        time.sleep(1)  # let every slow client connect and start
        result = probe(args.host, args.port, args.seconds)
    answered = [s for s in result.seconds if s is not None]
    print(
        f"{args.connections} slow clients, {len(result.seconds)} health probes: "
        f"{result.failures} failed (no 200 within 5 s), "
        f"slowest answered {max(answered, default=float('nan')):.3f} s"
    )


if __name__ == "__main__":
    main()
