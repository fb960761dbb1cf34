"""The rate limits' Redis client (hushmetrics/ratelimit_cache.py), against a real Redis: one
command per counted limit as Redis's MONITOR sees it, django-ratelimit's counts and expiry
unchanged across windows, exact counts from real threads, plain semantics for every other
call, and a Redis that stops and comes back."""

import socket
import subprocess
import threading
import time
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import caches
from django.test import RequestFactory, override_settings
from django_ratelimit.core import get_usage
from rest_framework.test import APIClient

from hushmetrics.tests.redis_monitor import command_names, redis_commands, redis_url
from leads.models import Lead

COUNTING_CLIENT = "hushmetrics.ratelimit_cache.CountingClient"


def _count(group: str = "g", value: str = "client", rate: str = "1000000/h") -> dict[str, Any]:
    """django-ratelimit's counting call, as hushmetrics.ratelimit.enforce_rate_limit sends it."""
    usage = get_usage(
        RequestFactory().post("/"),
        group=group,
        key=lambda _group, _request: value,
        rate=rate,
        increment=True,
    )
    assert usage is not None
    return usage


# --- one round trip per counted limit --------------------------------------------------------


def test_a_counted_limit_is_one_redis_command_whether_its_key_is_new_or_not():
    redis_url()
    _count(group="warm-up")  # the first call in a process loads the script (SCRIPT LOAD)

    with redis_commands() as first:
        usage_first = _count()
    with redis_commands() as later:
        usages_later = [_count() for _ in range(3)]

    assert command_names(first) == ["EVALSHA"]
    assert command_names(later) == ["EVALSHA"] * 3
    assert usage_first["count"] == 1
    assert [usage["count"] for usage in usages_later] == [2, 3, 4]


@pytest.mark.django_db
def test_each_endpoint_sends_one_redis_command_per_limit_it_counts(workspace, api_key):
    redis_url()
    client = APIClient()
    lead = {"workspace_id": str(workspace.id), "name": "Ana"}
    optin = {"email": "jane@example.com", "first_name": "Jane", "source": "LANDING_PAGE"}
    webhook = {"name": "Ana", "email": "ana@example.com"}

    def post(path: str, body: dict[str, str], **meta: Any) -> int:
        return client.post(path, body, format="json", **meta).status_code

    # Every limit's counter exists already (the usual case) and the script is loaded.
    post("/v1/create-lead", lead)
    post(f"/v1/webhook/{workspace.id}", webhook)
    post("/api/opt-in/submit", optin, HTTP_X_API_KEY=api_key.plaintext)

    with redis_commands() as create_lead:
        assert post("/v1/create-lead", lead) == 201
    with redis_commands() as webhook_commands:
        assert post(f"/v1/webhook/{workspace.id}", webhook) in (200, 201)
    with redis_commands() as optin_commands:
        assert post("/api/opt-in/submit", optin, HTTP_X_API_KEY=api_key.plaintext) == 200

    # create-lead counts the client; the webhook the client and the workspace; the opt-in
    # the API key. Each was an add and an incr (2 commands) before.
    assert command_names(create_lead) == ["EVALSHA"]
    assert command_names(webhook_commands) == ["EVALSHA"] * 2
    assert command_names(optin_commands) == ["EVALSHA"]


# --- django-ratelimit's counts and expiry, unchanged ------------------------------------------


def test_counts_restart_with_each_window_and_every_counter_expires_with_it():
    url = redis_url()
    connection = redis.Redis.from_url(url)
    # A two-second window: the calls below span two or three of them.
    counts = []
    started = time.monotonic()
    while time.monotonic() - started < 2.6:
        counts.append(_count(group="windows", rate="1000/2s")["count"])
        time.sleep(0.05)

    # Oldest first: the one created first has the least time left.
    keys = sorted(connection.keys("*rl:*"), key=connection.pttl)
    values = [int(connection.get(key) or 0) for key in keys]
    # Each window's counts run 1, 2, 3…; a new window starts again at 1.
    runs: list[int] = []
    for count in counts:
        if count == 1:
            runs.append(0)
        runs[-1] += 1
        assert count == runs[-1]
    assert len(runs) in (2, 3), runs
    # One counter per window, oldest first, holding exactly that window's count.
    assert values == runs
    # django-ratelimit's expiry: the window plus its 5 s of slack, from the window's first call.
    ttls = [connection.pttl(key) for key in keys]
    assert all(0 < ttl <= 7_000 for ttl in ttls), ttls


def test_a_new_counter_expires_a_window_and_five_seconds_after_its_first_count():
    url = redis_url()
    connection = redis.Redis.from_url(url)

    assert _count(group="expiry", rate="10/h")["count"] == 1
    (key,) = connection.keys("*rl:*")
    assert (3_600 + 5) * 1_000 - 2_000 < connection.pttl(key) <= (3_600 + 5) * 1_000
    assert _count(group="expiry", rate="10/h")["count"] == 2
    # Counting again keeps the first count's expiry, as django-ratelimit's add does.
    assert connection.pttl(key) <= (3_600 + 5) * 1_000 - 1


def test_a_look_only_call_does_not_count():
    redis_url()
    assert [_count(group="look")["count"] for _ in range(2)] == [1, 2]

    look = get_usage(
        RequestFactory().post("/"),
        group="look",
        key=lambda _group, _request: "client",
        rate="1000000/h",
        increment=False,
    )

    assert look is not None
    assert look["count"] == 2
    assert _count(group="look")["count"] == 3


def test_concurrent_counts_from_real_threads_are_exact_and_never_repeat():
    redis_url()
    threads, per_thread = 8, 25
    barrier = threading.Barrier(threads)
    counts: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def spend() -> None:
        try:
            barrier.wait(5)
            mine = [_count(group="race")["count"] for _ in range(per_thread)]
            with lock:
                counts.extend(mine)
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    workers = [threading.Thread(target=spend) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)

    assert not errors
    assert sorted(counts) == list(range(1, threads * per_thread + 1))
    assert _count(group="race")["count"] == threads * per_thread + 1


def test_one_client_shared_by_threads_gives_each_its_own_count():
    # get_usage's two calls, on one cache object shared by every thread: each thread's incr
    # answers the count its own add read, never another thread's.
    redis_url()
    cache = caches["ratelimit"]
    key = "rl:shared-by-threads"
    threads, per_thread = 8, 25
    barrier = threading.Barrier(threads)
    counts: list[int] = []
    lock = threading.Lock()

    def spend() -> None:
        barrier.wait(5)
        for _ in range(per_thread):
            count = 1 if cache.add(key, 1, 65) else cache.incr(key)
            with lock:
                counts.append(count)

    workers = [threading.Thread(target=spend) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)

    assert sorted(counts) == list(range(1, threads * per_thread + 1))
    assert cache.get(key) == threads * per_thread


# --- every other call keeps django-redis's meaning ---------------------------------------------


def test_other_calls_on_the_alias_are_plain_cache_calls():
    redis_url()
    cache: Any = caches["ratelimit"]  # django-redis's, with ttl()

    # The spent markers: a float, read back as set, with its timeout.
    cache.set("rl-spent:abc", 1234.5, 30)
    assert cache.get("rl-spent:abc") == 1234.5
    assert 0 < cache.ttl("rl-spent:abc") <= 30
    # add outside django-ratelimit's counters, or with another value, only adds.
    assert cache.add("rl-spent:new", 1, 30) is True
    assert cache.add("rl-spent:new", 1, 30) is False
    assert cache.get("rl-spent:new") == 1
    assert cache.add("rl:look-only", 0, 30) is True
    assert cache.add("rl:look-only", 0, 30) is False
    assert cache.get("rl:look-only") == 0
    # incr with no count remembered is Redis's INCR, and refuses a missing key as before.
    assert cache.incr("rl:look-only") == 1
    assert cache.incr("rl:look-only", 5) == 6
    with pytest.raises(ValueError, match="not found"):
        cache.incr("rl:missing")


def test_a_remembered_count_answers_only_the_next_incr_of_its_own_key():
    redis_url()
    cache = caches["ratelimit"]
    cache.add("rl:look-only", 6, 30)

    assert cache.add("rl:counted", 1, 30) is True
    assert cache.add("rl:counted", 1, 30) is False
    assert cache.incr("rl:look-only") == 7
    assert cache.incr("rl:counted") == 3  # the real INCR: the remembered 2 was dropped
    assert cache.get("rl:counted") == 3


def test_the_alias_is_django_redis_with_the_counting_client_on_the_default_redis():
    if not django_settings.REDIS_URL:
        # The quick start: local memory, the same store as the default cache, as before.
        assert django_settings.CACHES["ratelimit"]["BACKEND"] == (
            "django.core.cache.backends.locmem.LocMemCache"
        )
        caches["default"].set("rl:shared", 1)
        assert caches["ratelimit"].get("rl:shared") == 1
        return
    alias: dict[str, Any] = django_settings.CACHES["ratelimit"]
    assert alias["BACKEND"] == "django_redis.cache.RedisCache"
    assert alias["LOCATION"] == django_settings.CACHES["default"]["LOCATION"]
    assert alias["OPTIONS"]["CLIENT_CLASS"] == COUNTING_CLIENT
    assert django_settings.RATELIMIT_USE_CACHE == "ratelimit"


# --- a Redis that stops and comes back ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _redis_server(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(  # noqa: S603
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]  # noqa: S607
        + ["--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    ping = redis.Redis(port=port, socket_connect_timeout=0.2)
    for _ in range(50):
        try:
            ping.ping()
            return server
        except redis.ConnectionError:
            time.sleep(0.1)
    server.terminate()
    raise AssertionError("redis-server did not start")


@pytest.mark.django_db
def test_a_redis_that_stops_lets_leads_through_and_counting_resumes_when_it_returns(
    workspace, caplog
):
    redis_url()
    port = _free_port()
    own = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{port}/0",
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": 0.2,
            "SOCKET_TIMEOUT": 0.2,
            "CLIENT_CLASS": COUNTING_CLIENT,
        },
    }
    client = APIClient()
    body = {"workspace_id": str(workspace.id), "name": "Ana"}

    def post() -> int:
        return client.post("/v1/create-lead", body, format="json").status_code

    server = _redis_server(port)
    try:
        with override_settings(
            CACHES={**django_settings.CACHES, "ratelimit": own}, RATE_LIMIT_CREATE_LEAD="2/h"
        ):
            before = [post(), post()]
            server.terminate()
            server.wait(10)
            down = [post(), post()]
            # A new server: no counters and no script (the client loads it again).
            server = _redis_server(port)
            after = [post(), post(), post()]
    finally:
        server.terminate()
        server.wait(10)

    assert before == [201, 201]
    assert down == [201, 201]
    assert after == [201, 201, 429]
    assert Lead.objects.count() == 6
    records = [r for r in caplog.records if r.name == "hushmetrics.ratelimit"]
    assert [r.getMessage() for r in records] == [
        "rate limit cache unavailable; letting create-lead through"
    ] * 2
