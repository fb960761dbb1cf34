"""API keys: issuing says what is wrong and stores what was asked; a use stamps the key that
was used and no other (the tests `make mutation` found missing; see TESTING.md)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from workspaces import services
from workspaces.models import ApiKey
from workspaces.services import (
    LAST_USED_RESOLUTION,
    SECRET_LENGTH,
    api_key_issue,
    api_key_mark_used,
    api_key_verify,
)
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


# --- issuing: what staff are told, and what is stored ----------------------------------------


def _messages(error: ValidationError) -> dict[str, list[str]]:
    return error.message_dict


@pytest.mark.parametrize(
    ("kwargs", "messages"),
    [
        ({"name": "   "}, {"name": ["Key name must not be blank."]}),
        ({"name": "k" * 101}, {"name": ["Key name is too long (100 characters at most)."]}),
        (
            {"name": "k", "expires_in_days": 0},
            {"expires_in_days": ["Must be a positive number of days."]},
        ),
        (
            {"name": "k", "expires_in_days": -3},
            {"expires_in_days": ["Must be a positive number of days."]},
        ),
    ],
)
def test_issuing_with_bad_arguments_says_which_and_why(workspace, kwargs, messages):
    with pytest.raises(ValidationError) as error:
        api_key_issue(workspace=workspace, **kwargs)

    assert _messages(error.value) == messages
    assert not ApiKey.objects.exists()


def test_an_issued_key_stores_its_trimmed_name_and_expiry(workspace):
    longest = api_key_issue(workspace=workspace, name=" " + "k" * 100 + " ")
    expiring = api_key_issue(workspace=workspace, name="Zapier", expires_in_days=30)

    assert ApiKey.objects.get(pk=longest.api_key.pk).name == "k" * 100
    assert ApiKey.objects.get(pk=longest.api_key.pk).expires_at is None
    stored = ApiKey.objects.get(pk=expiring.api_key.pk)
    assert stored.name == "Zapier"
    assert stored.expires_at is not None
    assert abs(stored.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    assert api_key_verify(key=expiring.plaintext) == stored


def _draws(monkeypatch, prefixes: list[str]) -> None:
    """Make the key's random characters spell each of `prefixes` in turn (secret: 'x's)."""
    characters = iter("".join(prefix + "x" * SECRET_LENGTH for prefix in prefixes))
    monkeypatch.setattr(services.secrets, "choice", lambda _alphabet: next(characters))


def test_a_prefix_already_taken_is_drawn_again(workspace, monkeypatch):
    taken = api_key_issue(workspace=workspace, name="first").api_key.prefix
    _draws(monkeypatch, [taken, "Fresh123"])

    issued = api_key_issue(workspace=workspace, name="second")

    assert issued.api_key.prefix == "Fresh123"
    assert issued.plaintext == "sk_live_Fresh123" + "x" * SECRET_LENGTH
    assert ApiKey.objects.get(pk=issued.api_key.pk).name == "second"


def test_five_taken_prefixes_in_a_row_give_up_and_store_nothing(workspace, monkeypatch):
    taken = api_key_issue(workspace=workspace, name="first").api_key.prefix
    _draws(monkeypatch, [taken] * 5 + ["Fresh123"])

    with pytest.raises(RuntimeError, match="^could not draw a unique API key prefix$"):
        api_key_issue(workspace=workspace, name="second")

    assert list(ApiKey.objects.values_list("name", flat=True)) == ["first"]
