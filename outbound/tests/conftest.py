"""Fixtures for the outbound tests: short schedules, the memory broker's queue."""

from collections.abc import Iterator

import pytest
from kombu import Connection

from hushmetrics.celery import app as celery_app
from outbound.models import Destination
from outbound.tests.factories import DestinationFactory
from outbound.tests.receiver import Receiver, running_receiver


@pytest.fixture(autouse=True)
def _outbound_settings(settings) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = True
    settings.OUTBOUND_TIMEOUT_SECONDS = 2
    settings.OUTBOUND_RETRY_SCHEDULE = [1, 2]


def rung_ids() -> list[str]:
    """The delivery ids of the `deliver` messages waiting in the memory broker (drained)."""
    ids = []
    with Connection(celery_app.conf.broker_url) as connection:
        queue = connection.SimpleQueue("celery")
        while True:
            try:
                message = queue.get(block=False)
            except queue.Empty:
                break
            if message.headers.get("task") == "outbound.deliver":
                ids.append(message.payload[0][0])
            message.ack()
        queue.close()
    return ids


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
