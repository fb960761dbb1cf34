"""The database going away under the pooled production configuration (bench/faults.py runs
the same faults against gunicorn; these are the parts a test can reproduce)."""

import contextlib
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import OperationalError, connection, connections
from rest_framework.test import APIClient

from hushmetrics.postgresql.base import DatabaseWrapper, SweepingCheck
from hushmetrics.tests.gunicorn_server import PROJECT, free_port
from leads.models import Lead
from optin.models import OptIn

UNAVAILABLE = "Service temporarily unavailable, please retry"
OPTIN_BODY = {"email": "jane@example.com", "first_name": "Jane", "source": "LANDING_PAGE"}


def _post_with_pool_to_nowhere(path: str, body: dict, headers: dict[str, str], out: Path) -> list:
    """POST in a fresh process whose pooled database never answers (nothing listens on port
    1), so the request waits DB_POOL_TIMEOUT for a connection and gets none."""
    # The answer goes to a file: the pool's thread logs its failed attempts to stdout.
    code = (
        "import django, json, pathlib; django.setup();"
        "from django.test import Client;"
        f"r = Client(HTTP_HOST='localhost', headers={headers!r}).post({path!r},"
        f" {json.dumps(body)!r}, content_type='application/json');"
        f"pathlib.Path({str(out)!r}).write_text(json.dumps([r.status_code, r['Content-Type'],"
        " json.loads(r.content), r.get('Retry-After')]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hushmetrics.settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/hushmetrics",
        "DB_POOL": "1",
        "DB_POOL_TIMEOUT": "1",
    }
    env.pop("REDIS_URL", None)
    subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.read_text())


@pytest.mark.parametrize(
    ("path", "body", "headers", "envelope"),
    [
        (
            "/v1/create-lead",
            {"workspace_id": str(uuid.UUID(int=1)), "name": "A"},
            {},
            {"message": UNAVAILABLE},
        ),
        (f"/v1/webhook/{uuid.UUID(int=1)}", {"name": "A"}, {}, {"message": UNAVAILABLE}),
        (
            "/api/opt-in/submit",
            OPTIN_BODY,
            {"x-api-key": "sk_live_" + "a" * 40},
            {"status": "error", "message": UNAVAILABLE},
        ),
    ],
    ids=["create-lead", "webhook", "opt-in"],
)
def test_a_pool_timeout_is_a_json_503_on_both_surfaces(path, body, headers, envelope, tmp_path):
    status, content_type, answer, retry_after = _post_with_pool_to_nowhere(
        path, body, headers, tmp_path / "answer.json"
    )

    assert status == 503
    assert content_type == "application/json"
    assert answer == envelope
    assert retry_after == "5"


def _kill_every_other_backend() -> int:
    """Terminate every server process of the test database but the killer's own, the way a
    PostgreSQL restart does; returns how many it terminated."""
    params = connection.settings_dict
    with psycopg.connect(
        host=params["HOST"], port=params["PORT"], user=params["USER"], dbname=params["NAME"]
    ) as killer:
        rows = killer.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return sum(1 for (terminated,) in rows if terminated)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("idle", [1, 2, 4, 8])
def test_pooled_connections_killed_while_idle_are_replaced_not_served(workspace, api_key, idle):
    # A fresh pool holding `idle` connections, as a burst of concurrent requests leaves it.
    database = connections["default"]
    assert isinstance(database, DatabaseWrapper)
    database.close()
    database.close_pool()
    database.ensure_connection()  # opens the new pool
    database.close()
    pool = database.pool
    assert pool is not None
    assert isinstance(pool._check, SweepingCheck)
    held = [pool.getconn() for _ in range(idle)]
    for conn in held:
        pool.putconn(conn)
    connection.close()
    # PostgreSQL restarts (or fails over) while they idle: every one of them is now dead.
    assert _kill_every_other_backend() >= idle

    # Django's plain check would try them one by one with 1, 2, 4 s pauses between failures:
    # from 3 dead connections on, the request outlived the 5 s pool timeout (a 503).
    api_client = APIClient()
    lead = api_client.post("/v1/create-lead", {"workspace_id": str(workspace.id)}, format="json")
    opt_in = api_client.post(
        "/api/opt-in/submit", OPTIN_BODY, format="json", HTTP_X_API_KEY=api_key.plaintext
    )

    assert (lead.status_code, opt_in.status_code) == (201, 201), (lead.json(), opt_in.json())
    assert Lead.objects.count() == 2
    assert OptIn.objects.count() == 1


def _messages_sent(conn: psycopg.Connection, action) -> list[str]:
    """The protocol messages `conn` sends to the server during `action()` (libpq's trace)."""
    with tempfile.TemporaryFile() as trace:
        conn.pgconn.trace(trace.fileno())
        try:
            action()
        finally:
            conn.pgconn.untrace()
        trace.seek(0)
        lines = trace.read().decode().splitlines()
    return [line.split("\t")[3] for line in lines if line.split("\t")[1] == "F"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_used_moments_ago_is_checked_without_a_round_trip(settings):
    # psycopg's check sends an empty query on every checkout: a round trip on every request.
    database = connections["default"]
    assert isinstance(database, DatabaseWrapper)
    database.ensure_connection()
    pool = database.pool
    assert pool is not None
    check = pool._check
    assert isinstance(check, SweepingCheck)
    conn = database.connection
    assert conn is not None
    check(conn)  # handed out just now
    assert _messages_sent(conn, lambda: check(conn)) == []

    # Idle longer than DB_POOL_CHECK_IDLE_SECONDS: the full check, a round trip.
    settings.DB_POOL_CHECK_IDLE_SECONDS = 0
    assert _messages_sent(conn, lambda: check(conn)) == ["Query"]

    # Ended by the server moments after its last use: the socket says so, the check fails.
    settings.DB_POOL_CHECK_IDLE_SECONDS = 60
    check(conn)
    params = connection.settings_dict
    with psycopg.connect(
        host=params["HOST"], port=params["PORT"], user=params["USER"], dbname=params["NAME"]
    ) as killer:
        killer.execute("SELECT pg_terminate_backend(%s)", [conn.info.backend_pid])
    deadline = time.monotonic() + 5
    while not select.select([conn.pgconn.socket], [], [], 0)[0]:
        assert time.monotonic() < deadline, "the terminated backend's socket never got readable"
        time.sleep(0.01)
    with pytest.raises(psycopg.OperationalError):
        check(conn)
    database.close()


class TcpProxy:
    """127.0.0.1:`port` forwarded to `upstream`, which `down()` takes away the way a stopped
    server goes: open connections are cut, new ones refused, until `up()`."""

    def __init__(self, port: int, upstream: tuple[str, int]) -> None:
        self.port = port
        self.upstream = upstream
        self.listener: socket.socket | None = None
        self.open: list[socket.socket] = []

    def up(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def down(self) -> None:
        # shutdown() wakes the thread blocked in accept(); close() alone would not.
        assert self.listener is not None, "down() before up()"
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for sock in self.open:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self.open += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_RDWR)


def _select_one(database: DatabaseWrapper) -> bool:
    try:
        with database.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except OperationalError:
        return False
    finally:
        database.close()


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_pool_reconnects_within_seconds_of_a_long_outages_end():
    # psycopg retries a lost connection with doubling delays (1, 2, 4, 8 s…); unless the
    # pool gives a retry up soon, the next attempt after an 8 s outage comes ~7 s late.
    upstream = (connection.settings_dict["HOST"], int(connection.settings_dict["PORT"]))
    proxy = TcpProxy(free_port(range(19390, 19400)), upstream)
    # Our backend's pool, built from our settings, for a database behind the proxy.
    database = DatabaseWrapper({**connection.settings_dict, "PORT": proxy.port}, "faults-proxy")
    proxy.up()
    try:
        assert _select_one(database)
        proxy.down()
        down_until = time.monotonic() + 8
        while time.monotonic() < down_until:
            assert not _select_one(database)
        proxy.up()
        back = time.monotonic()
        while not _select_one(database):
            assert time.monotonic() - back < 15
        recovered_after = time.monotonic() - back
    finally:
        database.close_pool()
        proxy.down()

    assert recovered_after <= 3, f"{recovered_after:.1f} s"
