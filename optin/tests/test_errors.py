"""Every error of the opt-in surface is its JSON envelope, never an HTML page."""

import pytest

from optin.tests.conftest import SUBMIT_URL

pytestmark = pytest.mark.django_db

BODY = {"email": "jane@example.com", "first_name": "Jane", "source": "LANDING_PAGE"}


def _assert_envelope(response, status: int, message: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "error", "message": message}


@pytest.mark.parametrize("path", ["/api/opt-in/unknown", "/api/opt-in/submit/extra", "/api/opt-in"])
def test_unknown_path_is_a_json_404(api_client, api_key, path):
    response = api_client.post(path, BODY, format="json", HTTP_X_API_KEY=api_key.plaintext)
    _assert_envelope(response, 404, "Not found")


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_methods_are_a_json_405(api_client, api_key, method):
    response = getattr(api_client, method)(SUBMIT_URL, HTTP_X_API_KEY=api_key.plaintext)
    _assert_envelope(response, 405, f"Method {method.upper()} not allowed")
    assert response["Allow"] == "POST, OPTIONS"


def test_body_over_the_limit_is_a_json_413(api_client, api_key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = {**BODY, "questions_answers": [{"question": "Q?", "answer": "a" * 2000}]}
    response = api_client.post(SUBMIT_URL, body, format="json", HTTP_X_API_KEY=api_key.plaintext)
    _assert_envelope(response, 413, "Request body too large (limit 1024 bytes)")


@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        ("application/x-www-form-urlencoded", "email=jane%40example.com"),
        ("text/plain", '{"email": "jane@example.com"}'),
        ("multipart/form-data; boundary=x", "--x--"),
    ],
)
def test_other_content_types_are_a_json_415_that_says_to_send_json(
    api_client, api_key, content_type, payload
):
    response = api_client.post(
        SUBMIT_URL, payload, content_type=content_type, HTTP_X_API_KEY=api_key.plaintext
    )
    _assert_envelope(
        response,
        415,
        f'Unsupported media type "{content_type}" in request. Send the body as application/json.',
    )


def test_unexpected_failure_is_a_json_500_without_a_trace(api_client, api_key, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("optin.apis.optin_submit", explode)
    response = api_client.post(SUBMIT_URL, BODY, format="json", HTTP_X_API_KEY=api_key.plaintext)
    _assert_envelope(response, 500, "Internal server error")
    assert b"secret internals" not in response.content
