"""A real gunicorn for tests that must cross process boundaries (workers, chunked bodies)."""

import http.client
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def free_port(ports: range) -> int:
    """The first port of `ports` (each suite has its own range) nothing listens on."""
    for port in ports:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


def manage(env: dict[str, str], *args: str) -> str:
    """Run `manage.py <args>` with `env` (say, to migrate a server's own database) and return
    what it printed on stdout, stripped; a failure raises."""
    return subprocess.run(  # noqa: S603
        [sys.executable, str(PROJECT / "manage.py"), *args],
        env=env,
        cwd=PROJECT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@contextmanager
def gunicorn(
    env: dict[str, str], ports: range, *args: str, stdout: Path | None = None
) -> Iterator[int]:
    """Serve hushmetrics with `env` and extra gunicorn `args`; yields the port once it
    answers, and stops the server (killing it if it will not stop) afterwards. The server's
    stdout (where the app logs) is appended to the file `stdout` if given, else dropped."""
    port = free_port(ports)
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "hushmetrics.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        *args,
    ]
    with app_server(command, env, port, stdout=stdout) as answering:
        yield answering


@contextmanager
def app_server(
    command: list[str], env: dict[str, str], port: int, *, stdout: Path | None = None
) -> Iterator[int]:
    """Run `command` (a server of the app listening on `port`) in the project; yields the
    port once the app answers there (its JSON 404 for an unknown API path), and stops the
    server (killing it if it will not stop) afterwards. Its stdout is appended to the file
    `stdout` if given, else dropped; its stderr is shown if it fails to start."""
    sink = stdout.open("ab") if stdout is not None else nullcontext(subprocess.DEVNULL)
    with sink as output, tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(  # noqa: S603
            command, cwd=PROJECT, env=env, stdout=output, stderr=errors
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    connection.request("GET", "/v1/nope")
                    if connection.getresponse().status == 404:
                        break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        errors.seek(0)
                        raise RuntimeError(errors.read().decode()) from None
                    time.sleep(0.2)
            yield port
        finally:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
