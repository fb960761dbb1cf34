"""django-redis's client for django-ratelimit's counters: one Redis round trip per count.

django-ratelimit counts a request with `cache.add(key, 1, period + 5)` and, when the key
exists (every request after a window's first), `cache.incr(key)`: two round trips. This
client, named by the `ratelimit` cache alias's CLIENT_CLASS, answers that `add` with one
script that creates the key if it is missing and increments it, atomically; when the key
already existed it returns False as `add` must and keeps the count it read for the `incr`
that django-ratelimit sends next, which is answered from memory. django-ratelimit's keys,
windows and expiry are untouched; every other call (the spent markers' get and set) is
django-redis's own.
"""

import threading
from typing import Any

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django_redis.client import DefaultClient  # type: ignore[import-untyped]  # no stubs
from django_redis.exceptions import ConnectionInterrupted  # type: ignore[import-untyped]
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

# SET NX keeps the first count's expiry, as `add` does; INCR answers the count. In one script
# no other client can run between them, nor can the key expire there (which would leave an
# INCR-created counter without an expiry).
_COUNT = """
redis.call('SET', KEYS[1], 0, 'NX', 'PX', ARGV[1])
return redis.call('INCR', KEYS[1])
"""

# What django-redis's own calls turn into ConnectionInterrupted (its cache re-raises the cause).
_REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError, ResponseError, TimeoutError)


class CountingClient(DefaultClient):
    """`add(key, 1)` on a django-ratelimit counter counts it; the next `incr(key)` is free.

    Only django-ratelimit's counting call has that shape (a key under RATELIMIT_CACHE_PREFIX,
    the value 1, which is `get_usage(increment=True)`'s first value; its look-only call adds
    0), and it always sends the `incr` right after a False. Anything else is a plain add.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The count an `add` read, for the same thread's next `incr` of that key: (key, count).
        self._counted = threading.local()
        self._script: Any = None

    def add(
        self,
        key: Any,
        value: Any,
        timeout: Any = DEFAULT_TIMEOUT,
        version: int | None = None,
        client: Any = None,
    ) -> bool:
        if timeout is DEFAULT_TIMEOUT:
            timeout = self._backend.default_timeout
        counting = (
            type(value) is int
            and value == 1
            and client is None
            and timeout is not None
            and timeout > 0
            and str(key).startswith(getattr(settings, "RATELIMIT_CACHE_PREFIX", "rl:"))
        )
        if not counting:
            return bool(super().add(key, value, timeout, version=version, client=client))
        self._counted.last = None
        nkey = self.make_key(key, version=version)
        redis = self.get_client(write=True)
        try:
            if self._script is None:
                self._script = redis.register_script(_COUNT)
            count = int(self._script(keys=[nkey], args=[int(timeout * 1000)], client=redis))
        except _REDIS_ERRORS as e:
            raise ConnectionInterrupted(connection=redis) from e
        if count == 1:
            # This request created the counter: `add` succeeded and get_usage counts 1.
            return True
        self._counted.last = (nkey, count)
        return False

    def incr(
        self,
        key: Any,
        delta: int = 1,
        version: int | None = None,
        client: Any = None,
        ignore_key_check: bool = False,
    ) -> int:
        last = getattr(self._counted, "last", None)
        self._counted.last = None
        if last is not None and delta == 1 and client is None:
            nkey, count = last
            if nkey == self.make_key(key, version=version):
                return int(count)
        return int(
            super().incr(
                key, delta, version=version, client=client, ignore_key_check=ignore_key_check
            )
        )
