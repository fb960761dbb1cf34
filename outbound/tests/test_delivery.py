"""One attempt at a time, in this process, against a real local receiver (SPEC §9)."""

import threading
import time
import tracemalloc
import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from leads.services import lead_create
from outbound.engine import deliveries_sweep, delivery_run, destinations_disable_failing
from outbound.models import Delivery, DeliveryAttempt, Destination, Event
from outbound.services import (
    delivery_redeliver,
    destination_disable,
    destination_enable,
    destination_record_outcome,
    destination_rotate_secret,
    destination_send_test_event,
)
from outbound.tests.conftest import rung_ids
from outbound.tests.factories import DestinationFactory
from outbound.tests.receiver import Receiver
from workspaces.models import Workspace

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("broker")]


def emit_to(receiver: Receiver, path: str, **destination_fields: object) -> Delivery:
    """A lead in a fresh workspace whose one destination is `path` on the receiver."""
    workspace = Workspace.objects.create(name="Acme")
    DestinationFactory(workspace=workspace, target=receiver.url(path), **destination_fields)
    workspace.refresh_from_db()
    lead_create(workspace=workspace, name="Jane Doe", email="jane@example.com")
    rung_ids()
    return Delivery.objects.select_related("event", "destination").get()


def attempted(delivery_id: uuid.UUID) -> DeliveryAttempt:
    """`delivery_run` where it must make an attempt (it answers None when it makes none)."""
    attempt = delivery_run(delivery_id=delivery_id)
    assert attempt is not None
    return attempt


def make_due(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_a_delivery_is_signed_as_standard_webhooks_says(receiver):
    delivery = emit_to(receiver, "/ok")
    attempt = attempted(delivery.id)
    (request,) = receiver.received("/ok")
    event = delivery.event
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["webhook-id"] == str(event.id)
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 5
    assert request.headers["webhook-signature"].startswith("v1,")
    # Verified as a receiver would, with the standardwebhooks package and the secret.
    document = Webhook(delivery.destination.signing_secret).verify(request.body, request.headers)
    assert document["type"] == "lead.created"
    assert document["data"] == event.payload
    assert document["data"]["lead"]["email"] == "jane@example.com"
    assert document["timestamp"].startswith(str(event.created_at.year))
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 44).verify(request.body, request.headers)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    assert delivery.finished_at is not None and delivery.next_attempt_at is None
    assert attempt.status_code == 200
    assert attempt.response_excerpt == '{"received": true}'
    assert attempt.duration_ms >= 0
    destination = Destination.objects.get()
    assert destination.last_success_at is not None and destination.failing_since is None


def test_secret_format_is_whsec_and_base64_of_at_least_24_bytes(receiver):
    import base64

    secret = emit_to(receiver, "/ok").destination.signing_secret
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24


def test_a_failed_attempt_is_retried_on_the_schedule_with_the_same_webhook_id(receiver, settings):
    settings.OUTBOUND_RETRY_SCHEDULE = [10, 20]
    delivery = emit_to(receiver, "/fail-once")
    before = timezone.now()
    first = attempted(delivery.id)
    delivery.refresh_from_db()
    assert first.status_code == 500 and first.response_excerpt == "first fails"
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("pending", 1, "HTTP 500")
    # 10 s ± 10 % from the end of the attempt.
    assert delivery.next_attempt_at is not None
    delay = (delivery.next_attempt_at - before).total_seconds()
    assert 9 - 0.1 <= delay <= 11 + 1
    assert Destination.objects.get().failing_since is not None
    # Not due yet: a stray message does nothing.
    assert delivery_run(delivery_id=delivery.id) is None
    make_due(delivery)
    second = attempted(delivery.id)
    assert second.status_code == 200
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("succeeded", 2)
    first_request, second_request = receiver.received("/fail-once")
    assert first_request.headers["webhook-id"] == second_request.headers["webhook-id"]
    assert first_request.body == second_request.body
    assert list(delivery.attempt_log.values_list("status_code", flat=True)) == [500, 200]
    assert Destination.objects.get().failing_since is None


def test_jitter_spreads_retries_within_ten_percent(receiver, settings):
    settings.OUTBOUND_RETRY_SCHEDULE = [100]
    delays = []
    for _ in range(8):
        Delivery.objects.all().delete()
        Destination.objects.all().delete()
        delivery = emit_to(receiver, "/fail")
        delivery_run(delivery_id=delivery.id)
        attempt = DeliveryAttempt.objects.get(delivery=delivery)
        delivery.refresh_from_db()
        end = attempt.started_at + timedelta(milliseconds=attempt.duration_ms)
        assert delivery.next_attempt_at is not None
        delays.append((delivery.next_attempt_at - end).total_seconds())
    assert all(89.9 <= delay <= 110.1 for delay in delays), delays
    assert len({round(delay, 2) for delay in delays}) > 1  # jittered, not fixed


def test_after_the_last_retry_the_delivery_has_failed(receiver):
    delivery = emit_to(receiver, "/fail")  # schedule [1, 2]: three attempts
    for _ in range(3):
        make_due(delivery)
        assert delivery_run(delivery_id=delivery.id) is not None
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("failed", 3)
    assert delivery.next_attempt_at is None and delivery.finished_at is not None
    make_due_failed = Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert make_due_failed == 1
    assert delivery_run(delivery_id=delivery.id) is None  # failed stays failed
    assert len(receiver.received("/fail")) == 3


def test_a_redirect_is_a_failure_and_is_not_followed(receiver):
    delivery = emit_to(receiver, "/redirect")
    attempt = attempted(delivery.id)
    assert attempt.status_code == 302
    assert attempt.error == "redirect not followed (302)"
    assert receiver.received("/ok") == []
    delivery.refresh_from_db()
    assert delivery.state == "pending"


def test_410_fails_the_delivery_and_disables_the_destination(receiver):
    delivery = emit_to(receiver, "/gone")
    attempt = attempted(delivery.id)
    assert attempt.status_code == 410
    delivery.refresh_from_db()
    assert delivery.state == "failed"
    destination = Destination.objects.get()
    assert destination.is_active is False
    assert "410 Gone" in destination.disabled_reason
    assert Workspace.objects.get().has_active_destinations is False


@pytest.mark.parametrize("path", ["/busy", "/slow-down"])
@pytest.mark.parametrize(
    ("retry_after", "expected_seconds"),
    [("120", 120), ("100000", 24 * 3600), ("0", 1), ("soon", 1)],
)
def test_retry_after_on_503_and_429_is_honoured_when_longer_up_to_a_day(
    receiver, path, retry_after, expected_seconds
):
    delivery = emit_to(receiver, f"{path}?retry_after={retry_after}")
    attempt = attempted(delivery.id)
    delivery.refresh_from_db()
    end = attempt.started_at + timedelta(milliseconds=attempt.duration_ms)
    assert delivery.next_attempt_at is not None
    delay = (delivery.next_attempt_at - end).total_seconds()
    # The schedule's first delay is 1 s ± 10 %; a longer Retry-After wins.
    assert expected_seconds * 0.9 - 0.05 <= delay <= expected_seconds * 1.1 + 0.05


def test_a_receiver_that_hangs_times_out_and_blocks_no_other_delivery(receiver, settings):
    settings.OUTBOUND_TIMEOUT_SECONDS = 1
    hung = emit_to(receiver, "/hang")
    workspace = Workspace.objects.get()
    other = DestinationFactory(workspace=workspace, target=receiver.url("/ok"))
    event = Event.objects.get()
    fine = Delivery.objects.create(
        event=event, destination=other, event_type=event.type, next_attempt_at=timezone.now()
    )
    results: dict[str, DeliveryAttempt | None] = {}

    def attempt_the_hung_one() -> None:
        try:
            results["hung"] = delivery_run(delivery_id=hung.id)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=attempt_the_hung_one)
    started = time.monotonic()
    thread.start()
    receiver.wait_for(1, "/hang")
    assert attempted(fine.id).status_code == 200
    assert time.monotonic() - started < 1  # done while the other still hangs
    thread.join(5)
    elapsed = time.monotonic() - started
    attempt = results["hung"]
    assert attempt is not None
    assert attempt.status_code is None
    assert attempt.error.startswith("timed out")
    assert 0.9 <= elapsed < 3


def test_a_connection_reset_is_a_failed_attempt(receiver):
    delivery = emit_to(receiver, "/reset")
    attempt = attempted(delivery.id)
    assert attempt.status_code is None
    assert attempt.error.startswith("connection failed")
    delivery.refresh_from_db()
    assert delivery.state == "pending"


def test_a_refused_connection_is_a_failed_attempt(receiver):
    delivery = emit_to(receiver, "/ok")
    Destination.objects.update(target="http://127.0.0.1:1/closed")
    attempt = attempted(delivery.id)
    assert attempt.error.startswith("connection failed")


def test_a_10_mb_answer_is_read_to_2_kb_only(receiver):
    delivery = emit_to(receiver, "/big")
    tracemalloc.start()
    try:
        attempt = attempted(delivery.id)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert attempt.status_code == 200
    assert attempt.response_excerpt == "x" * 2048
    assert peak < 2 * 1024 * 1024, peak  # never the 10 MB


def test_dual_signatures_for_a_day_after_rotation(receiver):
    delivery = emit_to(receiver, "/ok")
    destination = delivery.destination
    old = destination.signing_secret
    new = destination_rotate_secret(destination=destination)
    assert new != old and new.startswith("whsec_")
    delivery_run(delivery_id=delivery.id)
    (request,) = receiver.received("/ok")
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(request.body, request.headers)
    Webhook(new).verify(request.body, request.headers)
    # Past the 24 h, only the new secret signs.
    Destination.objects.update(previous_secret_expires_at=timezone.now() - timedelta(seconds=1))
    redelivery = delivery_redeliver(delivery=delivery)
    delivery_run(delivery_id=redelivery.id)
    later = receiver.received("/ok")[1]
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(later.body, later.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(later.body, later.headers)
    assert later.headers["webhook-id"] == request.headers["webhook-id"]


def test_a_disabled_destinations_pending_delivery_fails_unsent(receiver):
    delivery = emit_to(receiver, "/ok")
    destination_disable(destination=delivery.destination, reason="paused by ops")
    assert delivery_run(delivery_id=delivery.id) is None
    delivery.refresh_from_db()
    assert delivery.state == "failed"
    assert delivery.last_error == "destination disabled: paused by ops"
    assert receiver.received() == []


def test_a_test_event_reaches_even_a_disabled_destination(receiver):
    delivery = emit_to(receiver, "/ok")
    destination_disable(destination=delivery.destination, reason="not yet")
    test = destination_send_test_event(destination=delivery.destination)
    assert rung_ids() == [str(test.id)]
    assert attempted(test.id).status_code == 200
    (request,) = receiver.received("/ok")
    document = Webhook(delivery.destination.signing_secret).verify(request.body, request.headers)
    assert document["type"] == "destination.test"
    assert document["data"]["destination"]["id"] == str(delivery.destination.id)


def test_https_only_without_the_private_network_switch(receiver, settings):
    delivery = emit_to(receiver, "/ok")
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = False
    attempt = attempted(delivery.id)
    assert attempt.error == "the URL must be https://"
    Destination.objects.update(target=f"https://127.0.0.1:{receiver.port}/ok")
    make_due(delivery)
    attempt = attempted(delivery.id)
    assert attempt.error == "destination address not allowed"
    assert receiver.received() == []


# --- the row is the schedule: claims, leases and the sweep ------------------------------


def test_a_claimed_delivery_is_leased_and_the_sweep_finds_it_after_a_crash(receiver, settings):
    from outbound.engine import _claim

    delivery = emit_to(receiver, "/ok")
    claimed = _claim(delivery.id)  # a worker takes it … and dies before attempting
    assert claimed is not None and claimed.attempts == 1
    delivery.refresh_from_db()
    assert delivery.next_attempt_at is not None
    lease = (delivery.next_attempt_at - timezone.now()).total_seconds()
    assert settings.OUTBOUND_TIMEOUT_SECONDS < lease <= settings.OUTBOUND_TIMEOUT_SECONDS + 31
    assert _claim(delivery.id) is None  # held by the lease
    assert deliveries_sweep() == 0
    make_due(delivery)  # the lease runs out
    assert deliveries_sweep() == 1
    assert rung_ids() == [str(delivery.id)]
    assert attempted(delivery.id).status_code == 200


def test_the_sweep_rings_due_deliveries_without_a_live_message(receiver, settings):
    settings.OUTBOUND_RERING_SECONDS = 60
    delivery = emit_to(receiver, "/ok")
    # Rung at creation (its message is in flight): not rung again.
    assert deliveries_sweep() == 0
    # The message was lost (a broker flush): rung again once it is older than 60 s.
    Delivery.objects.filter(pk=delivery.pk).update(rung_at=timezone.now() - timedelta(seconds=61))
    assert deliveries_sweep() == 1
    assert rung_ids() == [str(delivery.id)]
    assert deliveries_sweep() == 0  # and not twice
    # Not due: not rung.
    Delivery.objects.filter(pk=delivery.pk).update(
        rung_at=None, next_attempt_at=timezone.now() + timedelta(seconds=30)
    )
    assert deliveries_sweep() == 0


def test_the_sweep_is_bounded(receiver):
    delivery = emit_to(receiver, "/ok")
    for _ in range(4):
        delivery_redeliver(delivery=delivery)
    Delivery.objects.update(rung_at=None)
    rung_ids()
    assert deliveries_sweep(batch=3) == 3
    assert deliveries_sweep(batch=3) == 2
    assert len(rung_ids()) == 5


def test_a_retry_is_rung_by_the_sweep_when_due(receiver):
    delivery = emit_to(receiver, "/fail-once")
    delivery_run(delivery_id=delivery.id)
    assert deliveries_sweep() == 0  # due in about a second
    time.sleep(1.25)
    assert deliveries_sweep() == 1
    assert rung_ids() == [str(delivery.id)]


def test_destinations_failing_for_days_are_disabled(receiver, settings):
    settings.OUTBOUND_DISABLE_AFTER_DAYS = 5
    delivery = emit_to(receiver, "/fail")
    delivery_run(delivery_id=delivery.id)
    destination = Destination.objects.get()
    assert destinations_disable_failing() == 0
    Destination.objects.update(failing_since=timezone.now() - timedelta(days=5, minutes=1))
    assert destinations_disable_failing() == 1
    destination.refresh_from_db()
    assert destination.is_active is False
    assert destination.disabled_reason.startswith("Every delivery failed for 5 days")


def test_a_success_ends_a_run_of_failures(receiver):
    delivery = emit_to(receiver, "/fail-once")
    delivery_run(delivery_id=delivery.id)
    Destination.objects.update(failing_since=timezone.now() - timedelta(days=4))
    make_due(delivery)
    delivery_run(delivery_id=delivery.id)
    assert Destination.objects.get().failing_since is None
    assert destinations_disable_failing() == 0


def test_a_delivery_erased_during_its_attempt_is_not_recorded(receiver):
    from outbound.engine import _claim, _record
    from outbound.webhooks import Outcome

    delivery = emit_to(receiver, "/ok")
    claimed = _claim(delivery.id)
    assert claimed is not None
    Event.objects.all().delete()  # an erasure, while the POST is out
    now = timezone.now()
    outcome = Outcome(ok=True, status_code=200)
    assert _record(claimed, outcome, started_at=now, duration_ms=5, at=now) is None
    assert DeliveryAttempt.objects.count() == 0
    assert Destination.objects.get().last_success_at is None


@pytest.mark.postgres
def test_no_pooled_connection_is_held_while_the_receiver_answers(receiver, monkeypatch):
    from outbound import engine

    held = []

    def sender(**kwargs):
        held.append(connection.connection is not None)
        return engine.webhook_send(**kwargs)

    monkeypatch.setitem(engine.SENDERS, "webhook", sender)
    delivery = emit_to(receiver, "/ok")
    assert attempted(delivery.id).status_code == 200
    assert held == [False]


def test_a_kind_without_a_sender_yet_is_retried_not_crashed(receiver, monkeypatch):
    from outbound import engine

    monkeypatch.delitem(engine.SENDERS, "slack")  # a kind deployed before its sender
    delivery = emit_to(receiver, "/ok")
    Destination.objects.update(kind="slack")
    attempt = attempted(delivery.id)
    assert attempt.error == "slack delivery is not available"
    delivery.refresh_from_db()
    assert delivery.state == "pending"


def test_a_hostname_that_resolves_privately_fails_the_attempt(receiver, settings):
    from outbound.webhooks import webhook_send

    delivery = emit_to(receiver, "/ok")
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = False
    Destination.objects.update(target="https://hooks.customer.example/in")
    destination = Destination.objects.get()
    outcome = webhook_send(
        destination=destination,
        event=delivery.event,
        resolver=lambda host, port: ["169.254.169.254"],
    )
    assert (outcome.ok, outcome.error) == (False, "destination address not allowed")


def test_a_repeated_failure_within_its_second_costs_no_statement(destination):
    at = timezone.now()
    destination_record_outcome(destination_id=destination.id, ok=False, at=at)
    later = at + timedelta(milliseconds=500)
    with CaptureQueriesContext(connection) as queries:
        destination_record_outcome(destination_id=destination.id, ok=False, at=later)
    assert len(queries) == 0
    # A second on, it is written again (the column keeps a one-second resolution).
    a_second_on = at + timedelta(seconds=1, milliseconds=1)
    destination_record_outcome(destination_id=destination.id, ok=False, at=a_second_on)
    stored = Destination.objects.get()
    assert (stored.failing_since, stored.last_failure_at) == (at, a_second_on)


def test_a_success_is_always_written_so_another_process_failure_never_stands(destination):
    """Process A's success, process B's failure (failing_since set), A's success again within
    the second: the run of failures must end, or the destination could be disabled days
    later although its last delivery succeeded."""
    at = timezone.now()
    destination_record_outcome(destination_id=destination.id, ok=True, at=at)
    # Another process records a failure (written directly: it is not this process's memo).
    Destination.objects.filter(pk=destination.pk).update(
        failing_since=at + timedelta(milliseconds=100)
    )
    ok_at = at + timedelta(milliseconds=300)
    destination_record_outcome(destination_id=destination.id, ok=True, at=ok_at)
    stored = Destination.objects.get()
    assert stored.failing_since is None
    assert stored.last_success_at == ok_at


def test_a_failure_after_a_remembered_success_is_recorded_and_a_success_clears_it(destination):
    at = timezone.now()
    destination_record_outcome(destination_id=destination.id, ok=True, at=at)
    failed_at = at + timedelta(milliseconds=100)
    destination_record_outcome(destination_id=destination.id, ok=False, at=failed_at)
    stored = Destination.objects.get()
    assert (stored.failing_since, stored.last_failure_at) == (failed_at, failed_at)
    assert stored.last_success_at == at
    # A repeated failure within the second writes nothing; failing_since stays the first.
    with CaptureQueriesContext(connection) as queries:
        destination_record_outcome(
            destination_id=destination.id, ok=False, at=failed_at + timedelta(milliseconds=100)
        )
    assert len(queries) == 0
    # A success within the same second still clears the run of failures.
    ok_at = at + timedelta(milliseconds=300)
    destination_record_outcome(destination_id=destination.id, ok=True, at=ok_at)
    stored = Destination.objects.get()
    assert stored.failing_since is None
    assert stored.last_success_at == ok_at


def test_an_outcome_rolled_back_is_not_remembered(destination):
    at = timezone.now()
    with pytest.raises(RuntimeError), transaction.atomic():
        destination_record_outcome(destination_id=destination.id, ok=False, at=at)
        raise RuntimeError
    destination_record_outcome(destination_id=destination.id, ok=False, at=at)
    assert Destination.objects.get().failing_since == at


def test_an_enabled_destination_records_its_next_failure(destination):
    at = timezone.now()
    destination_record_outcome(destination_id=destination.id, ok=False, at=at)
    destination_disable(destination=destination, reason="by hand", alert=False)
    destination_enable(destination=destination)
    assert Destination.objects.get().failing_since is None
    destination_record_outcome(
        destination_id=destination.id, ok=False, at=at + timedelta(milliseconds=200)
    )
    assert Destination.objects.get().failing_since == at + timedelta(milliseconds=200)
