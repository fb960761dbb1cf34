"""Fixtures and helpers for the lead API tests."""

import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from leads.models import Lead
from leads.parsers import PlainTextParser
from leads.tests.factories import LeadFactory
from optin.tests.factories import OptInFactory, QuestionAnswerFactory
from workspaces.tests.factories import ProfileFactory, WorkspaceFactory

SAMPLES_DIR = Path(__file__).parent / "fixtures" / "form-builders"
SAMPLE_NAMES = sorted(path.name for path in SAMPLES_DIR.glob("*.json"))


def load_sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES_DIR / name).read_text())


def sample_fields(sample: dict[str, Any]) -> dict[str, Any]:
    """The sample's body as the webhook view hands it to `normalise`."""
    body = sample["body"]
    if isinstance(body, list):  # a JSON array of one object (Zapier's "wrap in array")
        (body,) = body
    if sample["content_type"].startswith("text/plain"):
        parsed = PlainTextParser().parse(io.BytesIO(body.encode()))
        return {key: values[0] if len(values) == 1 else values for key, values in parsed.lists()}
    if isinstance(body, str):
        parsed = parse_qs(body, keep_blank_values=True)
        return {key: values[0] if len(values) == 1 else values for key, values in parsed.items()}
    return dict(body)


def sample_files(sample: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The sample's uploads as the webhook view describes them to `normalise`."""
    return {
        key: {"name": file["name"], "size": file["size"], "content_type": file["content_type"]}
        for key, file in sample.get("files", {}).items()
    }


def meta_headers(headers: dict[str, str]) -> dict[str, str]:
    """HTTP headers as Django test-client WSGI keys."""
    return {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}


def post_sample(client: APIClient, url: str, sample: dict[str, Any], **extra: Any) -> Any:
    """Send a form-builder sample exactly as the builder does."""
    headers: dict[str, Any] = meta_headers(sample["headers"])
    headers.update(extra)
    content_type = sample["content_type"]
    if content_type.startswith("multipart/"):
        uploads = {
            key: SimpleUploadedFile(file["name"], b"%" * file["size"], file["content_type"])
            for key, file in sample.get("files", {}).items()
        }
        return client.post(url, {**sample["body"], **uploads}, format="multipart", **headers)
    body = sample["body"] if isinstance(sample["body"], str) else json.dumps(sample["body"])
    return client.post(url, body, content_type=content_type, **headers)


def assert_lead_matches(lead: dict[str, Any], expect: dict[str, Any]) -> None:
    """Every `expect` entry about the stored lead (status code and location are HTTP's)."""
    for key in ("name", "email", "phone", "page_url", "utm"):
        if key in expect:
            assert lead[key] == expect[key], key
    extra = lead["extra_data"] or {}
    for key, value in expect.get("extra_data_has", {}).items():
        assert extra.get(key) == value, key
    for key in expect.get("extra_data_has_keys", []):
        assert key in extra, key


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def webhook_url(workspace) -> str:
    return f"/v1/webhook/{workspace.id}"


@pytest.fixture
def other_workspace():
    return WorkspaceFactory(name="Other Co")


@pytest.fixture
def spam_lead(workspace):
    return LeadFactory(workspace=workspace, name="Spam Bot", email="bot@spam.test", is_spam=True)


@pytest.fixture
def lead_with_history(workspace):
    """A lead with two opt-ins (older, newer); the newer has three answers saved out of order."""
    lead = LeadFactory(workspace=workspace, name="Jane Doe", email="jane.doe@example.com")
    setter = ProfileFactory(workspace=workspace, name="Sam Setter")
    older = OptInFactory(lead=lead, source="CALENDLY", utm_campaign="spring-webinar")
    newer = OptInFactory(lead=lead, source="TYPEFORM", setter=setter, utm_source="linkedin")
    type(older).objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=2))
    for position, question in [(3, "Budget?"), (1, "Company size?"), (2, "Timeline?")]:
        QuestionAnswerFactory(
            opt_in=newer, question=question, answer=f"answer {position}", position=position
        )
    QuestionAnswerFactory(opt_in=older, question="Webinar topic?", answer="CRM", position=1)
    return lead


def make_leads(workspace, count: int, **kwargs) -> list[Lead]:
    return [LeadFactory(workspace=workspace, **kwargs) for _ in range(count)]
