"""The Redis broker transport (hushmetrics/broker.py): a worker that loses its broker while
it holds unacknowledged messages reconnects instead of exiting."""

import pytest
import redis
from django.conf import settings
from kombu import Connection, Exchange, Queue
from kombu.common import ignore_errors

from hushmetrics import broker
from outbound.tests.worker import BROKER_URL, broker_reachable

# A real Redis: CI's PostgreSQL + Redis run, as the worker's end-to-end tests.
pytestmark = pytest.mark.postgres

QUEUE = Queue("hm-broker-test", Exchange("hm-broker-test"), "hm-broker-test")


@pytest.fixture
def redis_broker():
    if not broker_reachable():
        pytest.skip(f"needs a Redis broker at {BROKER_URL}")
    client = redis.Redis.from_url(BROKER_URL)
    client.flushdb()
    yield client
    client.flushdb()


def test_closing_a_lost_connection_with_unacknowledged_messages_raises_nothing(redis_broker):
    with Connection(BROKER_URL) as producer:
        producer.Producer().publish(
            {"delivery": 1}, exchange=QUEUE.exchange, routing_key=QUEUE.routing_key, declare=[QUEUE]
        )
    connection = Connection(BROKER_URL, transport=broker.Transport)
    message = QUEUE(connection.default_channel).get(no_ack=False)
    assert message is not None and message.payload == {"delivery": 1}

    # Where Celery's consumer leaves a lost connection when the channel's first close failed
    # on the dead socket: collect() has detached the transport; then it closes the
    # connection. kombu's own Redis channel raises AttributeError here (the worker exits).
    connection._do_close_transport()
    ignore_errors(connection, connection.close)

    # The message was not restored through the detached transport: it is still unacked in
    # Redis (restored after the visibility timeout; the sweep re-rings its delivery anyway).
    assert redis_broker.hlen("unacked") == 1


def test_a_redis_broker_is_configured_with_this_transport():
    """What a worker and the web processes get from the settings (the tests' own Celery app
    is pointed at the memory broker by conftest.py)."""
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("the broker is not Redis in these settings")
    assert settings.CELERY_BROKER_TRANSPORT == "hushmetrics.broker:Transport"
    connection = Connection(settings.CELERY_BROKER_URL, transport=settings.CELERY_BROKER_TRANSPORT)
    assert isinstance(connection.transport, broker.Transport)
    assert connection.as_uri().endswith(settings.CELERY_BROKER_URL.split("://", 1)[1])
