"""Watching the test Redis: which commands clients send to it, as Redis's MONITOR sees them.

Shared by the rate-limit tests that count round trips (test_ratelimit_cache.py,
test_ratelimit.py)."""

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings


def redis_url() -> str:
    """The test Redis's URL; the test is skipped without one."""
    if not django_settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL")
    return django_settings.REDIS_URL


@contextmanager
def redis_commands() -> Iterator[list[dict[str, Any]]]:
    """The commands clients send to the test Redis database while the block runs, as Redis's
    MONITOR shows them (one per round trip; the commands a script runs inside are left out)."""
    url = redis_url()
    db = redis.Redis.from_url(url).connection_pool.connection_kwargs.get("db", 0)
    marker = f"end-of-watch-{uuid.uuid4()}"
    seen: list[dict[str, Any]] = []
    watching = threading.Event()
    # Connected before the watch, so its handshake (SELECT) is not among what is seen.
    signal = redis.Redis.from_url(url)
    signal.ping()

    def watch() -> None:
        with redis.Redis.from_url(url).monitor() as monitor:
            watching.set()
            for command in monitor.listen():
                if marker in command["command"]:
                    return
                if command["db"] == db and command["client_type"] != "lua":
                    seen.append(command)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    assert watching.wait(5)
    yield seen
    signal.echo(marker)
    watcher.join(5)
    assert not watcher.is_alive()


def command_names(commands: list[dict[str, Any]]) -> list[str]:
    return [command["command"].split()[0].upper() for command in commands]
