"""Fixtures for the workspace, profile and API key admin tests."""

from datetime import timedelta

import pytest
from django.utils import timezone

from workspaces.models import ApiKey
from workspaces.services import api_key_revoke
from workspaces.tests.factories import ApiKeyFactory


@pytest.fixture
def revoked_key(workspace):
    key = ApiKeyFactory(workspace=workspace, name="old zapier")
    api_key_revoke(api_key=key)
    return key


@pytest.fixture
def expired_key(workspace):
    key = ApiKeyFactory(workspace=workspace, name="trial", expires_in_days=1)
    now = timezone.now()
    ApiKey.objects.filter(pk=key.pk).update(
        created_at=now - timedelta(days=3), expires_at=now - timedelta(days=1)
    )
    key.refresh_from_db()
    return key
