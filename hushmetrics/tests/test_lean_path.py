"""API requests take the lean middleware path; the admin keeps the whole chain (issue 18).

`/v1/…` and `/api/…` skip sessions, the logged-in user and messages
(hushmetrics.middleware.browser_only): the request a view sees carries none of them, no
cookie is ever set, and the security headers are those every response gets. (CSRF's
middleware stays for Django's deploy check; DRF's views are exempt from it.)
"""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from leads.models import Lead

pytestmark = pytest.mark.django_db

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# What SessionMiddleware, AuthenticationMiddleware and MessageMiddleware put on a request
# (DRF sets `user` itself, from its own authenticators).
BROWSER_ATTRIBUTES = ("session", "auser", "_messages")


def _assert_lean(response) -> None:
    request = response.wsgi_request
    assert [name for name in BROWSER_ATTRIBUTES if hasattr(request, name)] == []
    assert {name: response.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")


def test_create_lead_runs_without_sessions_user_or_messages(workspace, api_key):
    client = APIClient(enforce_csrf_checks=True)
    response = client.post(
        "/v1/create-lead",
        {"workspace_id": str(workspace.id), "name": "Ana"},
        format="json",
        HTTP_X_API_KEY=api_key.plaintext,
    )
    assert response.status_code == 201
    assert Lead.objects.get().name == "Ana"
    _assert_lean(response)


def test_a_browser_form_post_to_the_webhook_gets_its_page_on_the_lean_path(workspace):
    # A person's browser, with the CSRF checks a browser's form post would meet elsewhere:
    # a cross-site form post to the webhook is what it is for (SPEC §8).
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        f"/v1/webhook/{workspace.id}",
        {"name": "Ana", "email": "ana@example.com"},
        HTTP_ACCEPT="text/html",
        HTTP_ORIGIN="https://landing.example",
    )
    # The thank-you page, after the redirect a browser's post gets (SPEC §8).
    assert response.status_code == 303
    assert response["Location"]
    assert Lead.objects.get().email == "ana@example.com"
    _assert_lean(response)


def test_the_optin_errors_and_unknown_api_paths_are_lean_too(api_key):
    client = APIClient(enforce_csrf_checks=True)
    refused = client.post(
        "/api/opt-in/submit", {"email": "x"}, format="json", HTTP_X_API_KEY=api_key.plaintext
    )
    assert refused.status_code == 400
    assert refused.json()["message"]
    _assert_lean(refused)
    missing = client.get("/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/json"
    _assert_lean(missing)


def test_the_admin_keeps_sessions_and_csrf(admin_user):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/admin/login/")
    assert page.status_code == 200
    assert hasattr(page.wsgi_request, "session")
    assert "csrftoken" in page.cookies
    forged = client.post("/admin/login/", {"username": "admin", "password": "password"})
    assert forged.status_code == 403
    assert "_auth_user_id" not in client.session
    token = page.cookies["csrftoken"].value
    signed_in = client.post(
        "/admin/login/?next=/admin/",
        {"username": "admin", "password": "password", "csrfmiddlewaretoken": token},
    )
    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(admin_user.pk)
    assert client.get("/admin/").status_code == 200
