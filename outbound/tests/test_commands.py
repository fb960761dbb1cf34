"""The operator commands of §9: the result alone on stdout, clear errors, non-zero exits."""

import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import TestCase
from django.utils import timezone

from outbound.models import Delivery, DeliveryAttempt, Destination, Event
from outbound.services import event_emit
from outbound.tests.conftest import rung_ids
from outbound.tests.factories import DestinationFactory
from workspaces.models import Workspace

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("broker")]
PROJECT = Path(__file__).resolve().parents[2]


def run(*args: str) -> tuple[str, str]:
    """The command's stdout and stderr; its on-commit rings run, as they would in production
    (the test's own transaction never commits)."""
    out, err = StringIO(), StringIO()
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_destination_prints_its_id_then_its_secret(workspace):
    out, err = run(
        "create_destination",
        "--workspace",
        str(workspace.id),
        "--kind",
        "webhook",
        "--url",
        "https://hooks.example.com/in",
        "--events",
        "lead.created,optin.created",
        "--include-spam",
        "--description",
        "CRM sync",
    )
    destination = Destination.objects.get()
    assert out == f"{destination.id}\n{destination.signing_secret}\n"
    assert destination.signing_secret.startswith("whsec_")
    assert (destination.kind, destination.target, destination.description) == (
        "webhook",
        "https://hooks.example.com/in",
        "CRM sync",
    )
    assert destination.event_types == ["lead.created", "optin.created"]
    assert destination.include_spam is True
    assert "shown this once" in err
    workspace.refresh_from_db()
    assert workspace.has_active_destinations is True


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://hooks.example.com/in", "must start with https://"),
        ("https://user:pw@hooks.example.com/in", "credentials"),
        ("https://hooks.example.com/" + "a" * 2100, "too long"),
        ("http://hooks.example.com/in", "must start with https://"),
        ("https://127.0.0.1/in", "not allowed"),
        ("https://169.254.169.254/latest", "not allowed"),
    ],
)
def test_create_destination_refuses_bad_urls(workspace, settings, url, message):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(CommandError, match=message):
        run("create_destination", "--workspace", str(workspace.id), "--kind", "webhook",
            "--url", url)  # fmt: skip
    assert Destination.objects.count() == 0


def test_http_and_private_urls_with_the_private_network_switch(workspace):
    out, _ = run(
        "create_destination", "--workspace", str(workspace.id), "--kind", "webhook",
        "--url", "http://127.0.0.1:9000/hook",
    )  # fmt: skip
    assert Destination.objects.get().target == "http://127.0.0.1:9000/hook"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "webhook"], "--url is required"),
        (["--kind", "webhook", "--url", "https://a.example/", "--events", "lead.deleted"],
         "Unknown event type 'lead.deleted'"),
        (["--kind", "email"], "--email is required"),
        (["--kind", "email", "--email", "not an address"], "Enter a valid email address"),
        (["--kind", "email", "--email", "team@example.com\r\nBcc: x@evil.example"],
         "Enter a valid email address"),
        (["--kind", "email", "--url", "https://a.example/"], "--url goes with --kind webhook"),
        (["--kind", "slack"], "--url is required"),
        (["--kind", "slack", "--email", "team@example.com"], "--email goes with --kind email"),
        (["--kind", "slack", "--url", "hooks.slack.com/services/T0/B0/x"], "must start with https://"),
        (["--kind", "webhook", "--url", "https://a.example/", "--description", "d" * 201],
         "too long"),
    ],
)  # fmt: skip
def test_create_destination_bad_arguments(workspace, args, message):
    with pytest.raises(CommandError, match=message):
        run("create_destination", "--workspace", str(workspace.id), *args)
    assert Destination.objects.count() == 0


def test_create_destination_for_an_unknown_workspace():
    with pytest.raises(CommandError, match="No workspace"):
        run("create_destination", "--workspace", "nope", "--kind", "webhook", "--url",
            "https://a.example/")  # fmt: skip


def test_list_destinations_shows_the_table_and_never_a_secret(workspace):
    first = DestinationFactory(workspace=workspace, event_types=["lead.created"])
    second = DestinationFactory(workspace=workspace, target="https://b.example.com/" + "x" * 80)
    Destination.objects.filter(pk=first.pk).update(
        last_success_at=timezone.now().replace(year=2026, month=3, day=9, hour=12, minute=0)
    )
    run("disable_destination", str(second.id))
    other = DestinationFactory()
    out, err = run("list_destinations", "--workspace", str(workspace.id))
    lines = out.splitlines()
    assert lines[0].split() == [
        "ID", "KIND", "TARGET", "EVENTS", "STATE", "LAST", "SUCCESS", "LAST", "FAILURE",
    ]  # fmt: skip
    assert len(lines) == 3
    assert lines[1].split()[:5] == [
        str(first.id), "webhook", first.target, "lead.created", "active",
    ]  # fmt: skip
    assert "2026-03-09 12:00 UTC" in lines[1]
    assert lines[2].split()[:5] == [str(second.id), "webhook", second.target, "all", "disabled"]
    assert str(other.id) not in out
    assert "whsec_" not in out + err
    assert err == "2 destination(s).\n"
    everything, _ = run("list_destinations")
    assert str(other.id) in everything


def test_disable_and_enable(destination, workspace):
    out, _ = run("disable_destination", str(destination.id), "--reason", "receiver moved")
    assert out == f"{destination.id}\n"
    destination.refresh_from_db()
    assert (destination.is_active, destination.disabled_reason) == (False, "receiver moved")
    assert Workspace.objects.get(pk=workspace.pk).has_active_destinations is False
    out, _ = run("enable_destination", str(destination.id))
    destination.refresh_from_db()
    assert (destination.is_active, destination.disabled_reason) == (True, "")
    assert Workspace.objects.get(pk=workspace.pk).has_active_destinations is True


@pytest.mark.parametrize(
    "command", ["disable_destination", "enable_destination", "rotate_destination_secret",
                "send_test_event"],
)  # fmt: skip
@pytest.mark.parametrize("bad_id", ["not-a-uuid", "6a3e4c8e-0000-4000-8000-000000000000"])
def test_an_unknown_destination_is_a_clear_error(command, bad_id):
    with pytest.raises(CommandError, match="No destination with id"):
        run(command, bad_id)


def test_rotate_secret_prints_the_new_one(destination):
    old = destination.signing_secret
    out, err = run("rotate_destination_secret", str(destination.id))
    destination.refresh_from_db()
    assert out == f"{destination.signing_secret}\n"
    assert destination.signing_secret != old
    assert destination.previous_signing_secret == old
    assert "24 h" in err


def test_send_test_event_prints_the_delivery_id(destination):
    out, _ = run("send_test_event", str(destination.id))
    delivery = Delivery.objects.get()
    assert out == f"{delivery.id}\n"
    assert delivery.event.type == "destination.test"
    assert rung_ids() == [str(delivery.id)]


def _events(workspace: Workspace, states: list[str], days_ago: list[int]) -> list[Delivery]:
    workspace.refresh_from_db()
    deliveries = []
    for state, age in zip(states, days_ago, strict=True):
        event = event_emit(workspace=workspace, type="lead.created", payload={"n": age})
        assert event is not None
        Event.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(days=age))
        delivery = event.deliveries.get()
        Delivery.objects.filter(pk=delivery.pk).update(state=state, next_attempt_at=None)
        deliveries.append(delivery)
    rung_ids()
    return deliveries


def test_redeliver_one_delivery(destination, workspace):
    (delivery,) = _events(workspace, ["succeeded"], [0])
    out, _ = run("redeliver", "--delivery", str(delivery.id))
    assert out == "1\n"
    new = Delivery.objects.exclude(pk=delivery.pk).get()
    assert (new.event_id, new.destination_id, new.state) == (
        delivery.event_id,
        destination.id,
        "pending",
    )
    assert rung_ids() == [str(new.id)]


def test_redeliver_a_destinations_failed_deliveries_in_a_range(destination, workspace):
    failed_old, failed_new, succeeded, failed_recent = _events(
        workspace, ["failed", "failed", "succeeded", "failed"], [10, 3, 2, 0]
    )
    since = (timezone.now() - timedelta(days=5)).date().isoformat()
    until = (timezone.now() - timedelta(days=1)).isoformat()
    out, _ = run(
        "redeliver", "--destination", str(destination.id), "--since", since, "--until", until
    )
    assert out == "1\n"
    assert Delivery.objects.filter(state="pending").get().event_id == failed_new.event_id
    # Already queued again: a second run finds nothing failed left in the range.
    out, _ = run(
        "redeliver", "--destination", str(destination.id), "--since", since, "--until", until
    )
    assert out == "0\n"
    out, _ = run("redeliver", "--destination", str(destination.id), "--state", "all")
    assert out == "4\n"
    assert len(rung_ids()) == 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--delivery", "nope"], "No delivery with id"),
        (["--destination", "nope"], "No destination with id"),
        (["--since", "2026-01-01"], "one of the arguments"),
        (["--delivery", "x", "--destination", "y"], "not allowed with"),
        (["--destination", "{dest}", "--since", "yesterday"], "--since must be an ISO 8601"),
        (["--destination", "{dest}", "--since", "2026-02-01", "--until", "2026-01-01"],
         "must not be after"),
        (["--delivery", "{delivery}", "--since", "2026-01-01"], "go with --destination"),
    ],
)  # fmt: skip
def test_redeliver_bad_arguments(destination, workspace, args, message):
    (delivery,) = _events(workspace, ["failed"], [0])
    args = [a.format(dest=destination.id, delivery=delivery.id) for a in args]
    with pytest.raises(CommandError, match=message):
        run("redeliver", *args)


def test_a_bad_url_exits_non_zero_with_the_message_on_stderr(tmp_path, settings):
    import os

    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "OUTBOUND_ALLOW_PRIVATE_NETWORKS": "0",
    }
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=PROJECT, env=env, check=True
    )
    workspace_id = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "create_workspace", "Acme"],
        cwd=PROJECT, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "create_destination", "--workspace", workspace_id,
         "--kind", "webhook", "--url", "http://hooks.example.com/in"],
        cwd=PROJECT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode != 0
    assert result.stdout == ""
    assert "must start with https://" in result.stderr
    ok = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "create_destination", "--workspace", workspace_id,
         "--kind", "webhook", "--url", "https://hooks.example.com/in"],
        cwd=PROJECT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    destination_id, secret = ok.stdout.splitlines()
    assert len(destination_id) == 36 and secret.startswith("whsec_")


def test_seed_demo_deliveries_fills_a_workspace_for_the_admin_benchmark(admin_client):
    out, _ = run("seed_demo_deliveries", "--deliveries", "120", "--seed", "7")
    workspace = Workspace.objects.get(pk=out.strip())
    deliveries = Delivery.objects.filter(destination__workspace=workspace)
    assert deliveries.count() == 120
    assert Event.objects.filter(workspace=workspace).count() == 120
    assert set(deliveries.values_list("state", flat=True)) <= {"succeeded", "failed", "pending"}
    oldest = deliveries.order_by("created_at").first()
    assert oldest is not None
    assert oldest.created_at < timezone.now() - timedelta(days=7)  # spread over the year
    destinations = Destination.objects.filter(workspace=workspace)
    assert destinations.count() == 5
    assert all(".invalid/" in d.target for d in destinations)
    # Pending ones are not due: a running worker's sweep leaves them alone.
    assert not deliveries.filter(state="pending", next_attempt_at__lte=timezone.now()).exists()
    # Every attempt a delivery counts is in its log; a failed one went through the schedule.
    assert DeliveryAttempt.objects.filter(delivery__in=deliveries).count() == sum(
        deliveries.values_list("attempts", flat=True)
    )
    failed = deliveries.filter(state="failed").first()
    assert failed is not None and failed.attempts == 8 and failed.last_error
    assert failed.attempt_log.count() == 8
    # The destinations' last success and failure are those of their seeded deliveries.
    busiest = max(destinations, key=lambda d: d.deliveries.count())
    newest = busiest.deliveries.filter(state="succeeded").order_by("-finished_at").first()
    assert newest is not None and busiest.last_success_at == newest.finished_at
    # Later writes get their own timestamps again.
    event = event_emit(workspace=Workspace.objects.get(pk=workspace.pk), type="lead.created",
                       payload={})  # fmt: skip
    assert event is not None
    assert event.created_at > timezone.now() - timedelta(minutes=1)
    assert admin_client.get("/admin/outbound/delivery/").status_code == 200
    run("seed_demo_deliveries", "--deliveries", "10", "--workspace", str(workspace.id))
    assert Destination.objects.filter(workspace=workspace).count() == 5
    assert Delivery.objects.count() == 120 + 5 + 10  # the seed, the event to 5, the seed


def test_workspace_options_take_a_unique_name_as_the_other_commands_do(workspace):
    workspace.name = "Acme Outbound"
    workspace.save(update_fields=["name"])
    out, _ = run(
        "create_destination", "--workspace", "Acme Outbound", "--kind", "webhook",
        "--url", "https://hooks.example.com/in",
    )  # fmt: skip
    destination = Destination.objects.get()
    assert out.splitlines()[0] == str(destination.id)
    assert destination.workspace == workspace
    listed, _ = run("list_destinations", "--workspace", "Acme Outbound")
    assert str(destination.id) in listed


def test_create_an_email_destination(workspace):
    out, err = run("create_destination", "--workspace", str(workspace.id), "--kind", "email",
                   "--email", "team@example.com", "--events", "lead.created,optin.created",
                   )  # fmt: skip
    destination = Destination.objects.get()
    assert out == f"{destination.id}\n"  # no secret: only webhooks sign
    assert (destination.kind, destination.target, destination.signing_secret) == (
        "email",
        "team@example.com",
        "",
    )
    assert destination.event_types == ["lead.created", "optin.created"]
    assert "Created email destination" in err


def test_create_a_slack_destination(workspace, settings):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = False
    url = "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX"
    out, _ = run("create_destination", "--workspace", str(workspace.id), "--kind", "slack",
                 "--url", url, "--description", "#sales")  # fmt: skip
    destination = Destination.objects.get()
    assert out == f"{destination.id}\n"
    assert (destination.kind, destination.target, destination.description) == (
        "slack",
        url,
        "#sales",
    )
    listed, _ = run("list_destinations")
    assert listed.splitlines()[1].split()[:3] == [str(destination.id), "slack", url]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.slack.com/services/T0/B0/x", "must start with https://"),
        ("https://192.168.1.10/services/T0/B0/x", "not allowed"),
        ("https://user:pw@hooks.slack.com/services/x", "credentials"),
    ],
)
def test_a_slack_url_follows_the_webhook_rules(workspace, settings, url, message):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(CommandError, match=message):
        run("create_destination", "--workspace", str(workspace.id), "--kind", "slack",
            "--url", url)  # fmt: skip
    assert Destination.objects.count() == 0


@pytest.mark.parametrize(
    ("kind", "target"),
    [("email", "team@example.com"), ("slack", "https://hooks.slack.com/services/T0/B0/x")],
)
def test_send_test_event_to_email_and_slack(workspace, kind, target):
    destination = DestinationFactory(workspace=workspace, kind=kind, target=target)
    rung_ids()
    out, err = run("send_test_event", str(destination.id))
    delivery = Delivery.objects.get()
    assert out == f"{delivery.id}\n"
    assert (delivery.destination_id, delivery.event.type) == (destination.id, "destination.test")
    assert rung_ids() == [str(delivery.id)]
    assert target in err


def test_a_bad_email_exits_non_zero_with_the_message_on_stderr(tmp_path):
    import os

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=PROJECT, env=env, check=True
    )
    workspace_id = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "create_workspace", "Acme"],
        cwd=PROJECT, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "create_destination", "--workspace", workspace_id,
         "--kind", "email", "--email", "team at example.com"],
        cwd=PROJECT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode != 0
    assert result.stdout == ""
    assert "Enter a valid email address." in result.stderr
