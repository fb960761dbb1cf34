"""API keys: a use stamps the key that was used and no other (the tests `make mutation`
found missing; see TESTING.md)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from workspaces.models import ApiKey
from workspaces.services import LAST_USED_RESOLUTION, api_key_mark_used
from workspaces.tests.factories import ApiKeyFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def _last_used(*keys: ApiKey) -> list:
    return [ApiKey.objects.get(pk=key.pk).last_used_at for key in keys]


def test_marking_a_key_used_stamps_that_key_only(workspace):
    used = ApiKeyFactory(workspace=workspace)
    sibling = ApiKeyFactory(workspace=workspace)
    elsewhere = ApiKeyFactory(workspace=WorkspaceFactory())
    long_ago = timezone.now() - timedelta(days=3)
    ApiKey.objects.filter(pk=elsewhere.pk).update(last_used_at=long_ago)

    api_key_mark_used(api_key=used)

    stamped, untouched, old = _last_used(used, sibling, elsewhere)
    assert stamped is not None
    assert abs(stamped - timezone.now()) < timedelta(seconds=5)
    assert untouched is None
    assert old == long_ago
    assert used.last_used_at == stamped


def test_an_authenticated_request_stamps_only_the_key_it_presented(workspace):
    used = ApiKeyFactory(workspace=workspace)
    sibling = ApiKeyFactory(workspace=workspace)
    body = {"email": "jane@example.com", "first_name": "Jane", "source": "LANDING_PAGE"}

    response = APIClient().post(
        "/api/opt-in/submit", body, format="json", HTTP_X_API_KEY=used.plaintext
    )

    assert response.status_code == 201
    stamped, untouched = _last_used(used, sibling)
    assert stamped is not None
    assert untouched is None


@pytest.mark.parametrize(
    ("age", "restamped"),
    [
        (timedelta(seconds=30), False),
        (LAST_USED_RESOLUTION - timedelta(seconds=2), False),
        (LAST_USED_RESOLUTION + timedelta(seconds=2), True),
        (timedelta(days=1), True),
    ],
)
def test_a_key_is_stamped_again_only_once_its_stamp_is_a_minute_old(api_key, age, restamped):
    before = timezone.now() - age
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=before)
    api_key.refresh_from_db()

    api_key_mark_used(api_key=api_key)

    (after,) = _last_used(api_key)
    assert (after != before) is restamped
    if restamped:
        assert after > before
    assert api_key.last_used_at == after


@pytest.mark.parametrize("stale", [None, timedelta(days=1)])
def test_a_stale_copy_does_not_move_a_fresh_stamp_back_or_forward(api_key, stale):
    fresh = timezone.now() - timedelta(seconds=10)
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=fresh)
    api_key.last_used_at = None if stale is None else timezone.now() - stale

    api_key_mark_used(api_key=api_key)

    assert _last_used(api_key) == [fresh]
