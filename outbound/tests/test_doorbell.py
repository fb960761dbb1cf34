"""The doorbell: a web process's new deliveries rung together (one broker message per
OUTBOUND_RING_WINDOW_SECONDS), and the worker task that takes such a batch apart."""

import time

import pytest

from leads.services import lead_create
from outbound.models import Delivery
from outbound.services import destination_create, destination_update
from outbound.tasks import deliver_batch, doorbell
from outbound.tests.conftest import broker_messages, rung_ids
from outbound.tests.factories import DestinationFactory

pytestmark = pytest.mark.usefixtures("broker")


def wait_for_messages(timeout: float = 3) -> list[tuple[str, list]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = broker_messages()
        if found:
            return found
        time.sleep(0.02)
    return []


@pytest.mark.django_db(transaction=True)
def test_deliveries_committed_within_the_window_are_rung_as_one_message(workspace, settings):
    settings.OUTBOUND_RING_WINDOW_SECONDS = 0.3
    DestinationFactory(workspace=workspace)
    workspace.refresh_from_db()
    leads = [lead_create(workspace=workspace, name=f"Lead {n}") for n in range(3)]
    assert broker_messages() == []  # nothing yet: the window is open
    messages = wait_for_messages()
    deliveries = [Delivery.objects.get(event__payload__lead__id=str(lead.id)) for lead in leads]
    assert messages == [("outbound.deliver_batch", [[str(d.id) for d in deliveries]])]
    assert broker_messages() == []  # and only once


@pytest.mark.django_db(transaction=True)
def test_a_lone_delivery_is_rung_as_a_plain_deliver_message(workspace, settings):
    settings.OUTBOUND_RING_WINDOW_SECONDS = 0.05
    DestinationFactory(workspace=workspace)
    workspace.refresh_from_db()
    lead_create(workspace=workspace, name="Alone")
    delivery = Delivery.objects.get()
    assert wait_for_messages() == [("outbound.deliver", [str(delivery.id)])]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_write_leaves_nothing_for_the_doorbell(workspace, settings):
    settings.OUTBOUND_RING_WINDOW_SECONDS = 0.05
    DestinationFactory(workspace=workspace)
    workspace.refresh_from_db()
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        lead_create(workspace=workspace, name="Never")
        raise RuntimeError
    time.sleep(0.2)
    assert broker_messages() == []


@pytest.mark.django_db(transaction=True)
def test_flush_rings_what_waits_at_once(workspace, settings):
    """What runs at the process's exit: nothing waiting is left to the sweep."""
    settings.OUTBOUND_RING_WINDOW_SECONDS = 30
    DestinationFactory(workspace=workspace)
    workspace.refresh_from_db()
    lead_create(workspace=workspace, name="A")
    lead_create(workspace=workspace, name="B")
    assert broker_messages() == []
    doorbell.flush()
    ((task, (ids,)),) = broker_messages()
    assert task == "outbound.deliver_batch"
    assert sorted(ids) == sorted(str(pk) for pk in Delivery.objects.values_list("id", flat=True))


@pytest.mark.django_db
def test_deliver_batch_attempts_every_delivery_in_its_thread(workspace, receiver):
    DestinationFactory(workspace=workspace, target=receiver.url("/ok"))
    workspace.refresh_from_db()
    for name in ("A", "B", "C"):
        lead_create(workspace=workspace, name=name)
    rung_ids()  # the rings of the writes above (at once in tests)
    ids = [str(pk) for pk in Delivery.objects.values_list("id", flat=True)]
    deliver_batch(ids)
    assert set(Delivery.objects.values_list("state", flat=True)) == {"succeeded"}
    assert len(receiver.received("/ok")) == 3
    assert rung_ids() == []


@pytest.mark.django_db
def test_a_hanging_receiver_hands_the_rest_of_its_batch_to_other_threads(
    workspace, receiver, settings
):
    settings.OUTBOUND_TIMEOUT_SECONDS = 2
    settings.OUTBOUND_BATCH_HANDOFF_SECONDS = 0.2
    hanging = DestinationFactory(workspace=workspace, target=receiver.url("/hang"))
    DestinationFactory(workspace=workspace, target=receiver.url("/ok"))
    workspace.refresh_from_db()
    for name in ("A", "B"):
        lead_create(workspace=workspace, name=name)
    rung_ids()
    first = str(Delivery.objects.filter(destination=hanging).values_list("id", flat=True)[0])
    rest = Delivery.objects.exclude(pk=first).values_list("id", flat=True)
    others = sorted(str(pk) for pk in rest)
    started = time.monotonic()
    deliver_batch([first, *others])
    assert time.monotonic() - started >= 2  # the hung attempt ran to its timeout
    assert Delivery.objects.get(pk=first).attempt_log.get().error.startswith("timed out")
    # Rung while it hung, for other threads; not attempted here.
    assert sorted(rung_ids()) == others
    assert set(Delivery.objects.exclude(pk=first).values_list("state", flat=True)) == {"pending"}
    assert receiver.received("/ok") == []


@pytest.mark.django_db
def test_a_batch_whose_attempt_raises_rings_the_rest(workspace, receiver, monkeypatch):
    DestinationFactory(workspace=workspace, target=receiver.url("/ok"))
    workspace.refresh_from_db()
    for name in ("A", "B", "C"):
        lead_create(workspace=workspace, name=name)
    rung_ids()
    first, *others = [str(pk) for pk in Delivery.objects.values_list("id", flat=True)]

    def broken(*, delivery_id):
        raise RuntimeError("database gone")

    monkeypatch.setattr("outbound.engine.delivery_run", broken)
    with pytest.raises(RuntimeError):
        deliver_batch([first, *others])
    assert rung_ids() == others


@pytest.mark.django_db
def test_a_change_to_destinations_is_seen_at_once_by_the_process_that_made_it(workspace, settings):
    """event_emit reads the active destinations from this process's cache: every change
    made through the services drops it."""
    settings.WORKSPACE_CACHE_SECONDS = 60
    first = destination_create(workspace=workspace, kind="webhook", target="https://a.example/in")
    workspace.refresh_from_db()
    lead_create(workspace=workspace, name="One")
    assert Delivery.objects.filter(destination=first).count() == 1

    destination_update(destination=first, event_types=["optin.created"])
    lead_create(workspace=workspace, name="Two")  # lead.created: no longer wanted
    assert Delivery.objects.count() == 1

    second = destination_create(workspace=workspace, kind="webhook", target="https://b.example/in")
    lead_create(workspace=workspace, name="Three")
    assert Delivery.objects.filter(destination=second).count() == 1
    assert Delivery.objects.count() == 2


@pytest.mark.django_db
def test_a_batch_running_past_the_handoff_time_rings_the_rest(workspace, receiver, settings):
    """No delivery waits behind its batch's others for much longer than the hand-off time,
    even when each attempt is shorter than that."""
    settings.OUTBOUND_BATCH_HANDOFF_SECONDS = 0.5
    receiver.hang_seconds = 0.4  # each attempt: 0.4 s, then the receiver hangs up
    DestinationFactory(workspace=workspace, target=receiver.url("/hang"))
    workspace.refresh_from_db()
    for name in ("A", "B", "C"):
        lead_create(workspace=workspace, name=name)
    rung_ids()
    ids = [
        str(pk) for pk in Delivery.objects.order_by("created_at", "id").values_list("id", flat=True)
    ]
    deliver_batch(ids)
    # The first two were attempted here (the second began at 0.4 s); at 0.5 s the third was
    # rung for another thread.
    assert [Delivery.objects.get(pk=pk).attempts for pk in ids] == [1, 1, 0]
    assert rung_ids() == ids[2:]
