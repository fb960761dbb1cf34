"""End to end: a real `celery -A hushmetrics worker` process, a real Redis broker, this
test's PostgreSQL database, and a local receiver that verifies every signature as a
Standard Webhooks receiver would."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import transaction
from standardwebhooks.webhooks import Webhook

from leads.services import lead_create
from outbound.models import Delivery, Destination, Event
from outbound.services import delivery_redeliver
from outbound.tests.factories import DestinationFactory
from outbound.tests.receiver import Receiver
from outbound.tests.smtp import SMTPServer, running_smtp_server
from outbound.tests.worker import BROKER_URL, app_broker, broker_reachable, celery_worker
from workspaces.models import Workspace

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKER_SETTINGS = {
    "OUTBOUND_RETRY_SCHEDULE": "1,1",
    "OUTBOUND_TIMEOUT_SECONDS": "2",
    "OUTBOUND_SWEEP_SECONDS": "0.5",
    "OUTBOUND_RERING_SECONDS": "2",
}


@pytest.fixture(scope="module")
def mail_server() -> Iterator[SMTPServer]:
    """A real SMTP server the worker sends email destinations' messages to."""
    with running_smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, tmp_path_factory, mail_server) -> Iterator[Path]:
    """One worker for the module (it starts in seconds, not instantly); each test's rows
    are its own (transactional tests empty the tables after each)."""
    if not broker_reachable():
        pytest.skip(f"needs a Redis broker at {BROKER_URL}")
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    email = {
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(mail_server.port),
        "DEFAULT_FROM_EMAIL": "Hushmetrics <leads@hushmetrics.test>",
        "PUBLIC_BASE_URL": "https://hm.example.com",
    }
    with app_broker(BROKER_URL), celery_worker(log, **WORKER_SETTINGS, **email):
        yield log


def wait_until(predicate, timeout: float = 20, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def workspace_with(receiver: Receiver, *paths: str) -> tuple[Workspace, list[Destination]]:
    workspace = Workspace.objects.create(name="Acme")
    destinations = [
        DestinationFactory(workspace=workspace, target=receiver.url(path)) for path in paths
    ]
    workspace.refresh_from_db()
    return workspace, destinations


def verified(destination: Destination, request) -> dict:
    return Webhook(destination.signing_secret).verify(request.body, request.headers)


def test_a_worker_delivers_retries_and_redelivers_with_the_same_webhook_id(worker, receiver):
    workspace, (ok, flaky) = workspace_with(receiver, "/ok", "/fail-once")
    committed = time.monotonic()
    lead = lead_create(workspace=workspace, name="Jane Doe", email="jane@example.com")
    (request,) = receiver.wait_for(1, "/ok")
    assert time.monotonic() - committed < 5  # first attempt within 5 s of the commit
    event = Event.objects.get()
    document = verified(ok, request)
    assert document["type"] == "lead.created"
    assert document["data"]["lead"]["id"] == str(lead.id)
    assert request.headers["webhook-id"] == str(event.id)

    # 500, then 200 on the retry the sweep rings a second later: same id, same bytes.
    first, second = receiver.wait_for(2, "/fail-once")
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == str(event.id)
    assert first.body == second.body
    verified(flaky, second)
    wait_until(
        lambda: Delivery.objects.filter(destination=flaky, state="succeeded").exists(),
        what="the retried delivery to succeed",
    )
    delivery = Delivery.objects.get(destination=flaky)
    assert delivery.attempts == 2
    assert list(delivery.attempt_log.values_list("status_code", flat=True)) == [500, 200]

    # Redelivery: a new delivery of the same event, same webhook-id.
    wait_until(lambda: Delivery.objects.filter(destination=ok, state="succeeded").exists())
    delivery_redeliver(delivery=Delivery.objects.get(destination=ok))
    again = receiver.wait_for(2, "/ok")[1]
    assert again.headers["webhook-id"] == str(event.id)
    verified(ok, again)


def test_deliveries_the_doorbell_rings_as_one_batch_all_arrive(worker, receiver, settings):
    settings.OUTBOUND_RING_WINDOW_SECONDS = 0.2  # as web processes run (0.1 by default)
    workspace, (ok,) = workspace_with(receiver, "/ok")
    committed = time.monotonic()
    leads = [lead_create(workspace=workspace, name=f"Lead {n}") for n in range(5)]
    requests = receiver.wait_for(5, "/ok")
    # Well before the sweep would re-ring them (OUTBOUND_RERING_SECONDS=2): the batch did.
    assert time.monotonic() - committed < 2
    delivered = sorted(verified(ok, request)["data"]["lead"]["id"] for request in requests)
    assert delivered == sorted(str(lead.id) for lead in leads)


def test_faulty_receivers_are_handled_and_block_no_other_delivery(worker, receiver):
    paths = ["/hang", "/reset", "/redirect", "/gone", "/big", "/ok"]
    workspace, destinations = workspace_with(receiver, *paths)
    by_path = dict(zip(paths, destinations, strict=True))
    committed = time.monotonic()
    lead_create(workspace=workspace, name="Jane Doe", email="jane@example.com")
    receiver.wait_for(1, "/ok")
    # The healthy receiver is not held up by the one that hangs (2 s timeout).
    assert time.monotonic() - committed < 5

    def settled() -> bool:
        deliveries = {d.destination_id: d for d in Delivery.objects.all()}
        return all(
            deliveries[by_path[path].id].state in ("succeeded", "failed")
            for path in ("/gone", "/big", "/ok")
        ) and all(
            deliveries[by_path[path].id].attempts >= 1 and deliveries[by_path[path].id].last_error
            for path in ("/hang", "/reset", "/redirect")
        )

    wait_until(settled, timeout=30, what="every delivery's first outcome")
    deliveries = {d.destination_id: d for d in Delivery.objects.all()}
    assert deliveries[by_path["/ok"].id].state == "succeeded"
    assert deliveries[by_path["/big"].id].state == "succeeded"
    big_attempt = deliveries[by_path["/big"].id].attempt_log.get()
    assert len(big_attempt.response_excerpt) == 2048
    assert deliveries[by_path["/gone"].id].state == "failed"
    assert Destination.objects.get(pk=by_path["/gone"].id).is_active is False
    assert deliveries[by_path["/redirect"].id].last_error == "redirect not followed (302)"
    assert deliveries[by_path["/reset"].id].last_error.startswith("connection failed")
    assert deliveries[by_path["/hang"].id].last_error.startswith("timed out")
    assert receiver.received("/hang")  # it was tried, and the others went on meanwhile


def test_a_rolled_back_write_emits_nothing(worker, receiver):
    workspace, _ = workspace_with(receiver, "/ok")
    with pytest.raises(RuntimeError), transaction.atomic():
        lead_create(workspace=workspace, name="Never")
        raise RuntimeError("the caller fails after the insert")
    # A committed lead afterwards arrives; the rolled-back one never does.
    lead_create(workspace=workspace, name="Committed")
    (request,) = receiver.wait_for(1, "/ok")
    time.sleep(1.5)  # a sweep or two later, still nothing else
    assert len(receiver.received("/ok")) == 1
    assert Event.objects.count() == 1
    assert b'"Committed"' in request.body


def test_the_sweep_rings_a_delivery_whose_message_was_lost(worker, receiver):
    workspace, _ = workspace_with(receiver, "/ok")
    # The ring goes to a broker no worker reads: the message is lost.
    with app_broker("memory://"):
        lead_create(workspace=workspace, name="Jane Doe")
    committed = time.monotonic()
    delivery = Delivery.objects.get()
    assert delivery.rung_at is not None
    # OUTBOUND_RERING_SECONDS=2: the worker's beat sweep rings it again, and it arrives.
    (request,) = receiver.wait_for(1, "/ok", timeout=15)
    assert time.monotonic() - committed >= 1.9  # not before the message was given up on
    assert request.headers["webhook-id"] == str(delivery.event_id)
    wait_until(lambda: Delivery.objects.get().state == "succeeded")
    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_a_worker_emails_a_lead_retries_a_451_and_alerts_on_a_410(worker, receiver, mail_server):
    mail_server.clear()
    mail_server.script("DATA", "451 4.3.0 Try again later")  # the first message, once
    workspace = Workspace.objects.create(name="Acme")
    email = DestinationFactory(workspace=workspace, kind="email", target="team@example.com")
    gone = DestinationFactory(workspace=workspace, target=receiver.url("/gone"))
    workspace.refresh_from_db()
    committed = time.monotonic()
    lead = lead_create(
        workspace=workspace, name="Jane Doe", email="jane@example.com", source="website"
    )

    # The lead's message and the alert that the 410 disabled the webhook; the first of them
    # refused with a 451 once and accepted on the retry the sweep rings a second later.
    received = mail_server.wait_for(2, timeout=20)
    assert time.monotonic() - committed < 10
    assert sorted(r.message["Subject"] for r in received) == [
        f"Destination disabled: webhook {gone.target}",
        "New lead: Jane Doe (website)",
    ]
    assert all(r.rcpt_tos == ["team@example.com"] for r in received)
    (message,) = [r for r in received if r.message["Subject"].startswith("New lead")]
    assert message.message["Reply-To"] == "Jane Doe <jane@example.com>"
    assert f"https://hm.example.com/admin/leads/lead/{lead.id}/change/" in message.part("text/html")
    assert mail_server.commands.count("DATA 451") == 1
    wait_until(
        lambda: Delivery.objects.filter(destination=email, state="succeeded").count() == 2,
        what="the lead's email and the alert to succeed",
    )
    codes = sorted(
        list(delivery.attempt_log.values_list("status_code", flat=True))
        for delivery in Delivery.objects.filter(destination=email)
    )
    assert codes == [[250], [451, 250]]
    assert Destination.objects.get(pk=gone.pk).is_active is False
    assert Destination.objects.get(pk=email.pk).is_active is True
