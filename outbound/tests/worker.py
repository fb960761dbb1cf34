"""A real Celery worker process for the end-to-end tests, on a real Redis broker."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
from django.db import connection

from hushmetrics.celery import app as celery_app

PROJECT = Path(__file__).resolve().parents[2]
# Redis db 6 is this suite's broker (the cache tests own REDIS_URL's db).
BROKER_URL = os.environ.get("OUTBOUND_TEST_BROKER_URL", "redis://127.0.0.1:6379/6")


def broker_reachable() -> bool:
    try:
        redis.Redis.from_url(BROKER_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return False
    return True


def test_database_url() -> str:
    """The test database (pytest-django's `test_…`), for the worker to share."""
    settings = connection.settings_dict
    user = settings.get("USER") or ""
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings['NAME']}"


@contextmanager
def app_broker(url: str) -> Iterator[None]:
    """Point this process's Celery app (the on-commit rings) at `url` for a while."""
    conf: Any = celery_app.conf
    saved = (conf.broker_url, conf.broker_transport, conf.broker_transport_options)
    # The transport follows the URL's scheme (a broker_transport would take precedence).
    conf.broker_url, conf.broker_transport, conf.broker_transport_options = url, None, {}
    # The app caches its broker connection pool and producer pool in private attributes
    # (celery-types declares neither); clearing them makes the next publish use `url`.
    celery_app._pool = None  # type: ignore[attr-defined]  # Celery's private cached connection pool, not in celery-types
    celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]  # AMQP's private cached producer pool, not in celery-types
    try:
        yield
    finally:
        celery_app.pool.force_close_all()  # type: ignore[attr-defined]  # app.pool is kombu's ConnectionPool (has it), celery-types says ProducerPool
        conf.broker_url, conf.broker_transport, conf.broker_transport_options = saved
        celery_app._pool = None  # type: ignore[attr-defined]  # as above: private, not in celery-types
        celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]  # as above: private, not in celery-types


@contextmanager
def celery_worker(log: Path, **settings: str) -> Iterator[subprocess.Popen[bytes]]:
    """`celery -A hushmetrics worker -B` on the test database and BROKER_URL, with the
    given OUTBOUND_* settings; yields once it is ready, stops it afterwards."""
    redis.Redis.from_url(BROKER_URL).flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": BROKER_URL,
        "CELERY_BROKER_DIR": str(log.parent / "celery"),
        "OUTBOUND_ALLOW_PRIVATE_NETWORKS": "1",
        **settings,
    }
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603
            [
                str(Path(sys.executable).parent / "celery"),
                "-A",
                "hushmetrics",
                "worker",
                "-B",
                "--pool",
                "threads",
                "--concurrency",
                "4",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=PROJECT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while b" ready." not in log.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
