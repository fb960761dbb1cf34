"""Fixtures shared by every app's tests."""

import os
from datetime import timedelta

import pytest
from django.db import connection
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from hushmetrics.celery import app as celery_app
from leads.tests.factories import LeadFactory
from workspaces.tests.factories import ApiKeyFactory, ProfileFactory, WorkspaceFactory

# The `page` fixture: headless Chromium for the browser tests.
pytest_plugins = ["hushmetrics.tests.browser"]

# Property tests (Hypothesis, schemathesis) are bounded so the suite's time is: `dev` explores
# fresh examples on each run; `ci` (CI=true, or HYPOTHESIS_PROFILE=ci) is derandomized, so a
# run is reproducible. Neither writes an example database into the work tree.
hypothesis_settings.register_profile(
    "dev",
    max_examples=200,
    deadline=timedelta(seconds=2),  # 2 shared cores: generous, still catches a pathological case
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.register_profile(
    "ci", hypothesis_settings.get_profile("dev"), derandomize=True, print_blob=True
)
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
)


# Task messages rung in tests go to kombu's in-process memory broker (outbound.tests read
# them from there); the end-to-end tests point the app at a real Redis broker themselves.
# No broker_transport: with REDIS_URL set, the settings name our Redis transport, which
# would take precedence over the URL's scheme.
celery_app.conf.update(broker_url="memory://", broker_transport=None, broker_transport_options={})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgres` (real concurrency) run only when DATABASE_URL is PostgreSQL."""

    from django.db import connection

    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL (CI runs it)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def workspace():
    return WorkspaceFactory()


@pytest.fixture
def profile(workspace):
    return ProfileFactory(workspace=workspace)


@pytest.fixture
def api_key(workspace):
    """An active key of `workspace`; its plaintext is `api_key.plaintext`."""
    return ApiKeyFactory(workspace=workspace)


@pytest.fixture
def lead(workspace):
    return LeadFactory(workspace=workspace)


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and cached values never leak from one test into the next."""
    from django.core.cache import caches

    for alias in ("default", "ratelimit", "local"):
        caches[alias].clear()
    yield
    for alias in ("default", "ratelimit", "local"):
        caches[alias].clear()


@pytest.fixture(autouse=True)
def _rings_at_once(settings):
    """A committed write's deliveries are rung at once, so a test reads the broker right
    after the request; the doorbell's batching has tests of its own (outbound/tests)."""
    settings.OUTBOUND_RING_WINDOW_SECONDS = 0


@pytest.fixture(autouse=True)
def _static_files_without_collectstatic(settings):
    """Tests render pages from the source static files; production serves the hashed,
    compressed copies that `collectstatic` writes (make run / make serve run it)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
