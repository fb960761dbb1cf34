"""Rate limits hold across gunicorn workers: the counters live in Redis, not in a process."""

import http.client
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from hushmetrics.tests.gunicorn_server import gunicorn as serve
from leads.models import Lead
from workspaces.tests.factories import WorkspaceFactory

LIMIT = 3
REQUESTS = 12
# This suite's port range (other suites running beside it use others).
PORTS = range(18300, 18400)


def _url_of_test_database() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )


@pytest.fixture
def gunicorn(tmp_path) -> Iterator[tuple[int, Path]]:
    """Two sync workers on the pytest database and Redis; yields (port, access log)."""
    assert settings.REDIS_URL, "the cross-worker test needs REDIS_URL"
    access_log = tmp_path / "access.log"
    env = {
        **os.environ,
        "DATABASE_URL": _url_of_test_database(),
        "REDIS_URL": settings.REDIS_URL,
        "RATE_LIMIT_WEBHOOK": f"{LIMIT}/h",
        "RATE_LIMIT_CREATE_LEAD": f"{LIMIT}/h",
        "DB_POOL_MIN_SIZE": "0",
    }
    with serve(
        env,
        PORTS,
        "--workers",
        "2",
        "--access-logfile",
        str(access_log),
        "--access-logformat",
        "%(p)s %(s)s %(U)s",
    ) as port:
        yield port, access_log


def _post(port: int, path: str, body: dict) -> tuple[int, dict, str | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    response = conn.getresponse()
    answer = (response.status, json.loads(response.read()), response.getheader("Retry-After"))
    conn.close()
    return answer


def _concurrently(port: int, path: str, body: dict) -> list[tuple[int, dict, str | None]]:
    barrier = threading.Barrier(REQUESTS)
    results: list = [None] * REQUESTS

    def worker(index: int) -> None:
        barrier.wait(timeout=10)
        results[index] = _post(port, path, body)

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _served(access_log: Path, path: str) -> dict[str, list[int]]:
    """Per worker pid, the statuses it answered on `path` (from gunicorn's access log)."""
    served: dict[str, list[int]] = {}
    for line in access_log.read_text().splitlines():
        pid, status, url = line.split()
        if url == path:
            served.setdefault(pid, []).append(int(status))
    return served


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("endpoint", ["webhook", "create-lead"])
def test_the_limit_holds_across_two_gunicorn_workers(gunicorn, endpoint):
    port, access_log = gunicorn
    workspace = WorkspaceFactory()
    if endpoint == "webhook":
        path, body = f"/v1/webhook/{workspace.id}", {"name": "Ana"}
    else:
        path, body = "/v1/create-lead", {"workspace_id": str(workspace.id), "name": "Ana"}

    results = _concurrently(port, path, body)
    # Which worker accepts a connection is up to the kernel: send more until both answered.
    for _batch in range(20):
        time.sleep(0.3)  # the access log line is written after the response
        if len(_served(access_log, path)) == 2:
            break
        results += _concurrently(port, path, body)

    statuses = [status for status, _body, _retry in results]
    assert statuses.count(201) == LIMIT
    assert statuses.count(429) == len(results) - LIMIT
    for status, answer, retry_after in results:
        if status == 429:
            assert answer == {"message": "Too many requests"}
            assert retry_after is not None and int(retry_after) >= 1
    assert Lead.objects.filter(workspace=workspace).count() == LIMIT
    served = _served(access_log, path)
    assert len(served) == 2  # both workers answered
    # The proof: a worker that let fewer than LIMIT through itself still refused, so it
    # counted the other worker's requests (a per-process counter would have said yes).
    assert any(statuses.count(201) < LIMIT and 429 in statuses for statuses in served.values())
