"""Failure alerts (SPEC §9): a destination disabled automatically (410, days of failures)
is reported to the workspace's active email destinations, once, by the delivery engine
itself; staff disabling one by hand are not told what they just did."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from leads.services import lead_create
from outbound.engine import delivery_run, destinations_disable_failing
from outbound.models import Delivery, Destination, Event
from outbound.services import destination_disable, destination_enable
from outbound.tests.conftest import rung_ids
from outbound.tests.factories import DestinationFactory
from outbound.tests.receiver import Receiver
from outbound.tests.smtp import SMTPServer
from workspaces.models import Workspace

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("broker")]


def workspace_with(receiver: Receiver, path: str, *emails: str, **email_fields) -> Workspace:
    workspace = Workspace.objects.create(name="Acme")
    DestinationFactory(workspace=workspace, target=receiver.url(path), description="CRM sync")
    for address in emails:
        DestinationFactory(workspace=workspace, kind="email", target=address, **email_fields)
    workspace.refresh_from_db()
    return workspace


def run_due() -> None:
    """Every due delivery, once (as the workers would)."""
    for delivery_id in Delivery.objects.filter(
        state="pending", next_attempt_at__lte=timezone.now()
    ).values_list("id", flat=True):
        delivery_run(delivery_id=delivery_id)


def test_a_410_disables_the_webhook_and_tells_the_email_destinations(
    receiver, smtp_server: SMTPServer
):
    workspace = workspace_with(
        receiver, "/gone", "team@example.com", "ops@example.com", event_types=["lead.created"]
    )
    webhook = Destination.objects.get(kind="webhook")
    lead_create(workspace=workspace, name="Jane Doe")
    Delivery.objects.filter(destination__kind="email").delete()  # only the webhook's, here
    rung_ids()
    run_due()
    webhook.refresh_from_db()
    assert webhook.is_active is False
    # One alert event, one delivery to each active email destination, in the same
    # transaction as the disable (rung once it committed).
    (alert,) = Event.objects.filter(type="destination.disabled")
    assert alert.payload["destination"] == {
        "id": str(webhook.id),
        "kind": "webhook",
        "target": webhook.target,
        "description": "CRM sync",
    }
    assert alert.payload["reason"] == webhook.disabled_reason
    assert sorted(alert.deliveries.values_list("destination__target", flat=True)) == [
        "ops@example.com",
        "team@example.com",
    ]
    assert sorted(rung_ids()) == sorted(str(d.id) for d in alert.deliveries.all())

    run_due()
    received = smtp_server.wait_for(2)
    assert sorted(r.rcpt_tos[0] for r in received) == ["ops@example.com", "team@example.com"]
    message = received[0].message
    assert message["Subject"] == "Destination disabled: CRM sync"
    assert message["Reply-To"] is None
    text = received[0].part("text/plain")
    assert f"Id: {webhook.id}" in text
    assert f"Target: {webhook.target}" in text
    assert "The receiver answered 410 Gone on" in text
    assert f"Command: python manage.py enable_destination {webhook.id}" in text
    admin_url = f"https://hm.example.com/admin/outbound/destination/{webhook.id}/change/"
    assert f"Back office: {admin_url}" in text
    assert f"python manage.py redeliver --destination {webhook.id}" in text
    html = received[0].part("text/html")
    assert f'href="{admin_url}"' in html and "How to enable it again" in html
    assert "#b91c1c" in html  # shown as an alert
    assert set(Delivery.objects.filter(event=alert).values_list("state", flat=True)) == {
        "succeeded"
    }

    # Nothing more: the webhook is disabled; running again sends nothing twice.
    run_due()
    assert len(smtp_server.received()) == 2
    assert Event.objects.filter(type="destination.disabled").count() == 1


def test_days_of_failures_disable_and_alert_once(receiver, smtp_server: SMTPServer, settings):
    settings.OUTBOUND_DISABLE_AFTER_DAYS = 5
    workspace = workspace_with(receiver, "/fail", "team@example.com")
    webhook = Destination.objects.get(kind="webhook")
    Destination.objects.filter(pk=webhook.pk).update(
        failing_since=timezone.now() - timedelta(days=5, minutes=1)
    )
    assert destinations_disable_failing() == 1
    assert destinations_disable_failing() == 0  # disabled already: no second alert
    (alert,) = Event.objects.filter(type="destination.disabled", workspace=workspace)
    assert alert.payload["reason"].startswith("Every delivery failed for 5 days")
    run_due()
    (received,) = smtp_server.wait_for(1)
    assert received.message["Subject"] == "Destination disabled: CRM sync"
    assert "Every delivery failed for 5 days" in received.part("text/plain")


def test_staff_disabling_by_hand_sends_no_alert(receiver, admin_client):
    workspace_with(receiver, "/ok", "team@example.com")
    webhook = Destination.objects.get(kind="webhook")
    call_command("disable_destination", str(webhook.id), stdout=StringIO(), stderr=StringIO())
    webhook.refresh_from_db()
    assert webhook.is_active is False
    destination_enable(destination=webhook)
    response = admin_client.post(
        reverse("admin:outbound_destination_changelist"),
        {"action": "disable", ACTION_CHECKBOX_NAME: [str(webhook.pk)]},
    )
    assert response.status_code == 302
    webhook.refresh_from_db()
    assert (webhook.is_active, webhook.disabled_reason) == (False, "Disabled by admin.")
    assert not Event.objects.filter(type="destination.disabled").exists()


def test_a_disabled_email_destination_tells_the_others_not_itself(smtp_server: SMTPServer):
    workspace = Workspace.objects.create(name="Acme")
    failing = DestinationFactory(workspace=workspace, kind="email", target="old@example.com")
    DestinationFactory(workspace=workspace, kind="email", target="team@example.com")
    destination_disable(destination=failing, reason="Every delivery failed for 5 days.")
    (alert,) = Event.objects.filter(type="destination.disabled")
    assert list(alert.deliveries.values_list("destination__target", flat=True)) == [
        "team@example.com"
    ]
    # Disabled twice (two workers at once, or a retry): told once.
    destination_disable(destination=failing, reason="Every delivery failed for 5 days.")
    assert Event.objects.filter(type="destination.disabled").count() == 1


def test_the_last_email_destination_disabled_has_nobody_to_tell(caplog):
    workspace = Workspace.objects.create(name="Acme")
    only = DestinationFactory(workspace=workspace, kind="email", target="team@example.com")
    slack = DestinationFactory(workspace=workspace, kind="slack", target="https://hooks.example/x")
    destination_disable(destination=only, reason="The receiver answered 410 Gone.")
    assert not Event.objects.filter(type="destination.disabled").exists()
    assert "no email destination to tell" in caplog.text
    assert not Delivery.objects.filter(destination=slack).exists()  # alerts are email only


def test_an_alert_is_written_with_the_disable_or_not_at_all():
    workspace = Workspace.objects.create(name="Acme")
    webhook = DestinationFactory(workspace=workspace)
    DestinationFactory(workspace=workspace, kind="email", target="team@example.com")
    with pytest.raises(RuntimeError), transaction.atomic():
        destination_disable(destination=webhook, reason="The receiver answered 410 Gone.")
        raise RuntimeError("the transaction fails after the disable")
    assert Destination.objects.get(pk=webhook.pk).is_active is True
    assert not Event.objects.filter(type="destination.disabled").exists()
    assert rung_ids() == []


def test_a_slack_destination_answering_410_is_reported_without_its_secret_path(
    receiver, smtp_server: SMTPServer
):
    workspace = Workspace.objects.create(name="Acme")
    slack = DestinationFactory(
        workspace=workspace, kind="slack", target=receiver.url("/gone?token=T0SECRET")
    )
    DestinationFactory(workspace=workspace, kind="email", target="team@example.com")
    workspace.refresh_from_db()
    lead_create(workspace=workspace, name="Jane Doe")
    run_due()
    slack.refresh_from_db()
    assert slack.is_active is False
    (alert,) = Event.objects.filter(type="destination.disabled")
    assert alert.payload["destination"]["target"] == f"http://127.0.0.1:{receiver.port}/gone"
    run_due()
    text = smtp_server.wait_for(2)[-1].part("text/plain")  # the lead, then the alert
    assert "T0SECRET" not in text
    assert "Destination disabled: slack" in smtp_server.received()[-1].message["Subject"]
