"""What outbound delivery and signing promise, as the receiver, the stored delivery and its
schedule show it (the tests `make mutation` found missing; see TESTING.md)."""

import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, timedelta
from email.utils import format_datetime
from urllib.parse import quote

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from leads.services import lead_create
from outbound import engine
from outbound.engine import (
    _claim,
    _record,
    deliveries_sweep,
    delivery_run,
    destinations_disable_failing,
)
from outbound.models import Delivery, DeliveryAttempt, Destination
from outbound.services import delivery_redeliver, destination_disable, destination_send_test_event
from outbound.tests.conftest import rung_ids
from outbound.tests.factories import DestinationFactory
from outbound.tests.receiver import Receiver
from outbound.webhooks import Outcome, webhook_send
from workspaces.models import Workspace

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("broker")]


def emit_to(receiver: Receiver, path: str) -> Delivery:
    """A lead in a fresh workspace whose one destination is `path` on the receiver."""
    workspace = Workspace.objects.create(name="Acme")
    DestinationFactory(workspace=workspace, target=receiver.url(path))
    workspace.refresh_from_db()
    lead_create(workspace=workspace, name="Jane Doe", email="jane@example.com")
    rung_ids()
    return Delivery.objects.select_related("event", "destination").get()


def make_due(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def attempted(delivery: Delivery) -> DeliveryAttempt:
    """One attempt of `delivery`, which must be due."""
    attempt = delivery_run(delivery_id=delivery.id)
    assert attempt is not None
    return attempt


def claimed(delivery: Delivery) -> Delivery:
    taken = _claim(delivery.id)
    assert taken is not None
    return taken


def delay_after(delivery: Delivery, attempt: DeliveryAttempt) -> float:
    """Seconds from the end of `attempt` to the delivery's next attempt."""
    delivery.refresh_from_db()
    end = attempt.started_at + timedelta(milliseconds=attempt.duration_ms)
    assert delivery.next_attempt_at is not None
    return (delivery.next_attempt_at - end).total_seconds()


@pytest.fixture
def new_york_local_time() -> Iterator[None]:
    """The server's local time zone is not UTC (what a process's TZ says)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "America/New_York")
        time.tzset()
        yield
    time.tzset()


# --- what the receiver gets ---------------------------------------------------------------


@pytest.mark.usefixtures("new_york_local_time")
def test_the_body_is_compact_utf8_json_in_utc_and_verifies_on_a_server_outside_utc(receiver):
    workspace = Workspace.objects.create(name="Acme")
    DestinationFactory(workspace=workspace, target=receiver.url("/ok"))
    workspace.refresh_from_db()
    lead_create(workspace=workspace, name="José Núñez", email="jose@example.com")
    delivery = Delivery.objects.select_related("event", "destination").get()

    delivery_run(delivery_id=delivery.id)

    (request,) = receiver.received("/ok")
    event = delivery.event
    document = {
        "type": "lead.created",
        "timestamp": event.created_at.astimezone(UTC).isoformat(),
        "data": event.payload,
    }
    assert request.body == json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    assert "José Núñez".encode() in request.body
    assert json.loads(request.body)["timestamp"].endswith("+00:00")
    assert request.headers["User-Agent"] == "Hushmetrics-Webhooks/1.0"
    assert request.headers["Content-Type"] == "application/json"
    Webhook(delivery.destination.signing_secret).verify(request.body, request.headers)


@pytest.mark.parametrize(
    ("code", "state", "error"),
    [
        (204, "succeeded", ""),
        (299, "succeeded", ""),
        (300, "pending", "redirect not followed (300)"),
        (399, "pending", "redirect not followed (399)"),
        (400, "pending", "HTTP 400"),
        (404, "pending", "HTTP 404"),
        (500, "pending", "HTTP 500"),
    ],
)
def test_only_a_2xx_answer_delivers(receiver, code, state, error):
    delivery = emit_to(receiver, f"/status?code={code}")
    attempt = attempted(delivery)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.last_status_code, delivery.last_error) == (state, code, error)
    assert (attempt.status_code, attempt.error) == (code, error)


def test_an_answer_that_is_not_utf8_is_stored_with_replacement_characters(receiver):
    delivery = emit_to(receiver, "/status?code=500&body=caf%E9")
    attempt = attempted(delivery)
    assert attempt.response_excerpt == "caf\ufffd"


def test_410_is_stored_on_the_delivery_and_names_the_day_in_the_reason(receiver):
    delivery = emit_to(receiver, "/gone")
    attempt = attempted(delivery)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.last_error, attempt.error) == (
        "failed",
        "410 Gone",
        "410 Gone",
    )
    assert attempt.response_excerpt == "this endpoint is gone"
    assert delivery.finished_at is not None and delivery.next_attempt_at is None
    reason = Destination.objects.get().disabled_reason
    assert re.fullmatch(
        r"The receiver answered 410 Gone on \d{4}-\d\d-\d\d \d\d:\d\d UTC\.", reason
    )


def test_410_to_a_test_event_keeps_an_already_disabled_destinations_reason(receiver):
    delivery = emit_to(receiver, "/gone")
    destination_disable(destination=delivery.destination, reason="paused by ops")
    test = destination_send_test_event(destination=delivery.destination)
    assert attempted(test).status_code == 410
    destination = Destination.objects.get()
    assert (destination.is_active, destination.disabled_reason) == (False, "paused by ops")


def test_a_long_connection_error_is_cut_to_500_characters(receiver, settings):
    delivery = emit_to(receiver, "/ok")

    def unresolvable(host: str, port: int) -> list[str]:
        raise OSError("no answer for " + "x" * 600)

    Destination.objects.update(target="https://hooks.customer.example/in")
    outcome = webhook_send(
        destination=Destination.objects.get(), event=delivery.event, resolver=unresolvable
    )
    assert outcome.error.startswith("connection failed: could not resolve hooks.customer.example")
    assert len(outcome.error) == 500


# --- Retry-After and the schedule -----------------------------------------------------------


def http_date(seconds_from_now: float, *, zone: str = "GMT") -> str:
    when = (timezone.now() + timedelta(seconds=seconds_from_now)).astimezone(UTC)
    text = format_datetime(when, usegmt=True)
    return quote(text.replace("GMT", zone))


@pytest.mark.parametrize("path", ["/busy", "/slow-down"])
@pytest.mark.parametrize("zone", ["GMT", "-0000", "+0000"])
def test_retry_after_as_an_http_date_is_honoured(receiver, path, zone):
    delivery = emit_to(receiver, f"{path}?retry_after={http_date(300, zone=zone)}")
    attempt = attempted(delivery)
    # An HTTP date has whole seconds: 299–300 s from now.
    assert 298.5 <= delay_after(delivery, attempt) <= 300.5
    assert attempt.error in ("HTTP 503", "HTTP 429")


def test_retry_after_as_a_date_already_past_keeps_the_schedule(receiver, settings):
    settings.OUTBOUND_RETRY_SCHEDULE = [10]
    delivery = emit_to(receiver, f"/busy?retry_after={http_date(-3600)}")
    attempt = attempted(delivery)
    assert 9 - 0.05 <= delay_after(delivery, attempt) <= 11 + 0.05


def test_retry_after_as_a_date_already_past_adds_no_wait_to_an_immediate_retry(receiver, settings):
    settings.OUTBOUND_RETRY_SCHEDULE = [0]
    delivery = emit_to(receiver, f"/slow-down?retry_after={http_date(-3600)}")
    attempt = attempted(delivery)
    assert -0.05 <= delay_after(delivery, attempt) <= 0.05


def test_retry_after_with_spaces_around_it_is_read(receiver):
    delivery = emit_to(receiver, "/slow-down?retry_after=120%20%20")
    attempt = attempted(delivery)
    assert 120 * 0.9 - 0.05 <= delay_after(delivery, attempt) <= 120 * 1.1 + 0.05


def test_retry_after_is_ignored_on_other_statuses(receiver):
    delivery = emit_to(receiver, "/status?code=500&retry_after=600")
    attempt = attempted(delivery)
    assert 0.9 - 0.05 <= delay_after(delivery, attempt) <= 1.1 + 0.05


def test_each_retry_waits_its_own_step_of_the_schedule(receiver, settings):
    settings.OUTBOUND_RETRY_SCHEDULE = [10, 40]
    delivery = emit_to(receiver, "/fail")
    first = attempted(delivery)
    assert 9 - 0.05 <= delay_after(delivery, first) <= 11 + 0.05
    make_due(delivery)
    second = attempted(delivery)
    assert 36 - 0.05 <= delay_after(delivery, second) <= 44 + 0.05
    make_due(delivery)
    delivery_run(delivery_id=delivery.id)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == ("failed", 3, None)


# --- claims and recording -------------------------------------------------------------------


def test_a_claim_is_leased_for_the_timeout_plus_thirty_seconds(receiver, settings):
    settings.OUTBOUND_TIMEOUT_SECONDS = 7
    delivery = emit_to(receiver, "/ok")
    before = timezone.now()
    assert _claim(delivery.id) is not None
    delivery.refresh_from_db()
    assert delivery.next_attempt_at is not None
    lease = (delivery.next_attempt_at - before).total_seconds()
    assert 37 <= lease <= 37.5
    assert (delivery.attempts, delivery.rung_at) == (1, None)


def test_a_disabled_destinations_delivery_is_finished_unsent_and_unscheduled(receiver):
    delivery = emit_to(receiver, "/ok")
    destination_disable(destination=delivery.destination, reason="paused by ops")
    assert delivery_run(delivery_id=delivery.id) is None
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == ("failed", 0, None)
    assert delivery.finished_at is not None
    assert DeliveryAttempt.objects.count() == 0


def test_an_attempt_whose_lease_ran_out_does_not_overwrite_the_newer_one(receiver):
    delivery = emit_to(receiver, "/ok")
    late = claimed(delivery)  # a worker that is slow past its lease …
    make_due(delivery)
    current = claimed(delivery)  # … while another one takes the delivery again
    assert (late.attempts, current.attempts) == (1, 2)
    now = timezone.now()
    _record(late, Outcome(ok=True, status_code=200), started_at=now, duration_ms=5, at=now)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("pending", 2, None)
    failure = Outcome(ok=False, status_code=500, error="HTTP 500")
    _record(current, failure, started_at=now, duration_ms=5, at=now)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.last_status_code, delivery.last_error) == (
        "pending",
        500,
        "HTTP 500",
    )
    assert DeliveryAttempt.objects.count() == 2


def test_recording_one_attempt_leaves_the_other_deliveries_alone(receiver):
    # Two destinations, two deliveries, each taken by its own worker: recording one
    # attempt's outcome must not touch the other delivery's row.
    delivery = emit_to(receiver, "/ok")
    DestinationFactory(workspace=delivery.destination.workspace, target=receiver.url("/fail"))
    lead_create(workspace=delivery.destination.workspace, name="John Roe")
    rung_ids()
    new = Delivery.objects.filter(event__payload__lead__name="John Roe")
    first = new.get(destination__target=receiver.url("/ok"))
    second = new.get(destination__target=receiver.url("/fail"))
    other = claimed(second)  # the other worker's attempt is under way
    assert attempted(first).status_code == 200
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, first.last_status_code) == ("succeeded", 200)
    assert (second.state, second.attempts, second.last_status_code, second.finished_at) == (
        "pending",
        1,
        None,
        None,
    )
    assert second.next_attempt_at == other.next_attempt_at  # still its lease
    assert DeliveryAttempt.objects.filter(delivery=second).count() == 0


def test_a_retry_scheduled_after_the_sweep_rang_a_lapsed_lease_is_rung_when_due(receiver):
    delivery = emit_to(receiver, "/fail")
    out = claimed(delivery)  # an attempt out past its lease …
    make_due(delivery)
    assert deliveries_sweep() == 1  # … so the sweep rings it again (that message finds it
    assert rung_ids() == [str(delivery.id)]  # not due once the retry below is scheduled)
    now = timezone.now()
    failure = Outcome(ok=False, status_code=500, error="HTTP 500")
    _record(out, failure, started_at=now, duration_ms=5, at=now)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.rung_at) == ("pending", 1, None)
    make_due(delivery)  # the retry's time comes: the sweep rings it, not a minute later
    assert deliveries_sweep() == 1
    assert rung_ids() == [str(delivery.id)]


def test_an_attempt_reads_its_delivery_event_and_destination_in_one_query(receiver):
    delivery = emit_to(receiver, "/ok")
    with CaptureQueriesContext(connection) as queries:
        attempted(delivery)
    transaction_control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")
    statements = [query["sql"].split()[0] for query in queries]
    statements = [verb for verb in statements if verb not in transaction_control]
    # The claim: 1. SELECT the delivery with its event and destination, 2. UPDATE its
    # lease. The record: 3. UPDATE the delivery, 4. INSERT the attempt, 5. UPDATE the
    # destination's last success. No other read: none while the receiver answers.
    assert statements == ["SELECT", "UPDATE", "UPDATE", "INSERT", "UPDATE"], (
        queries.captured_queries
    )


def test_the_retry_waits_within_ten_per_cent_of_its_step_either_way(settings):
    settings.OUTBOUND_RETRY_SCHEDULE = [100]
    failure = Outcome(ok=False, status_code=500, error="HTTP 500")
    waits = []
    for _ in range(2000):
        delay = engine.retry_delay(attempts=1, outcome=failure)
        assert delay is not None
        waits.append(delay.total_seconds())
    assert 90 <= min(waits) < 91 and 109 < max(waits) <= 110


def test_a_senders_long_error_is_stored_cut_to_500_characters(receiver, monkeypatch):
    def sender(**kwargs: object) -> Outcome:
        return Outcome(ok=False, error="E" * 700)

    monkeypatch.setitem(engine.SENDERS, "webhook", sender)
    delivery = emit_to(receiver, "/ok")
    attempt = attempted(delivery)
    delivery.refresh_from_db()
    assert attempt.error == "E" * 500
    assert delivery.last_error == "E" * 500


def test_the_destination_records_when_its_attempts_failed_and_succeeded(receiver):
    delivery = emit_to(receiver, "/fail-once")
    first = attempted(delivery)
    destination = Destination.objects.get()
    failed_at = first.started_at + timedelta(milliseconds=first.duration_ms)
    assert destination.last_failure_at is not None
    assert abs((destination.last_failure_at - failed_at).total_seconds()) < 0.5
    assert destination.failing_since == destination.last_failure_at
    assert destination.last_success_at is None
    make_due(delivery)
    second = attempted(delivery)
    destination.refresh_from_db()
    succeeded_at = second.started_at + timedelta(milliseconds=second.duration_ms)
    assert destination.last_success_at is not None
    assert abs((destination.last_success_at - succeeded_at).total_seconds()) < 0.5
    assert destination.failing_since is None


def test_the_attempt_log_line_says_the_outcome(receiver, caplog):
    caplog.set_level(logging.INFO, logger="outbound.engine")
    failing = emit_to(receiver, "/fail-once")
    delivery_run(delivery_id=failing.id)
    assert "retry due" in caplog.records[-1].getMessage()
    make_due(failing)
    delivery_run(delivery_id=failing.id)
    assert caplog.records[-1].getMessage().endswith("succeeded")


def test_an_erased_delivery_is_logged_not_recorded(receiver, caplog):
    caplog.set_level(logging.INFO, logger="outbound.engine")
    delivery = emit_to(receiver, "/ok")
    taken = claimed(delivery)
    Delivery.objects.all().delete()
    now = timezone.now()
    assert _record(taken, Outcome(ok=True), started_at=now, duration_ms=5, at=now) is None
    assert caplog.records[-1].getMessage() == (
        f"delivery {delivery.id} was deleted during its attempt"
    )


def test_an_erased_delivery_whose_receiver_answered_410_disables_nothing(receiver, caplog):
    # The attempt's 410 has no delivery left to count against: the destination stays
    # active, and the log says the delivery was erased, not that anything was disabled.
    caplog.set_level(logging.INFO)
    delivery = emit_to(receiver, "/gone")
    taken = claimed(delivery)
    Delivery.objects.all().delete()
    now = timezone.now()
    gone = Outcome(ok=False, status_code=410, error="410 Gone", gone=True)
    assert _record(taken, gone, started_at=now, duration_ms=5, at=now) is None
    said = [r.getMessage() for r in caplog.records if r.name.startswith("outbound")]
    assert said == [f"delivery {delivery.id} was deleted during its attempt"]
    destination = Destination.objects.get()
    assert (destination.is_active, destination.disabled_reason) == (True, "")
    assert DeliveryAttempt.objects.count() == 0


# --- the sweep and the failing-destination check --------------------------------------------


def test_the_sweep_rings_the_longest_due_first_and_uses_the_configured_batch(
    receiver: Receiver, settings
):
    settings.OUTBOUND_SWEEP_BATCH = 2
    delivery = emit_to(receiver, "/ok")
    later = [delivery_redeliver(delivery=delivery) for _ in range(2)]
    now = timezone.now()
    for age, row in [(30, later[0]), (10, later[1]), (20, delivery)]:
        Delivery.objects.filter(pk=row.pk).update(
            next_attempt_at=now - timedelta(seconds=age), rung_at=None
        )
    rung_ids()
    assert deliveries_sweep() == 2
    assert rung_ids() == [str(later[0].id), str(delivery.id)]
    assert deliveries_sweep() == 1
    assert rung_ids() == [str(later[1].id)]


def test_every_failing_destination_is_disabled_with_the_day_it_began(receiver, settings):
    settings.OUTBOUND_DISABLE_AFTER_DAYS = 5
    workspace = Workspace.objects.create(name="Acme")
    for n in range(2):
        DestinationFactory(workspace=workspace, target=receiver.url(f"/fail?{n}"))
    since = timezone.now() - timedelta(days=6)
    Destination.objects.update(failing_since=since)
    assert destinations_disable_failing() == 2
    expected = f"Every delivery failed for 5 days (since {since:%Y-%m-%d %H:%M} UTC)."
    assert list(Destination.objects.values_list("is_active", "disabled_reason")) == [
        (False, expected),
        (False, expected),
    ]
    assert destinations_disable_failing() == 0


# --- two workers at once (PostgreSQL: row locks) --------------------------------------------


def hold_row_lock(delivery: Delivery, seconds: float) -> threading.Thread:
    """Another worker's transaction holding `delivery`'s row for `seconds` (started, locked)."""
    locked = threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                Delivery.objects.select_for_update().get(pk=delivery.pk)
                locked.set()
                time.sleep(seconds)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert locked.wait(5)
    return thread


@pytest.mark.postgres
def test_a_delivery_another_worker_holds_is_skipped_not_waited_for(receiver):
    delivery = emit_to(receiver, "/ok")
    Delivery.objects.filter(pk=delivery.pk).update(rung_at=None)
    holder = hold_row_lock(delivery, 2)
    started = time.monotonic()
    assert _claim(delivery.id) is None
    assert deliveries_sweep() == 0
    assert time.monotonic() - started < 1
    holder.join()
    assert rung_ids() == []
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.rung_at) == (0, None)
    assert deliveries_sweep() == 1
    assert attempted(delivery).status_code == 200


@pytest.mark.postgres
def test_a_claim_does_not_hold_up_other_deliveries_to_the_same_destination(receiver):
    # A claim locks its delivery's row only (`of=("self",)`), not the event and destination
    # it reads with it: otherwise, with skip_locked, a second worker would pass over every
    # other delivery to that destination while one is being claimed.
    first = emit_to(receiver, "/ok")
    workspace = Workspace.objects.get(pk=first.destination.workspace_id)
    lead_create(workspace=workspace, name="Second Lead", email="second@example.com")
    rung_ids()
    second = Delivery.objects.exclude(pk=first.pk).get()
    locked = threading.Event()

    def claim_and_hold() -> None:
        try:
            with transaction.atomic():
                if _claim(first.id) is not None:
                    locked.set()
                    time.sleep(2)
        finally:
            connection.close()

    holder = threading.Thread(target=claim_and_hold)
    holder.start()
    assert locked.wait(5)
    claimed = _claim(second.id)
    holder.join()

    assert claimed is not None
    assert (claimed.id, claimed.attempts) == (second.id, 1)


def test_the_sweep_never_rings_a_finished_delivery(receiver):
    delivery = emit_to(receiver, "/gone")
    attempted(delivery)
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now(), rung_at=None)
    assert deliveries_sweep() == 0
    assert rung_ids() == []


def test_a_destination_named_by_hostname_is_resolved_and_delivered(receiver):
    delivery = emit_to(receiver, "/ok")
    Destination.objects.update(target=f"http://localhost:{receiver.port}/ok")
    assert attempted(delivery).status_code == 200
    delivery.refresh_from_db()
    assert delivery.state == "succeeded"


def test_a_timed_out_attempt_says_after_how_long(receiver, settings):
    settings.OUTBOUND_TIMEOUT_SECONDS = 1
    delivery = emit_to(receiver, "/hang")
    attempt = attempted(delivery)
    assert re.fullmatch(r"timed out after 1\.\d s", attempt.error), attempt.error
    delivery.refresh_from_db()
    assert (delivery.state, delivery.last_error) == ("pending", attempt.error)


def test_an_attempt_out_while_its_destination_was_disabled_leaves_the_delivery_failed(receiver):
    delivery = emit_to(receiver, "/ok")
    out = claimed(delivery)  # a worker's attempt is out past its lease …
    destination_disable(destination=delivery.destination, reason="paused by ops")
    make_due(delivery)
    assert _claim(delivery.id) is None  # … and the next claim finds the destination disabled
    now = timezone.now()
    _record(out, Outcome(ok=True, status_code=200), started_at=now, duration_ms=5, at=now)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.last_error) == (
        "failed",
        "destination disabled: paused by ops",
    )
    assert delivery.last_status_code is None
