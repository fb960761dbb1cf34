"""The bare floor (`make bench`, issue 18): a Django + DRF app with nothing of ours (but the
cache client of its second endpoint, below).

A separate project in the same repository: it parses the JSON body and inserts one row
with the ORM into a plain table of its own (bench/floor/models.py, no index but its key),
with no middleware, no authentication and a plain persistent connection. The app runs under
the same gunicorn flags against the same database server (the bench's own database), so the
ratio of an endpoint to it is what any Django implementation of lead ingestion could reach
here, against what ours does. Its second endpoint, `floor checked`, adds the rate limit and
the validation any such implementation needs (bench/floor/views.py).

    DJANGO_SETTINGS_MODULE=bench.floor.settings (bench/load_bench.py sets it)
"""

import os

import dj_database_url

SECRET_KEY = os.environ.get("SECRET_KEY", "floor-" + "x" * 50)
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["rest_framework", "bench.floor"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.floor.urls"
WSGI_APPLICATION = None
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hushmetrics_bench"),
        conn_max_age=600,
    )
}
# `floor checked`'s rate limit: django-ratelimit on django-redis, counting in one round trip.
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/8"),
        "OPTIONS": {"CLIENT_CLASS": "hushmetrics.ratelimit_cache.CountingClient"},
    }
}
RATELIMIT_USE_CACHE = "default"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}
LOGGING_CONFIG = None
