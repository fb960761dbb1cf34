"""Header-level bad input through a real gunicorn, on every write endpoint.

Django's test client cannot send two headers of one name, nor a request without
Content-Type; gunicorn can receive them, joins repeated headers with a comma (as WSGI
requires) and enforces its own header-size limits before Django runs. These tests send the
raw requests and check the answer is still the surface's JSON, and nothing is written.
"""

import http.client
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from hushmetrics.tests.gunicorn_server import gunicorn, manage


class Server(NamedTuple):
    port: int
    workspace: str
    key: str
    db: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    """gunicorn on its own SQLite file, with one workspace and one key of it."""
    db = tmp_path_factory.mktemp("bad-input-live") / "live.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env |= {"DATABASE_URL": f"sqlite:///{db}", "LOG_LEVEL": "WARNING"}

    manage(env, "migrate", "-v0")
    workspace = manage(env, "create_workspace", "Live")
    key = manage(env, "issue_api_key", "--workspace", workspace, "--name", "live")
    with gunicorn(env, range(19100, 19200), "--workers", "1") as port:
        yield Server(port, workspace, key, db)


def _written(db: Path) -> tuple[int, int, int]:
    with sqlite3.connect(db) as connection:
        return tuple(
            connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in ("leads_lead", "optin_optin", "optin_questionanswer")
        )


def _post(port: int, path: str, body: bytes, headers: list[tuple[str, str]]) -> tuple:
    """POST with exactly `headers` (repeats kept); (status, Content-Type, parsed body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("POST", path, skip_accept_encoding=True)
        for name, value in [*headers, ("Content-Length", str(len(body)))]:
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        content_type, raw = response.getheader("Content-Type"), response.read()
    finally:
        connection.close()
    return (
        response.status,
        content_type,
        json.loads(raw) if content_type == "application/json" else raw,
    )


def _request(server: Server, endpoint: str) -> tuple[str, bytes, dict]:
    """The endpoint's path, a valid JSON body for it, and its 401 body."""
    if endpoint == "opt-in":
        body = {"email": "jane@example.com", "first_name": "Jane", "source": "OTHER"}
        return (
            "/api/opt-in/submit",
            json.dumps(body).encode(),
            {
                "status": "error",
                "message": "Invalid or revoked API key",
            },
        )
    body = {"workspace_id": server.workspace, "name": "Jane"}
    path = "/v1/create-lead" if endpoint == "create-lead" else f"/v1/webhook/{server.workspace}"
    return path, json.dumps(body).encode(), {"message": "Invalid or revoked API key"}


ENDPOINTS = ["create-lead", "webhook", "opt-in"]
JSON_TYPE = ("Content-Type", "application/json")


@pytest.mark.parametrize(
    "keys",
    [
        pytest.param(lambda key: [key, key], id="the-valid-key-twice"),
        pytest.param(lambda key: [key, "sk_live_" + "B" * 40], id="valid-then-unknown"),
        pytest.param(lambda key: ["sk_live_" + "B" * 40, key], id="unknown-then-valid"),
        pytest.param(lambda key: [key, ""], id="valid-then-empty"),
    ],
)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_two_x_api_key_headers_are_a_401(server, endpoint, keys):
    path, body, invalid_key = _request(server, endpoint)
    before = _written(server.db)

    status, content_type, answer = _post(
        server.port, path, body, [JSON_TYPE, *(("x-api-key", key) for key in keys(server.key))]
    )

    assert (status, content_type, answer) == (401, "application/json", invalid_key)
    assert _written(server.db) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_10_kb_key_is_a_401(server, endpoint):
    path, body, invalid_key = _request(server, endpoint)
    before = _written(server.db)

    status, content_type, answer = _post(
        server.port, path, body, [JSON_TYPE, ("x-api-key", "sk_live_" + "A" * 10_240)]
    )

    assert (status, content_type, answer) == (401, "application/json", invalid_key)
    assert _written(server.db) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_body_without_content_type_is_a_415_naming_what_to_send(server, endpoint):
    path, body, invalid_key = _request(server, endpoint)
    send = "application/json"
    if endpoint == "webhook":
        send += ", application/x-www-form-urlencoded, multipart/form-data or text/plain"
    message = f'Unsupported media type "" in request. Send the body as {send}.'
    expected = (
        {"status": "error", "message": message} if endpoint == "opt-in" else {"message": message}
    )
    before = _written(server.db)

    status, content_type, answer = _post(server.port, path, body, [("x-api-key", server.key)])

    assert (status, content_type, answer) == (415, "application/json", expected)
    assert _written(server.db) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_key_padded_with_spaces_is_the_key(server, endpoint):
    # HTTP drops the whitespace around a field value (RFC 9110 §5.5) before Django sees it.
    path, body, _ = _request(server, endpoint)
    leads, opt_ins, _ = _written(server.db)

    status, content_type, answer = _post(
        server.port, path, body, [JSON_TYPE, ("x-api-key", f"   {server.key}   ")]
    )

    assert (status, content_type) in [(201, "application/json"), (200, "application/json")]
    if endpoint == "opt-in":
        assert answer["status"] == "success"
        assert _written(server.db)[1] == opt_ins + 1
    else:
        assert answer["name"] == "Jane"
        assert _written(server.db)[0] == leads + 1
