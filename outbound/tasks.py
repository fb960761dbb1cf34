"""Celery tasks: small and idempotent; each reloads its rows (the row is the truth).

The work is in outbound.engine; this module is only the doorbell and its wiring, so the
services can ring without importing the engine.
"""

import logging
import uuid
from collections.abc import Iterable

from celery import shared_task

from hushmetrics.celery import app

logger = logging.getLogger(__name__)


@shared_task(name="outbound.deliver", ignore_result=True)
def deliver(delivery_id: str) -> None:
    """Make one attempt of this delivery if it is still pending and due."""
    from outbound.engine import delivery_run

    delivery_run(delivery_id=uuid.UUID(delivery_id))


@shared_task(name="outbound.sweep", ignore_result=True)
def sweep() -> int:
    """Ring the pending deliveries that are due and have no live task message."""
    from outbound.engine import deliveries_sweep

    return deliveries_sweep()


@shared_task(name="outbound.disable_failing", ignore_result=True)
def disable_failing() -> int:
    """Disable the destinations whose every attempt failed for OUTBOUND_DISABLE_AFTER_DAYS."""
    from outbound.engine import destinations_disable_failing

    return destinations_disable_failing()


def ring(delivery_ids: Iterable[uuid.UUID]) -> None:
    """Send a `deliver` message per delivery, on one broker connection. A broker that is
    down is logged, not raised: the sweep rings those deliveries again."""
    ids = [str(delivery_id) for delivery_id in delivery_ids]
    if not ids:
        return
    try:
        with app.producer_or_acquire() as producer:
            for delivery_id in ids:
                deliver.apply_async((delivery_id,), producer=producer, retry=False)
    except Exception:  # the broker's errors are many (kombu, redis, OSError)
        logger.warning("could not ring %d deliveries; the sweep will", len(ids), exc_info=True)
