"""`make serve`'s topology (deploy/serve.py: nginx in front of gunicorn, 2 workers × 4
threads) under slow clients, and the edges nginx answers itself.

Bare gunicorn gives a thread to every started request until it is complete: ten clients
that send one header line and then nothing made every health probe fail. nginx reads each
request whole first, so 200 such clients cost gunicorn nothing.

Runs wherever nginx is installed, and always in CI (`.ci/run` installs it), where a missing
nginx is a failure, not a skip.
"""

import http.client
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator

import pytest

from hushmetrics.tests.gunicorn_server import app_server, free_port, manage
from hushmetrics.tests.slowloris import attack, probe

NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
pytestmark = pytest.mark.skipif(
    NGINX is None and not os.environ.get("CI"),
    reason="needs nginx (`.ci/run` installs it; Debian: apt-get install nginx-light)",
)
PORTS = range(18700, 18800)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """deploy/serve.py on a free port, on a migrated SQLite database of its own."""
    tmp = tmp_path_factory.mktemp("serve")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp / 'serve.sqlite3'}",
        "SECRET_KEY": "slow-clients-" + "x" * 40,
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "4",
        "MAX_BODY_BYTES": "4096",
        # nginx's own limit is twice the largest body the app takes: uploads' as small, so
        # the 20,000-byte body below is nginx's 413, not the app's.
        "MAX_UPLOAD_BYTES": "4096",
        "RATE_LIMIT_CREATE_LEAD": "2/m",
    }
    manage(env, "migrate", "-v0")
    port = free_port(PORTS)
    env["BIND"] = f"127.0.0.1:{port}"
    # serve.py stops nginx and gunicorn when it is stopped, then exits.
    with app_server([sys.executable, "deploy/serve.py"], env, port) as answering:
        yield answering


def request(port: int, method: str, path: str, body: bytes = b"", **headers: str):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.getheader("Content-Type"), response.read()


def test_health_answers_under_a_second_while_200_slow_clients_hold_connections(served):
    with attack("127.0.0.1", served, connections=200, interval=2.0) as clients:
        time.sleep(1)  # every slow client connected and sending
        during = probe("127.0.0.1", served, seconds=8, every=0.25)
        held = sum(client.closed_after is None for client in clients)
        # Past nginx's client_header_timeout (10 s for the whole header), the header
        # tricklers are cut off; the body tricklers, feeding a byte every 2 s, stay on.
        after = probe("127.0.0.1", served, seconds=5, every=0.25)

    assert all(client.connected for client in clients)
    assert held == 200  # the whole attack was on while the first probes ran
    for result in (during, after):
        assert len(result.seconds) >= 15
        assert result.failures == 0, result.seconds
        assert result.worst < 1.0, result.seconds
    cut = [client.closed_after for client in clients if client.mode == "headers"]
    assert all(seconds is not None and 9.5 < seconds < 11 for seconds in cut), cut


def test_a_spoofed_forwarded_for_does_not_reset_a_quota_behind_nginx(served):
    statuses = [
        request(
            served,
            "POST",
            "/v1/create-lead",
            b'{"workspace_id": "not-a-uuid"}',
            **{"Content-Type": "application/json", "X-Forwarded-For": f"10.0.0.{n}"},
        )[0]
        for n in range(5)
    ]
    # 2 a minute per client IP, counted in each of the 2 workers (no Redis here): were the
    # spoofed header the key, all five would pass.
    assert statuses[:2] == [400, 400]
    assert 429 in statuses


@pytest.mark.parametrize(
    ("path", "envelope"),
    [
        ("/v1/create-lead", {"message": "Request body too large (limit 4096 bytes)"}),
        (
            "/api/opt-in/submit",
            {"status": "error", "message": "Request body too large (limit 4096 bytes)"},
        ),
    ],
)
@pytest.mark.parametrize("size", [5_000, 20_000])  # the app's own 413, then nginx's
def test_an_oversized_body_gets_a_413_in_the_surface_envelope(served, path, envelope, size):
    status, content_type, body = request(
        served, "POST", path, b"x" * size, **{"Content-Type": "application/json"}
    )
    assert (status, content_type) == (413, "application/json")
    assert json.loads(body) == envelope


def test_headers_too_large_for_nginx_get_a_json_400(served):
    status, content_type, body = request(
        served, "GET", "/v1/health", b"", **{"X-Big": "y" * 40_000}
    )
    assert (status, content_type) == (400, "application/json")
    assert json.loads(body) == {"message": "Malformed request or headers too large"}
