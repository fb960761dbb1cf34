"""Cache settings for tests that need Redis to be down, for real."""

from typing import Any

from django.conf import settings


def unreachable_redis() -> dict[str, Any]:
    """CACHES with the production backends (django-redis, and its counting client for the
    rate limits) pointed at a port nothing listens on, so every cache call fails; the
    per-process "local" cache is kept."""
    down: dict[str, Any] = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:18499/4",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
    }
    counting = {"CLIENT_CLASS": "hushmetrics.ratelimit_cache.CountingClient"}
    return {
        **settings.CACHES,
        "default": down,
        "ratelimit": {**down, "OPTIONS": {**down["OPTIONS"], **counting}},
    }
