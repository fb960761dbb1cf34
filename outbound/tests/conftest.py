"""Fixtures for the outbound tests: short schedules, the memory broker's queue."""

from collections.abc import Iterator

import pytest
from kombu import Connection

from hushmetrics.celery import app as celery_app
from outbound.models import Destination
from outbound.tests.factories import DestinationFactory
from outbound.tests.receiver import Receiver, running_receiver
from outbound.tests.smtp import SMTPServer, running_smtp_server


@pytest.fixture(autouse=True)
def _outbound_settings(settings) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = True
    settings.OUTBOUND_TIMEOUT_SECONDS = 2
    settings.OUTBOUND_RETRY_SCHEDULE = [1, 2]


def broker_messages() -> list[tuple[str, list]]:
    """(task name, args) of every message waiting in the memory broker (drained)."""
    found = []
    with Connection(celery_app.conf.broker_url) as connection:
        queue = connection.SimpleQueue("celery")
        while True:
            try:
                message = queue.get(block=False)
            except queue.Empty:
                break
            found.append((str(message.headers.get("task")), message.payload[0]))
            message.ack()
        queue.close()
    return found


def rung_ids() -> list[str]:
    """The delivery ids of the `deliver` messages waiting in the memory broker (drained)."""
    return [args[0] for task, args in broker_messages() if task == "outbound.deliver"]


@pytest.fixture
def broker() -> Iterator[None]:
    """An empty memory broker before and after the test."""
    rung_ids()
    yield
    rung_ids()


@pytest.fixture
def destination(workspace) -> Destination:
    return DestinationFactory(workspace=workspace, target="https://hooks.example.com/in")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def use_smtp_server(settings, server: SMTPServer) -> None:
    """Send this test's email through Django's SMTP backend to `server`."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 2
    settings.DEFAULT_FROM_EMAIL = "Hushmetrics <leads@hushmetrics.test>"
    settings.PUBLIC_BASE_URL = "https://hm.example.com"


@pytest.fixture
def smtp_server(settings) -> Iterator[SMTPServer]:
    """A real SMTP server on a local port, and this test's email going to it."""
    with running_smtp_server() as server:
        use_smtp_server(settings, server)
        yield server
