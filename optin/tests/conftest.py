"""Fixtures for the opt-in API tests."""

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from leads.models import Lead
from leads.tests.conftest import lead_with_history  # noqa: F401  (shared with the lead admin tests)
from optin.models import OptIn, QuestionAnswer

SUBMIT_URL = "/api/opt-in/submit"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")

# The documented request body (SPEC §4, api-docs/opt-in-api.txt), every field filled in.
DOCUMENTED_BODY: dict[str, Any] = {
    "email": "jane@example.com",
    "first_name": "Jane",
    "last_name": "Doe",
    "source": "TYPEFORM",
    "phone_e164": "+14155552671",
    "phone_country": "US",
    "provider_form_id": "frm_123",
    "provider_form_name": "Coaching application",
    "external_reference": "typeform-submission-xyz789",
    "questions_answers": [
        {
            "question": "What is your biggest challenge?",
            "answer": "Generating consistent leads",
            "position": 0,
        }
    ],
    "traffic": {
        "utm_source": "facebook",
        "utm_medium": "paid",
        "utm_campaign": "q1-coaching",
        "utm_content": "video-ad-1",
        "utm_term": "coaching program",
        "referrer": "https://facebook.com",
        "landing_page": "https://yoursite.com/apply",
    },
}


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def submit(api_client: APIClient, api_key) -> Callable[..., Any]:
    """POST a JSON body to the submit endpoint with the workspace's key (or `key=`)."""

    def _submit(body: Any, *, key: str | None = None, path: str = SUBMIT_URL, **headers: Any):
        return api_client.post(
            path, body, format="json", HTTP_X_API_KEY=key or api_key.plaintext, **headers
        )

    return _submit


def table_counts() -> tuple[int, int, int]:
    return Lead.objects.count(), OptIn.objects.count(), QuestionAnswer.objects.count()


@pytest.fixture
def nothing_written(db) -> Iterator[None]:
    """Asserts, when the test ends, that no lead, opt-in or answer was added or changed."""
    before = table_counts()
    leads_before = list(Lead.objects.order_by("id").values())
    yield
    assert table_counts() == before
    assert list(Lead.objects.order_by("id").values()) == leads_before
