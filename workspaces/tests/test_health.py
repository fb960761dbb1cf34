import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/v1/health", "/v1/health/"])
def test_health_is_ok_when_the_database_answers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def _health_with(env_overrides: dict[str, str]) -> tuple[int, dict, str]:
    """GET /v1/health in a fresh process whose database or cache is really unreachable."""
    code = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client(HTTP_HOST='localhost').get('/v1/health');"
        "print(json.dumps([r.status_code, r.json(), r.get('Retry-After')]))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hushmetrics.settings", **env_overrides}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    status, body, retry_after = json.loads(result.stdout.strip().splitlines()[-1])
    return status, body, retry_after


def test_health_is_503_json_when_the_database_is_down():
    # Nothing listens on port 1: the connection is refused at once.
    status, body, retry_after = _health_with(
        {"DATABASE_URL": "postgres://postgres@127.0.0.1:1/hushmetrics", "DB_POOL": "0"}
    )
    assert status == 503
    assert body == {"status": "error", "message": "database unavailable"}
    assert retry_after == "5"


def test_health_is_503_json_when_the_configured_cache_is_down(tmp_path):
    status, body, _ = _health_with(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'h.sqlite3'}",
            "REDIS_URL": "redis://127.0.0.1:1/0",
        }
    )
    assert status == 503
    assert body == {"status": "error", "message": "cache unavailable"}


@pytest.mark.django_db
def test_unknown_api_paths_are_json_404(client):
    for path in ["/v1/nope", "/v1/", "/api/unknown", "/v1"]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json"
    assert client.get("/v1/nope").json() == {"message": "Not found"}
    assert client.get("/api/nope").json() == {"status": "error", "message": "Not found"}


@pytest.mark.django_db
def test_health_rejects_other_methods_as_json(client):
    response = client.post("/v1/health")
    assert response.status_code == 405
    assert response.json() == {"message": "Method POST not allowed"}
