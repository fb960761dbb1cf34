"""One JSON envelope for every error on /v1: 404, 405, 413, 429, 500, 503."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.exceptions import BadRequest

from leads.models import Lead
from workspaces.tests.factories import WorkspaceFactory

PROJECT = Path(__file__).resolve().parents[2]
TOO_MANY = {"message": "Too many requests"}

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    ["/v1/nope", "/v1/webhook", "/v1/webhook/", "/v1/webhook/a/b", "/v1/create-lead/x", "/v1"],
)
def test_unknown_paths_under_v1_are_a_json_404(api_client, path):
    for method in (api_client.get, api_client.post):
        response = method(path)
        assert response.status_code == 404
        assert response.json() == {"message": "Not found"}
    assert Lead.objects.count() == 0


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [(method, "/v1/create-lead", "POST, OPTIONS") for method in ("get", "put", "patch", "delete")]
    # The webhook answers GET and HEAD too (SPEC §8: "is my form connected?").
    + [
        (method, "/v1/webhook/{id}/", "GET, POST, HEAD, OPTIONS")
        for method in ("put", "patch", "delete")
    ],
)
def test_other_methods_are_a_json_405(api_client, workspace, method, path, allow):
    response = getattr(api_client, method)(path.format(id=workspace.id))
    assert response.status_code == 405
    assert response.json() == {"message": f"Method {method.upper()} not allowed"}
    assert response["Allow"] == allow
    assert Lead.objects.count() == 0


def _big(size: int) -> str:
    return "x" * size


@pytest.mark.parametrize("kind", ["json", "form", "multipart"])
def test_a_body_over_the_limit_is_a_json_413(api_client, settings, workspace, kind):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert limit == 1024 * 1024  # the documented default
    url = f"/v1/webhook/{workspace.id}"
    if kind == "json":
        response = api_client.post(
            url, json.dumps({"name": _big(limit)}), content_type="application/json"
        )
    elif kind == "form":
        response = api_client.post(
            url, f"name={_big(limit)}", content_type="application/x-www-form-urlencoded"
        )
    else:
        response = api_client.post(url, {"name": _big(limit)}, format="multipart")

    assert response.status_code == 413
    assert response.json() == {"message": f"Request body too large (limit {limit} bytes)"}
    assert Lead.objects.count() == 0


def test_create_lead_over_the_limit_is_a_json_413(api_client, settings, workspace):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = json.dumps({"workspace_id": str(workspace.id), "name": _big(200)})

    response = api_client.post("/v1/create-lead", body, content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {"message": "Request body too large (limit 100 bytes)"}
    assert Lead.objects.count() == 0


def test_a_body_just_under_the_limit_is_accepted(api_client, settings, workspace):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    body = json.dumps({"name": "A", "note": _big(1900)})
    assert len(body) <= 2000

    response = api_client.post(f"/v1/webhook/{workspace.id}", body, content_type="application/json")

    assert response.status_code == 201
    assert Lead.objects.count() == 1


@pytest.mark.parametrize("kind", ["form", "multipart"])
def test_too_many_form_fields_is_a_json_413(api_client, workspace, kind):
    fields = {f"f{index}": "1" for index in range(1001)}
    url = f"/v1/webhook/{workspace.id}"
    if kind == "form":
        body = "&".join(f"{key}={value}" for key, value in fields.items())
        response = api_client.post(url, body, content_type="application/x-www-form-urlencoded")
    else:
        response = api_client.post(url, fields, format="multipart")

    assert response.status_code == 413
    assert response.json() == {"message": "Too many fields (limit 1000)"}
    assert Lead.objects.count() == 0


def test_an_unexpected_error_is_a_json_500_without_a_trace(api_client, workspace, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("leads.apis.webhook_lead_ingest", explode)

    response = api_client.post(f"/v1/webhook/{workspace.id}", {"name": "A"}, format="json")

    assert response.status_code == 500
    assert response.json() == {"message": "Internal server error"}
    assert b"secret internals" not in response.content
    assert Lead.objects.count() == 0


def _post_without_database(path: str, body: dict) -> tuple[int, dict, str | None]:
    """POST in a fresh process whose database really is unreachable."""
    code = (
        "import django, json, sys; django.setup();"
        "from django.test import Client;"
        f"r = Client(HTTP_HOST='localhost').post({path!r}, {json.dumps(body)!r},"
        " content_type='application/json');"
        "print(json.dumps([r.status_code, json.loads(r.content), r.get('Retry-After')]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hushmetrics.settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/hushmetrics",
        "DB_POOL": "0",
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
    status, body, retry_after = json.loads(result.stdout.strip().splitlines()[-1])
    return status, body, retry_after


@pytest.mark.parametrize(
    "path", ["/v1/create-lead", f"/v1/webhook/{uuid.UUID(int=1)}"], ids=["create", "webhook"]
)
def test_a_database_that_is_down_is_a_json_503(path):
    body = {"workspace_id": str(uuid.UUID(int=1)), "name": "A"}
    if "webhook" in path:
        body = {"name": "A"}

    status, answer, retry_after = _post_without_database(path, body)

    assert status == 503
    assert answer == {"message": "Service temporarily unavailable, please retry"}
    assert retry_after == "5"


# --- rate limits (in process; the cross-worker proof is in test_rate_limit_gunicorn.py) --------


def test_create_lead_is_limited_per_client_ip(api_client, settings, workspace):
    settings.RATE_LIMIT_CREATE_LEAD = "2/h"
    body = json.dumps({"workspace_id": str(workspace.id)})

    def post(ip: str, **extra: str):
        return api_client.post(
            "/v1/create-lead", body, content_type="application/json", REMOTE_ADDR=ip, **extra
        )

    assert [post("203.0.113.1").status_code for _ in range(2)] == [201, 201]
    limited = post("203.0.113.1")
    spoofed = post("203.0.113.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    other_ip = post("203.0.113.2")

    assert limited.status_code == spoofed.status_code == 429
    assert limited.json() == spoofed.json() == TOO_MANY
    assert 1 <= int(limited["Retry-After"]) <= 3600
    assert other_ip.status_code == 201
    assert Lead.objects.count() == 3


def test_the_webhook_is_limited_per_workspace_and_client_ip(api_client, settings):
    settings.RATE_LIMIT_WEBHOOK = "2/h"
    first, second = WorkspaceFactory(), WorkspaceFactory()

    def post(workspace, ip: str = "203.0.113.1"):
        return api_client.post(
            f"/v1/webhook/{workspace.id}", {"name": "A"}, format="json", REMOTE_ADDR=ip
        )

    assert [post(first).status_code for _ in range(2)] == [201, 201]
    limited = post(first)
    assert limited.status_code == 429
    assert limited.json() == TOO_MANY
    assert int(limited["Retry-After"]) >= 1
    # Another workspace behind the same platform IP, and another IP, keep their own quota.
    assert post(second).status_code == 201
    assert post(first, ip="203.0.113.9").status_code == 201
    assert Lead.objects.filter(workspace=first).count() == 3
    assert Lead.objects.filter(workspace=second).count() == 1


def test_a_rate_limited_request_writes_nothing(api_client, settings, workspace):
    settings.RATE_LIMIT_WEBHOOK = "0/h"

    response = api_client.post(f"/v1/webhook/{workspace.id}", {"name": "A"}, format="json")

    assert response.status_code == 429
    assert response.json() == TOO_MANY
    assert Lead.objects.count() == 0


def test_a_bad_request_raised_in_a_view_is_a_400_not_a_500(api_client, workspace, monkeypatch):
    def refuse(**kwargs):
        raise BadRequest("odd")

    monkeypatch.setattr("leads.apis.webhook_lead_ingest", refuse)
    response = api_client.post(f"/v1/webhook/{workspace.id}", {"name": "Jane"}, format="json")
    assert (response.status_code, response.json()) == (400, {"message": "Malformed request"})
