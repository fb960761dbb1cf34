"""A chunked body (no Content-Length) is a real submission, read in full, through gunicorn."""

import http.client
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hushmetrics.tests.gunicorn_server import gunicorn, manage


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[int, str, Path]]:
    """gunicorn on its own SQLite file; yields (port, workspace id, database path)."""
    tmp = tmp_path_factory.mktemp("chunked")
    db = tmp / "chunked.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env |= {"DATABASE_URL": f"sqlite:///{db}", "MAX_BODY_BYTES": "2048", "LOG_LEVEL": "WARNING"}
    manage(env, "migrate", "-v0")
    workspace = manage(env, "create_workspace", "Chunked")
    with gunicorn(env, range(18600, 18700), "--workers", "1") as port:
        yield port, workspace, db


def _post_chunked(port: int, path: str, chunks: list[bytes]) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(
        "POST",
        path,
        body=iter(chunks),
        encode_chunked=True,
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
    )
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def test_a_chunked_webhook_body_becomes_a_lead(server):
    port, workspace, _ = server
    body = json.dumps({"name": "Chunky Lead", "email": "chunky@example.com", "plan": "pro"})
    chunks = [body[:10].encode(), body[10:25].encode(), body[25:].encode()]
    status, lead = _post_chunked(port, f"/v1/webhook/{workspace}", chunks)
    assert status == 201
    assert (lead["name"], lead["email"], lead["extra_data"]) == (
        "Chunky Lead",
        "chunky@example.com",
        {"plan": "pro"},
    )


def test_a_chunked_body_over_the_limit_is_a_413(server):
    port, workspace, _ = server
    body = json.dumps({"name": "x" * 4000}).encode()
    status, error = _post_chunked(port, f"/v1/webhook/{workspace}", [body[:1000], body[1000:]])
    assert status == 413
    assert error == {"message": "Request body too large (limit 2048 bytes)"}
