"""The key's secrecy and the quotas through a real gunicorn, logging at DEBUG: nothing in the
access log, the error log or the app's own log ever holds a key; a wrong secret and an
unknown prefix answer the same bytes; a forged X-Forwarded-For gets past gunicorn unchanged
and still resets nothing.
"""

import base64
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hushmetrics.tests.gunicorn_server import PROJECT, gunicorn

PORTS = range(19400, 19450)
SECRET_START = len("sk_live_") + 8  # the secret follows `sk_live_` and the 8-character prefix
WEBHOOK_LIMIT = 3


@dataclass
class Server:
    port: int
    env: dict[str, str]
    workspace: str
    probe_workspace: str
    quiet_workspace: str
    key: str
    probe_key: str
    logs: dict[str, Path]

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603
            [sys.executable, str(PROJECT / "manage.py"), *args],
            env=self.env,
            cwd=PROJECT,
            check=True,
            capture_output=True,
            text=True,
        )

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict | None = None
    ) -> tuple[int, bytes, bytes]:
        """(status, head, body) of one request, exactly the bytes the server sent."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        lines.append(f"Content-Length: {len(body)}")
        with socket.create_connection(("127.0.0.1", self.port), timeout=20) as sock:
            sock.sendall("\r\n".join(lines).encode() + b"\r\n\r\n" + body)
            answer = b"".join(iter(lambda: sock.recv(65536), b""))
        head, _, content = answer.partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1]), head, content

    def post_json(self, path: str, body: dict, **headers: str) -> tuple[int, bytes, bytes]:
        data = json.dumps(body).encode()
        return self.request("POST", path, data, {"Content-Type": "application/json", **headers})


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    """gunicorn (one worker, the repository's gunicorn.conf.py) on its own SQLite file, every
    logger at DEBUG; the access log, error log and the app's stdout each go to a file."""
    tmp = tmp_path_factory.mktemp("security")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp / 'security.sqlite3'}",
        "LOG_LEVEL": "DEBUG",
        "RATE_LIMIT_WEBHOOK": f"{WEBHOOK_LIMIT}/h",
    }
    logs = {name: tmp / f"{name}.log" for name in ("access", "error", "app", "commands")}
    setup = Server(0, env, "", "", "", "", "", logs)
    setup.manage("migrate", "-v0")
    setup.workspace = setup.manage("create_workspace", "Security").stdout.strip()
    setup.probe_workspace = setup.manage("create_workspace", "Probe").stdout.strip()
    setup.quiet_workspace = setup.manage("create_workspace", "Quotas").stdout.strip()
    issued = [
        setup.manage("issue_api_key", "--workspace", setup.workspace, "--name", name)
        for name in ("main", "probe")
    ]
    setup.key, setup.probe_key = (result.stdout.strip() for result in issued)
    # The key on issue_api_key's stdout is the one place it is shown; stderr never has it.
    logs["commands"].write_text("".join(result.stderr for result in issued))
    log_files = ["--access-logfile", str(logs["access"]), "--error-logfile", str(logs["error"])]
    with gunicorn(env, PORTS, "--workers", "1", *log_files, stdout=logs["app"]) as port:
        setup.port = port
        yield setup


def wrong_secret(key: str) -> str:
    return key[:-1] + ("A" if key[-1] != "A" else "B")


def test_no_key_ever_reaches_a_log_or_a_later_response(server):
    key, bad = server.key, wrong_secret(server.key)
    basic = base64.b64encode(f"{key}:".encode()).decode()
    submit = {"email": "jane@example.com", "first_name": "Jane", "source": "TYPEFORM"}
    lead = {"workspace_id": server.workspace, "name": "Ana"}
    webhook = f"/v1/webhook/{server.workspace}"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    answers = [
        server.post_json("/api/opt-in/submit", submit, **{"x-api-key": key}),
        server.post_json("/api/opt-in/submit", submit, Authorization=f"Bearer {key}"),
        server.post_json("/api/opt-in/submit", submit, **{"x-api-key": bad}),
        # Stripe-style `curl -u sk_live_…:` is not how keys are sent here (a 401), but the key
        # in it is real: gunicorn's default access log decodes Basic credentials (%(u)s).
        server.post_json("/api/opt-in/submit", submit, Authorization=f"Basic {basic}"),
        server.post_json("/v1/create-lead", lead, **{"x-api-key": key}),
        server.post_json("/v1/create-lead", lead, Authorization=f"Bearer {bad}"),
        server.request(
            "POST", webhook, b"name=Ana&email=ana%40example.com", {**form, "x-api-key": key}
        ),
        server.request("POST", f"{webhook}/", b"name=Ana", {**form, "x-api-key": bad}),
    ]
    assert [status for status, _head, _body in answers] == [201, 200, 401, 401, 201, 401, 201, 401]

    # The commands, after all that: list and revoke print prefixes, never a key.
    outputs = [
        server.manage("list_api_keys"),
        server.manage("list_api_keys", "--workspace", server.workspace),
        server.manage("revoke_api_key", key[:16]),
    ]
    assert key[:16] in outputs[0].stdout and key[:16] in outputs[1].stdout
    assert outputs[2].stdout.strip() == key[:16]

    # Each access log line is written just after its response.
    deadline = time.monotonic() + 10
    while server.logs["access"].read_text().count('HTTP/1.1" 401') < 4:
        assert time.monotonic() < deadline, "the access log never showed the 401s"
        time.sleep(0.1)
    logs = {name: path.read_text() for name, path in server.logs.items()}
    assert "[DEBUG]" in logs["error"]  # gunicorn really logs at DEBUG
    later = [
        *(head.decode() + body.decode() for _status, head, body in answers),
        *(output.stdout + output.stderr for output in outputs),
    ]
    for secret in (key, bad, server.probe_key):
        for text in (secret, secret[SECRET_START:]):
            for name, log in logs.items():
                assert text not in log, f"{name} log"
            for page in later:
                assert text not in page


def _without_date(head: bytes) -> bytes:
    return b"\r\n".join(line for line in head.split(b"\r\n") if not line.startswith(b"Date:"))


@pytest.mark.parametrize("endpoint", ["opt-in", "create-lead", "webhook"])
def test_a_wrong_secret_and_an_unknown_prefix_answer_the_same_bytes(server, endpoint):
    wrong = wrong_secret(server.probe_key)
    unknown = "sk_live_" + "Zz9" * 13 + "Z"
    if endpoint == "opt-in":
        path, body = (
            "/api/opt-in/submit",
            {"email": "a@example.com", "first_name": "A", "source": "OTHER"},
        )
    elif endpoint == "create-lead":
        path, body = "/v1/create-lead", {"workspace_id": server.workspace}
    else:
        # Its own workspace: the webhook's quota is per workspace and client.
        path, body = f"/v1/webhook/{server.probe_workspace}", {"name": "A"}

    (status_a, head_a, body_a), (status_b, head_b, body_b) = (
        server.post_json(path, body, **{"x-api-key": key}) for key in (wrong, unknown)
    )

    assert status_a == status_b == 401
    assert _without_date(head_a) == _without_date(head_b)
    assert body_a == body_b
    assert json.loads(body_a)["message"] == "Invalid or revoked API key"


def test_a_forged_x_forwarded_for_reaches_the_app_and_resets_nothing(server):
    # gunicorn trusts 127.0.0.1 as a proxy (forwarded_allow_ips) yet keeps REMOTE_ADDR the
    # peer's; with TRUSTED_PROXY_COUNT=0 the app counts that peer, whatever the header says.
    path = f"/v1/webhook/{server.quiet_workspace}"
    statuses = [
        server.post_json(path, {"name": "A"}, **{"X-Forwarded-For": f"198.51.100.{n}"})[0]
        for n in range(WEBHOOK_LIMIT + 3)
    ]
    assert statuses == [201] * WEBHOOK_LIMIT + [429] * 3
