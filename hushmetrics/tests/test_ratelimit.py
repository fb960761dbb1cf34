"""Rate limiting and the client's address, as the HTTP answers and the cache show them: whose
quota a request spends behind proxies, and what a 429 tells the client (the tests
`make mutation` found missing; see TESTING.md). Forged-header basics are in test_security.py.
"""

import logging
import time
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from rest_framework.test import APIClient

from hushmetrics.tests.redis_monitor import command_names, redis_commands, redis_url
from leads.models import Lead
from workspaces.tests.factories import ApiKeyFactory

pytestmark = pytest.mark.django_db

LIMIT = 3
BAD_KEY = "sk_live_" + "A" * 40
SUBMIT = "/api/opt-in/submit"
OPTIN = {"email": "jane@example.com", "first_name": "Jane", "source": "LANDING_PAGE"}


@pytest.fixture
def create_lead(settings, workspace):
    """POST /v1/create-lead with the given META; the status code. LIMIT an hour per client."""
    settings.RATE_LIMIT_CREATE_LEAD = f"{LIMIT}/h"
    client = APIClient()

    def send(**meta: Any) -> int:
        body = {"workspace_id": str(workspace.id), "name": "Ana"}
        return client.post("/v1/create-lead", body, format="json", **meta).status_code

    return send


# --- client_ip behind TRUSTED_PROXY_COUNT proxies -------------------------------------------


def test_behind_a_proxy_a_rotated_left_part_without_spaces_never_resets_the_quota(
    settings, create_lead
):
    settings.TRUSTED_PROXY_COUNT = 1
    statuses = [
        create_lead(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"198.51.100.{n},203.0.113.7")
        for n in range(LIMIT + 3)
    ]

    assert statuses == [201] * LIMIT + [429] * 3
    # The client the proxy saw is the one held back: another one is not.
    assert create_lead(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.8") == 201


def test_behind_a_proxy_spaces_and_tabs_around_the_entries_are_the_same_client(
    settings, create_lead
):
    settings.TRUSTED_PROXY_COUNT = 1
    spellings = [
        "203.0.113.7",
        " 203.0.113.7 ",
        "198.51.100.1 ,203.0.113.7",
        "198.51.100.2,\t203.0.113.7\t",
        "198.51.100.3 , , 203.0.113.7",
        "203.0.113.7,",
    ]
    statuses = [
        create_lead(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
        for forwarded in spellings
    ]

    assert statuses == [201] * LIMIT + [429] * (len(spellings) - LIMIT)
    assert Lead.objects.count() == LIMIT


def test_behind_a_proxy_a_request_without_x_forwarded_for_counts_against_its_own_address(
    settings, create_lead
):
    settings.TRUSTED_PROXY_COUNT = 1
    first = [create_lead(REMOTE_ADDR="192.0.2.10") for _ in range(LIMIT + 1)]
    # Another peer without the header (a health check, a direct hit) has a quota of its own.
    second = [create_lead(REMOTE_ADDR="192.0.2.11") for _ in range(LIMIT + 1)]
    empty = create_lead(REMOTE_ADDR="192.0.2.12", HTTP_X_FORWARDED_FOR="")
    blank = create_lead(REMOTE_ADDR="192.0.2.13", HTTP_X_FORWARDED_FOR=" , ")

    assert first == [201] * LIMIT + [429]
    assert second == [201] * LIMIT + [429]
    assert (empty, blank) == (201, 201)


def test_behind_two_proxies_the_entry_the_outer_proxy_appended_is_the_client(settings, create_lead):
    settings.TRUSTED_PROXY_COUNT = 2
    outer, inner = "10.0.0.2", "10.0.0.1"
    # client, then what our outer proxy appended (the client), then our inner proxy's view.
    rotated = [
        create_lead(REMOTE_ADDR=inner, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.7, {outer}")
        for n in range(LIMIT)
    ]
    # Exactly as many entries as proxies: the leftmost is still the client's.
    exact = create_lead(REMOTE_ADDR=inner, HTTP_X_FORWARDED_FOR=f"203.0.113.7, {outer}")
    other = create_lead(REMOTE_ADDR=inner, HTTP_X_FORWARDED_FOR=f"203.0.113.8, {outer}")

    assert rotated == [201] * LIMIT
    assert exact == 429
    assert other == 201


def test_behind_two_proxies_a_shorter_header_counts_against_the_peer(settings, create_lead):
    settings.TRUSTED_PROXY_COUNT = 2
    # One entry where two proxies should have written two: nothing in it is trusted.
    statuses = [
        create_lead(REMOTE_ADDR="192.0.2.20", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        for n in range(LIMIT + 1)
    ]

    assert statuses == [201] * LIMIT + [429]
    assert create_lead(REMOTE_ADDR="192.0.2.21", HTTP_X_FORWARDED_FOR="198.51.100.0") == 201


# --- Retry-After: present and within the window, on both paths ------------------------------


# Another guess at the same key: the same public prefix, another secret.
BAD_KEY_AGAIN = "sk_live_" + "A" * 8 + "B" * 32


def _spend_auth_failures(api_client: APIClient, api_key, limit: int):
    """`limit` rejected keys of one prefix (401s), one more (the counting path's 429), then
    another guess at that prefix (the marker path's 429, refused before it is counted). That
    a valid key from the same address is never refused for them: optin/tests/test_auth.py."""
    rejected = [
        api_client.post(SUBMIT, OPTIN, format="json", HTTP_X_API_KEY=BAD_KEY) for _ in range(limit)
    ]
    counted = api_client.post(SUBMIT, OPTIN, format="json", HTTP_X_API_KEY=BAD_KEY)
    marked = api_client.post(SUBMIT, OPTIN, format="json", HTTP_X_API_KEY=BAD_KEY_AGAIN)
    assert [response.status_code for response in rejected] == [401] * limit
    return counted, marked


def test_a_429_says_when_to_retry_within_the_window_on_both_paths(settings, api_key):
    settings.RATE_LIMIT_AUTH_FAILURES = "2/m"

    counted, marked = _spend_auth_failures(APIClient(), api_key, 2)

    for response in (counted, marked):
        assert response.status_code == 429
        assert 1 <= int(response["Retry-After"]) <= 60
    assert not Lead.objects.exists()


def test_both_429s_of_one_spent_quota_tell_the_same_wait(settings, api_key):
    # An hour's window: the wait left is anything up to 3600 s, and both answers must tell it.
    settings.RATE_LIMIT_AUTH_FAILURES = "2/h"

    counted, marked = _spend_auth_failures(APIClient(), api_key, 2)

    assert (counted.status_code, marked.status_code) == (429, 429)
    counted_wait, marked_wait = int(counted["Retry-After"]), int(marked["Retry-After"])
    assert 1 <= counted_wait <= 3600
    assert 1 <= marked_wait <= 3600
    # The marker ends one second after the counter's last whole second: at most 1 s apart.
    assert 0 <= marked_wait - counted_wait <= 1


def _within_one_second(api_client_factory, api_key):
    """`_spend_auth_failures` inside one one-second window (a few tries on a busy machine)."""
    for _attempt in range(3):
        # Start just after a second begins, so all four requests share its window.
        time.sleep(1 - time.time() % 1 + 0.01)
        started = time.time()
        counted, marked = _spend_auth_failures(api_client_factory(), api_key, 2)
        if int(time.time()) == int(started):
            return counted, marked
        caches["default"].clear()
    pytest.skip("the machine is too slow to send four requests within one second")


def test_with_a_one_second_window_a_429_says_retry_in_one_second(settings, api_key):
    settings.RATE_LIMIT_AUTH_FAILURES = "2/s"

    counted, marked = _within_one_second(APIClient, api_key)

    assert (counted.status_code, marked.status_code) == (429, 429)
    assert counted["Retry-After"] == "1"
    assert marked["Retry-After"] == "1"


def test_a_key_quota_429_says_when_to_retry_within_the_window(settings, api_key):
    settings.RATE_LIMIT_OPTIN = "1/h"
    client = APIClient()
    first = client.post(SUBMIT, OPTIN, format="json", HTTP_X_API_KEY=api_key.plaintext)
    second = client.post(SUBMIT, OPTIN, format="json", HTTP_X_API_KEY=api_key.plaintext)

    assert first.status_code == 201
    assert second.status_code == 429
    assert 1 <= int(second["Retry-After"]) <= 3600
    # The quota is the key's: another key of the workspace is not held back.
    other = ApiKeyFactory(workspace=api_key.workspace)
    assert client.post(
        SUBMIT, OPTIN, format="json", HTTP_X_API_KEY=other.plaintext
    ).status_code in (
        200,
        201,
    )


# --- in Redis: nothing the limiter writes lives past its window -----------------------------


def _redis():
    if django_settings.CACHES["default"]["BACKEND"] != "django_redis.cache.RedisCache":
        pytest.skip("needs Redis: set REDIS_URL")
    from django_redis import get_redis_connection  # type: ignore[import-untyped]  # no stubs

    return get_redis_connection("default")


@pytest.mark.parametrize(("rate", "window_ms"), [("2/m", 60_000), ("2/s", 1_000)])
def test_in_redis_every_key_the_throttling_left_expires_within_its_window(
    settings, api_key, rate, window_ms
):
    redis = _redis()
    settings.RATE_LIMIT_AUTH_FAILURES = rate
    settings.RATE_LIMIT_OPTIN = "1000/h"
    counted, marked = _within_one_second(APIClient, api_key)
    assert (counted.status_code, marked.status_code) == (429, 429)

    ttls = {key.decode(): redis.pttl(key) for key in redis.keys("*")}
    counter_prefix = ":" + getattr(settings, "RATELIMIT_CACHE_PREFIX", "rl:")
    markers = {key: ttl for key, ttl in ttls.items() if counter_prefix not in key}
    counters = {key: ttl for key, ttl in ttls.items() if counter_prefix in key}
    assert markers, ttls  # the spent quota left its marker
    assert counters, ttls
    # -1 would be a key that never expires: one per throttled address, forever.
    assert all(0 < ttl <= window_ms for ttl in markers.values()), markers
    # django-ratelimit's own counters: the window plus its documented 5 s of slack.
    assert all(0 < ttl <= window_ms + 5_000 for ttl in counters.values()), counters


# --- a cache that is down: the lead goes through, and the operator is told why --------------


def test_a_cache_that_is_down_lets_the_lead_through_and_logs_the_error(settings, workspace, caplog):
    from django.test import override_settings

    from hushmetrics.tests.caches import unreachable_redis

    with override_settings(CACHES=unreachable_redis(), RATE_LIMIT_CREATE_LEAD="1/h"):
        client = APIClient()
        body = {"workspace_id": str(workspace.id), "name": "Ana"}
        statuses = [client.post("/v1/create-lead", body, format="json").status_code for _ in "ab"]

    assert statuses == [201, 201]
    assert Lead.objects.count() == 2
    records = [r for r in caplog.records if r.name == "hushmetrics.ratelimit"]
    assert [r.getMessage() for r in records] == [
        "rate limit cache unavailable; letting create-lead through"
    ] * 2
    assert all(r.levelname == "WARNING" and r.exc_info and r.exc_info[0] for r in records)


@pytest.mark.django_db
def test_a_spent_auth_failure_quota_is_answered_from_its_marker_with_one_redis_read(
    settings, caplog
):
    """Once a guesser's failures pass their quota, the 429 comes from the marker the counting
    call left: one GET, nothing counted, nothing logged (the look is what spares Redis a
    count per refused guess; a look that fails is logged as a cache outage)."""
    redis_url()
    settings.RATE_LIMIT_AUTH_FAILURES = "2/h"  # an hour's window: no boundary mid-test
    client = APIClient()
    body = {"email": "jane@example.com", "first_name": "Jane", "source": "LANDING_PAGE"}
    guess = "sk_live_BBBBBBBB"  # one key's public prefix; the secret varies

    def post(secret: str) -> Any:
        return client.post(
            "/api/opt-in/submit", body, format="json", HTTP_X_API_KEY=guess + secret * 32
        )

    with caplog.at_level(logging.WARNING, logger="hushmetrics.ratelimit"):
        assert [post(s).status_code for s in "ab"] == [401, 401]
        spent = post("c")  # the count passes the quota and leaves the marker
        with redis_commands() as commands:
            again = post("d")

    assert (spent.status_code, again.status_code) == (429, 429)
    # The same wait either way (the marker rounds up to the window's end: a second more at most).
    assert 0 <= int(again["Retry-After"]) - int(spent["Retry-After"]) <= 1
    assert 1 <= int(again["Retry-After"]) <= 3601
    assert command_names(commands) == ["GET"]
    assert [r.getMessage() for r in caplog.records if r.name == "hushmetrics.ratelimit"] == []
