"""Rate limiting shared by both surfaces: client IP, quota check, fail-open on cache errors."""

import hashlib
import logging
import math
import time

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from rest_framework.exceptions import Throttled

logger = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the entry the trusted proxies appended.

    With N trusted proxies, the Nth address from the right of X-Forwarded-For is the one our
    own outermost proxy saw; anything left of it is client-supplied and can be spoofed, so a
    forged header never changes whose quota a request counts against.
    """
    remote: str = request.META.get("REMOTE_ADDR", "") or "unknown"
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    header: str = request.META.get("HTTP_X_FORWARDED_FOR", "")
    forwarded = [part.strip() for part in header.split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote
    return forwarded[-proxies]


def _spent_key(group: str, key: str) -> str:
    # Hashed, as django-ratelimit's own keys are: `key` may be long client input (a username).
    return "rl-spent:" + hashlib.sha256(f"{group}:{key}".encode()).hexdigest()


def enforce_rate_limit(
    request: HttpRequest, *, group: str, key: str, rate: str, increment: bool = True
) -> None:
    """Count this request against `key` in `group`; raise Throttled past `rate` (N/period).

    With `increment=False` it only looks, in one cache read: raise if a counting call has
    already found the quota spent (that call leaves a marker until its window ends). If the
    cache cannot be reached the request goes through and the failure is logged: a lead is
    worth more than a limit.
    """
    cache = caches[settings.RATELIMIT_USE_CACHE]
    try:
        if not increment:
            # The marker holds the end of the spent window, on this clock (django-ratelimit's
            # windows are on it too); its cache timeout may outlast that by under a second.
            spent_until = cache.get(_spent_key(group, key))
            if spent_until is not None and spent_until > time.time():
                raise Throttled(wait=max(1, math.ceil(spent_until - time.time())))
            return
        usage = get_usage(
            request, group=group, key=lambda _group, _request: key, rate=rate, increment=True
        )
        if usage is not None and usage["should_limit"]:
            # django-ratelimit labels a window by its last whole second: it ends one later.
            spent_until = int(time.time()) + usage["time_left"] + 1
            timeout = max(1, math.ceil(spent_until - time.time()))
            cache.set(_spent_key(group, key), spent_until, timeout)
            raise Throttled(wait=max(1, usage["time_left"]))
    except Throttled:
        raise
    except Exception:
        logger.warning("rate limit cache unavailable; letting %s through", group, exc_info=True)
