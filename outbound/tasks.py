"""Celery tasks: small and idempotent; each reloads its rows (the row is the truth).

The work is in outbound.engine; this module is only the doorbell and its wiring, so the
services can ring without importing the engine.
"""

import atexit
import logging
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable

from celery import shared_task
from django.conf import settings

from hushmetrics.celery import app

logger = logging.getLogger(__name__)


@shared_task(name="outbound.deliver", ignore_result=True)
def deliver(delivery_id: str) -> None:
    """Make one attempt of this delivery if it is still pending and due."""
    from outbound.engine import delivery_run

    delivery_run(delivery_id=uuid.UUID(delivery_id))


@shared_task(name="outbound.deliver_batch", ignore_result=True)
def deliver_batch(delivery_ids: list[str]) -> None:
    """A web process's batch of new deliveries, attempted one after another by this thread:
    no `deliver` message to publish and consume per delivery. Should the batch take longer
    than OUTBOUND_BATCH_HANDOFF_SECONDS (a slow or hanging receiver, a long batch), the
    watcher rings its remaining deliveries as messages of their own, so other threads (and
    workers) take them and no receiver holds up another's deliveries for long. A batch lost
    with its worker is rung by the sweep, like any lost message."""
    from outbound.engine import delivery_run

    batch = _Batch(uuid.UUID(delivery_id) for delivery_id in delivery_ids)
    batch_watch.add(batch)
    try:
        while (delivery_id := batch.next()) is not None:
            delivery_run(delivery_id=delivery_id)
    finally:
        batch_watch.remove(batch)
        batch.hand_off()  # after an error, the rest go on without waiting for the sweep


class _Batch:
    """A deliver_batch's deliveries still to attempt, and when it began (None once done)."""

    def __init__(self, delivery_ids: Iterable[uuid.UUID]) -> None:
        self._lock = threading.Lock()
        self._ids = deque(delivery_ids)
        self.since: float | None = time.monotonic()

    def next(self) -> uuid.UUID | None:
        with self._lock:
            if not self._ids:
                self.since = None
                return None
            return self._ids.popleft()

    def hand_off(self) -> None:
        """Ring what is left (for other threads) and leave this batch empty."""
        with self._lock:
            ids, self._ids = list(self._ids), deque()
        ring(ids)


class _BatchWatch:
    """One thread per worker process that hands off the rest of any batch that has run
    longer than OUTBOUND_BATCH_HANDOFF_SECONDS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._batches: set[_Batch] = set()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def add(self, batch: _Batch) -> None:
        with self._lock:
            self._batches.add(batch)
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="outbound-batch-watch", daemon=True
                )
                self._thread.start()

    def remove(self, batch: _Batch) -> None:
        with self._lock:
            self._batches.discard(batch)

    def check(self) -> None:
        limit = settings.OUTBOUND_BATCH_HANDOFF_SECONDS
        now = time.monotonic()
        with self._lock:
            batches = list(self._batches)
        for batch in batches:
            since = batch.since
            if since is not None and now - since > limit:
                batch.hand_off()

    def _run(self) -> None:
        while True:
            time.sleep(settings.OUTBOUND_BATCH_HANDOFF_SECONDS / 4)
            try:
                self.check()
            except Exception:  # the watcher must outlive a broker's hiccup
                logger.warning("batch watch failed", exc_info=True)


batch_watch = _BatchWatch()


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


class Doorbell:
    """Rings a web process's new deliveries together: the ids rung within
    OUTBOUND_RING_WINDOW_SECONDS of the first go to the broker as one `deliver_batch`
    message, sent by a thread of this process. Publishing a Celery message costs a request
    about as much CPU as its own INSERT; under load one message now serves several requests.
    An idle service pays the window in latency (0.1 s by default) and nothing else. A batch
    lost with its process (killed before the window closed) is rung by the sweep, as is
    any lost message: the rows are the truth.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: list[uuid.UUID] = []
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def push(self, delivery_ids: Iterable[uuid.UUID]) -> None:
        with self._lock:
            self._ids.extend(delivery_ids)
            # A forked child inherits the object but not the thread: start one of its own.
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="outbound-doorbell", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def flush(self) -> None:
        """Ring what is waiting, now (the thread, and at the process's exit)."""
        with self._lock:
            ids, self._ids = self._ids, []
            self._wake.clear()
        if len(ids) == 1:
            ring(ids)
        elif ids:
            try:
                deliver_batch.apply_async(([str(i) for i in ids],), retry=False)
            except Exception:  # the broker's errors are many (kombu, redis, OSError)
                logger.warning(
                    "could not ring %d deliveries; the sweep will", len(ids), exc_info=True
                )

    def _run(self) -> None:
        while True:
            self._wake.wait()
            threading.Event().wait(settings.OUTBOUND_RING_WINDOW_SECONDS)
            self.flush()


doorbell = Doorbell()
atexit.register(doorbell.flush)


def ring_soon(delivery_ids: Iterable[uuid.UUID]) -> None:
    """Ring new deliveries (a committed write's): batched by the doorbell, or at once when
    OUTBOUND_RING_WINDOW_SECONDS is 0."""
    if settings.OUTBOUND_RING_WINDOW_SECONDS > 0:
        doorbell.push(delivery_ids)
    else:
        ring(delivery_ids)
