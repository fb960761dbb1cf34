"""Abuse resistance shared by both surfaces: quotas a forged X-Forwarded-For cannot reset, and
CORS that never admits credentials (and never reaches the admin).

The admin login's own limits are in test_admin_login.py; the key's secrecy is in
workspaces/tests/test_security.py.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from leads.models import Lead
from workspaces.tests.factories import ApiKeyFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

SUBMIT = "/api/opt-in/submit"
OPTIN = {"email": "jane@example.com", "first_name": "Jane", "source": "LANDING_PAGE"}
BAD_KEY = "sk_live_" + "A" * 40
LIMIT = 3


@dataclass(frozen=True)
class Quota:
    """One quota: the setting that sizes it, how to spend it, and what an allowed call gets."""

    setting: str
    send: Callable[..., int]
    allowed: frozenset[int]
    per_client_ip: bool


def _create_lead(client: APIClient, context: dict, **meta: Any) -> int:
    body = {"workspace_id": str(context["workspace"].id), "name": "Ana"}
    return client.post("/v1/create-lead", body, format="json", **meta).status_code


def _webhook(client: APIClient, context: dict, **meta: Any) -> int:
    url = f"/v1/webhook/{context['workspace'].id}"
    return client.post(url, {"name": "Ana"}, format="json", **meta).status_code


def _optin(client: APIClient, context: dict, **meta: Any) -> int:
    key = context["api_key"].plaintext
    return client.post(SUBMIT, OPTIN, format="json", HTTP_X_API_KEY=key, **meta).status_code


def _optin_bad_key(client: APIClient, context: dict, **meta: Any) -> int:
    return client.post(SUBMIT, OPTIN, format="json", HTTP_X_API_KEY=BAD_KEY, **meta).status_code


def _create_lead_bad_key(client: APIClient, context: dict, **meta: Any) -> int:
    return _create_lead(client, context, HTTP_X_API_KEY=BAD_KEY, **meta)


QUOTAS = {
    "create-lead": Quota("RATE_LIMIT_CREATE_LEAD", _create_lead, frozenset({201}), True),
    "webhook": Quota("RATE_LIMIT_WEBHOOK", _webhook, frozenset({201}), True),
    # Per key: no address of any kind enters it.
    "opt-in": Quota("RATE_LIMIT_OPTIN", _optin, frozenset({200, 201}), False),
    "auth-failures/opt-in": Quota(
        "RATE_LIMIT_AUTH_FAILURES", _optin_bad_key, frozenset({401}), True
    ),
    "auth-failures/create-lead": Quota(
        "RATE_LIMIT_AUTH_FAILURES", _create_lead_bad_key, frozenset({401}), True
    ),
}


@pytest.fixture
def context(workspace) -> dict:
    return {"workspace": workspace, "api_key": ApiKeyFactory(workspace=workspace)}


@pytest.fixture(params=list(QUOTAS))
def quota(request, settings) -> Quota:
    quota = QUOTAS[request.param]
    # Per hour, so no test straddles the end of a counting window.
    setattr(settings, quota.setting, f"{LIMIT}/h")
    return quota


def test_without_trusted_proxies_a_new_x_forwarded_for_never_resets_a_quota(
    settings, quota, context
):
    settings.TRUSTED_PROXY_COUNT = 0
    client = APIClient()
    statuses = [
        quota.send(client, context, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=forged)
        for forged in ["198.51.100.1", "198.51.100.2", "10.0.0.3, 198.51.100.3", "198.51.100.4"]
        + [f"192.0.2.{n}" for n in range(4)]
    ]

    assert set(statuses[:LIMIT]) <= quota.allowed
    assert statuses[LIMIT:] == [429] * (len(statuses) - LIMIT)
    if quota.per_client_ip:
        # Another address has its own quota, even while it claims to be the limited one.
        other = quota.send(
            client, context, REMOTE_ADDR="203.0.113.8", HTTP_X_FORWARDED_FOR="203.0.113.9"
        )
        assert other in quota.allowed


def test_behind_one_proxy_a_client_counts_against_the_address_the_proxy_appended(
    settings, quota, context
):
    settings.TRUSTED_PROXY_COUNT = 1
    client = APIClient()
    proxy, real = "10.0.0.1", "203.0.113.7"
    # The client writes whatever it likes on the left; our proxy appends what it saw.
    forged = ["", "198.51.100.1, ", "198.51.100.2, 198.51.100.3, ", "unknown, ", "::1, "]
    statuses = [
        quota.send(client, context, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"{prefix}{real}")
        for prefix in forged + [f"192.0.2.{n}, " for n in range(3)]
    ]

    assert set(statuses[:LIMIT]) <= quota.allowed
    assert statuses[LIMIT:] == [429] * (len(statuses) - LIMIT)
    if quota.per_client_ip:
        # Another client behind the same proxy is not held back, even claiming the limited
        # address itself: only the proxy's entry counts, not the proxy nor the claim.
        other = quota.send(
            client, context, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"{real}, 198.51.100.50"
        )
        assert other in quota.allowed


@pytest.mark.parametrize("proxies", [0, 1])
def test_a_request_refused_for_its_quota_writes_nothing_whatever_it_forges(settings, proxies):
    settings.RATE_LIMIT_CREATE_LEAD = f"{LIMIT}/h"
    settings.TRUSTED_PROXY_COUNT = proxies
    workspace = WorkspaceFactory()
    client = APIClient()
    context = {"workspace": workspace}
    statuses = [
        _create_lead(
            client,
            context,
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.7",
        )
        for n in range(LIMIT + 3)
    ]
    assert statuses == [201] * LIMIT + [429] * 3
    assert Lead.objects.filter(workspace=workspace).count() == LIMIT


# --- CORS: any origin may post, none may send credentials; the admin is not cross-origin ---

ORIGIN = "https://forms.example.net"


def _public_endpoints(workspace) -> list[str]:
    return [
        "/v1/create-lead",
        f"/v1/webhook/{workspace.id}",
        f"/v1/webhook/{workspace.id}/",
        SUBMIT,
    ]


def _cors(response) -> dict[str, str]:
    """The response's CORS headers, by lower-case name."""
    return {
        name.lower(): value
        for name, value in response.items()
        if name.lower().startswith("access-control-")
    }


def test_a_preflight_to_each_public_endpoint_allows_the_origin_but_no_credentials(workspace):
    client = APIClient()
    for path in _public_endpoints(workspace):
        response = client.options(
            path,
            HTTP_ORIGIN=ORIGIN,
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
            HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type, x-api-key",
            HTTP_COOKIE="sessionid=abc",
        )
        assert response.status_code == 200, path
        headers = _cors(response)
        assert headers["access-control-allow-origin"] == "*", path
        assert "POST" in headers["access-control-allow-methods"]
        assert "access-control-allow-credentials" not in headers, path


def test_a_cross_origin_post_to_each_public_endpoint_gets_no_credentials_header(workspace, api_key):
    client = APIClient()
    # With cookies sent along (a browser's `credentials: "include"`), and for errors too.
    cookie: dict[str, Any] = {"HTTP_ORIGIN": ORIGIN, "HTTP_COOKIE": "sessionid=abc; csrftoken=def"}
    key: dict[str, Any] = {"HTTP_X_API_KEY": api_key.plaintext}
    body = {"workspace_id": str(workspace.id), "name": "Ana"}
    responses = [
        client.post("/v1/create-lead", body, format="json", **cookie),
        client.post("/v1/create-lead", {}, format="json", **cookie),
        client.post(f"/v1/webhook/{workspace.id}", {"name": "Ana"}, **cookie),
        client.post(f"/v1/webhook/{workspace.id}/", {"name": "Ana"}, format="json", **cookie),
        client.post(SUBMIT, OPTIN, format="json", **cookie, **key),
        client.post(SUBMIT, OPTIN, format="json", **cookie),
        client.get("/v1/health", **cookie),
    ]

    assert [response.status_code for response in responses] == [201, 400, 201, 201, 201, 401, 200]
    for response in responses:
        headers = _cors(response)
        assert headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in headers
        assert "Set-Cookie" not in response  # nothing to carry back, either


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/login/", "/admin/workspaces/apikey/", "/admin/jsi18n/"]
)
def test_the_admin_sends_no_cors_headers(admin_client, path):
    preflight = admin_client.options(
        path, HTTP_ORIGIN=ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    page = admin_client.get(path, HTTP_ORIGIN=ORIGIN)
    post = admin_client.post(path, {}, HTTP_ORIGIN=ORIGIN)

    assert page.status_code in (200, 302)
    for response in (preflight, page, post):
        assert _cors(response) == {}, (path, response.status_code)
