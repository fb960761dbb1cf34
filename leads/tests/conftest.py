"""Fixtures for the lead admin tests."""

from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import Lead
from leads.tests.factories import LeadFactory
from optin.tests.factories import OptInFactory, QuestionAnswerFactory
from workspaces.tests.factories import ProfileFactory, WorkspaceFactory


@pytest.fixture(autouse=True)
def plain_static_files(settings):
    """Admin pages link static files; tests have no collectstatic manifest to hash them from."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


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
