"""The submit endpoint's keys and limits: one identical 401, per-key 429, fail-open cache."""

import time
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from hushmetrics.tests.caches import unreachable_redis
from leads.models import Lead
from optin.tests.conftest import SUBMIT_URL, table_counts
from workspaces.models import ApiKey
from workspaces.services import api_key_revoke
from workspaces.tests.factories import ApiKeyFactory

pytestmark = pytest.mark.django_db

INVALID_KEY = {"status": "error", "message": "Invalid or revoked API key"}
TOO_MANY = {"status": "error", "message": "Too many requests"}
BODY = {"email": "jane@example.com", "first_name": "Jane", "source": "LANDING_PAGE"}


def _post(api_client, **headers):
    return api_client.post(SUBMIT_URL, BODY, format="json", **headers)


def _assert_invalid_key(response) -> None:
    assert response.status_code == 401
    assert response.json() == INVALID_KEY
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.usefixtures("nothing_written", "api_key")
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_X_API_KEY": ""},
        {"HTTP_X_API_KEY": "   "},
        {"HTTP_X_API_KEY": "sk_live_unknown"},
        {"HTTP_X_API_KEY": "sk_live_" + "A" * 40},
        {"HTTP_AUTHORIZATION": "Bearer "},
        {"HTTP_AUTHORIZATION": "Bearer sk_live_" + "A" * 40},
        {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"},
    ],
    ids=[
        "no-key",
        "empty",
        "blank",
        "malformed",
        "unknown",
        "empty-bearer",
        "unknown-bearer",
        "basic",
    ],
)
def test_missing_or_unknown_key_is_the_one_401(api_client, headers):
    _assert_invalid_key(_post(api_client, **headers))


@pytest.mark.usefixtures("nothing_written")
def test_wrong_secret_is_the_one_401(api_client, api_key):
    key = api_key.plaintext
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    _assert_invalid_key(_post(api_client, HTTP_X_API_KEY=tampered))


def test_revoked_key_fails_on_the_very_next_request(api_client, api_key):
    assert _post(api_client, HTTP_X_API_KEY=api_key.plaintext).status_code == 201
    api_key_revoke(api_key=ApiKey.objects.get(pk=api_key.pk))
    written = table_counts()

    _assert_invalid_key(_post(api_client, HTTP_X_API_KEY=api_key.plaintext))
    _assert_invalid_key(_post(api_client, HTTP_AUTHORIZATION=f"Bearer {api_key.plaintext}"))
    assert table_counts() == written


@pytest.mark.usefixtures("nothing_written")
def test_expired_key_is_the_one_401(api_client, workspace):
    api_key = ApiKeyFactory(workspace=workspace, expires_in_days=1)
    now = timezone.now()
    ApiKey.objects.filter(pk=api_key.pk).update(
        created_at=now - timedelta(days=2), expires_at=now - timedelta(seconds=1)
    )
    _assert_invalid_key(_post(api_client, HTTP_X_API_KEY=api_key.plaintext))


def test_accepted_key_stamps_last_used_at_at_most_once_a_minute(api_client, api_key):
    assert api_key.last_used_at is None
    _post(api_client, HTTP_X_API_KEY=api_key.plaintext)
    first = ApiKey.objects.get(pk=api_key.pk).last_used_at
    assert first is not None

    _post(api_client, HTTP_X_API_KEY=api_key.plaintext)
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at == first

    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=first - timedelta(minutes=2))
    _post(api_client, HTTP_X_API_KEY=api_key.plaintext)
    last_used_at = ApiKey.objects.get(pk=api_key.pk).last_used_at
    assert last_used_at is not None and last_used_at > first


@pytest.mark.usefixtures("nothing_written")
def test_a_refused_body_leaves_the_key_unstamped(api_client, api_key):
    response = api_client.post(
        SUBMIT_URL, {**BODY, "source": "SMS"}, format="json", HTTP_X_API_KEY=api_key.plaintext
    )

    assert response.status_code == 400
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at is None


def test_the_key_decides_the_workspace(api_client, api_key):
    other_key = ApiKeyFactory()
    response = _post(api_client, HTTP_X_API_KEY=other_key.plaintext)

    assert Lead.objects.get(pk=response.json()["data"]["lead_id"]).workspace == other_key.workspace
    assert not Lead.objects.filter(workspace=api_key.workspace).exists()


def test_429_with_the_documented_body_once_a_key_passes_its_limit(api_client, api_key, settings):
    settings.RATE_LIMIT_OPTIN = "3/m"
    for index in range(3):
        body = {**BODY, "external_reference": f"ref-{index}"}
        response = api_client.post(
            SUBMIT_URL, body, format="json", HTTP_X_API_KEY=api_key.plaintext
        )
        assert response.status_code in (200, 201)
    written = table_counts()

    response = _post(api_client, HTTP_X_API_KEY=api_key.plaintext)

    assert response.status_code == 429
    assert response.json() == TOO_MANY
    assert 1 <= int(response["Retry-After"]) <= 60
    assert table_counts() == written
    # Every other key keeps its own quota.
    other = ApiKeyFactory(workspace=api_key.workspace)
    assert _post(api_client, HTTP_X_API_KEY=other.plaintext).status_code == 200


def test_invalid_bodies_count_against_the_key_too(api_client, api_key, settings):
    settings.RATE_LIMIT_OPTIN = "2/m"
    for _ in range(2):
        response = api_client.post(SUBMIT_URL, {}, format="json", HTTP_X_API_KEY=api_key.plaintext)
        assert response.status_code == 400
    response = _post(api_client, HTTP_X_API_KEY=api_key.plaintext)
    assert response.status_code == 429
    assert response.json() == TOO_MANY


def test_rejected_keys_are_rate_limited_per_ip_and_key_prefix(api_client, api_key, settings):
    settings.RATE_LIMIT_AUTH_FAILURES = "2/m"
    guess = "sk_live_AAAAAAAA"  # one key's public prefix; the guesser varies the secret
    for secret in ("a" * 32, "b" * 32):
        _assert_invalid_key(_post(api_client, HTTP_X_API_KEY=guess + secret))

    response = _post(api_client, HTTP_X_API_KEY=guess + "c" * 32)
    assert response.status_code == 429
    assert response.json() == TOO_MANY
    assert 1 <= int(response["Retry-After"]) <= 60
    # A spoofed X-Forwarded-For does not reset the quota.
    spoofed = _post(api_client, HTTP_X_API_KEY=guess + "d" * 32, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert spoofed.status_code == 429
    assert table_counts() == (0, 0, 0)


def test_a_valid_key_is_never_refused_for_other_keys_failures_from_its_ip(
    api_client, api_key, settings
):
    # A NAT or an integration platform: one address, many customers, one of them misconfigured.
    settings.RATE_LIMIT_AUTH_FAILURES = "2/m"
    for _ in range(5):
        _post(api_client, HTTP_X_API_KEY="sk_live_" + "A" * 40)
    assert _post(api_client, HTTP_X_API_KEY="sk_live_" + "A" * 40).status_code == 429

    response = _post(api_client, HTTP_X_API_KEY=api_key.plaintext)
    assert response.status_code == 201
    # Another key's failures from the same address have a quota of their own.
    _assert_invalid_key(_post(api_client, HTTP_X_API_KEY="sk_live_" + "B" * 40))


def test_a_spent_auth_failure_quota_reopens_when_its_window_ends(api_client, api_key, settings):
    settings.RATE_LIMIT_AUTH_FAILURES = "2/s"
    bad = "sk_live_" + "A" * 40
    # Start at the beginning of a one-second window, so the requests share it.
    time.sleep(1 - time.time() % 1 + 0.01)
    for _ in range(2):
        _assert_invalid_key(_post(api_client, HTTP_X_API_KEY=bad))
    assert _post(api_client, HTTP_X_API_KEY=bad).status_code == 429

    time.sleep(1 - time.time() % 1 + 0.05)  # the next window
    _assert_invalid_key(_post(api_client, HTTP_X_API_KEY=bad))


def test_cache_down_lets_the_submission_through(api_client, api_key, caplog):
    # The production Redis client pointed at a port nothing listens on: every call fails.
    unreachable = unreachable_redis()
    with override_settings(CACHES=unreachable, RATE_LIMIT_OPTIN="1/m"):
        first = _post(api_client, HTTP_X_API_KEY=api_key.plaintext)
        second = _post(api_client, HTTP_X_API_KEY=api_key.plaintext)

    assert (first.status_code, second.status_code) == (201, 200)
    assert "rate limit cache unavailable" in caplog.text
