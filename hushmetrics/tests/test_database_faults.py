"""The database going away under the pooled production configuration (bench/faults.py runs
the same faults against gunicorn; these are the parts a test can reproduce)."""

import json
import os
import subprocess
import sys
import uuid

import psycopg
import pytest
from django.db import connection
from rest_framework.test import APIClient

from hushmetrics.tests.gunicorn_server import PROJECT
from leads.models import Lead
from optin.models import OptIn

UNAVAILABLE = "Service temporarily unavailable, please retry"
OPTIN_BODY = {"email": "jane@example.com", "first_name": "Jane", "source": "LANDING_PAGE"}


def _post_with_pool_to_nowhere(path: str, body: dict, headers: dict[str, str]) -> list:
    """POST in a fresh process whose pooled database never answers (nothing listens on port
    1), so the request waits DB_POOL_TIMEOUT for a connection and gets none."""
    code = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        f"r = Client(HTTP_HOST='localhost', headers={headers!r}).post({path!r},"
        f" {json.dumps(body)!r}, content_type='application/json');"
        "print(json.dumps([r.status_code, r['Content-Type'], json.loads(r.content),"
        " r.get('Retry-After')]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hushmetrics.settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/hushmetrics",
        "DB_POOL": "1",
        "DB_POOL_TIMEOUT": "1",
    }
    env.pop("REDIS_URL", None)
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


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
def test_a_pool_timeout_is_a_json_503_on_both_surfaces(path, body, headers, envelope):
    status, content_type, answer, retry_after = _post_with_pool_to_nowhere(path, body, headers)

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
def test_pooled_connections_killed_while_idle_are_replaced_not_served(workspace, api_key):
    api_client = APIClient()
    # A request puts a connection in the pool; closing ours returns the test's one there too.
    first = api_client.post("/v1/create-lead", {"workspace_id": str(workspace.id)}, format="json")
    assert first.status_code == 201
    connection.close()
    assert connection.pool is not None
    assert _kill_every_other_backend() >= 1

    lead = api_client.post("/v1/create-lead", {"workspace_id": str(workspace.id)}, format="json")
    opt_in = api_client.post(
        "/api/opt-in/submit", OPTIN_BODY, format="json", HTTP_X_API_KEY=api_key.plaintext
    )

    assert (lead.status_code, opt_in.status_code) == (201, 201), (lead.json(), opt_in.json())
    assert Lead.objects.count() == 3
    assert OptIn.objects.count() == 1
