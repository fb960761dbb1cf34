"""The back office for destinations and deliveries (SPEC §9)."""

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.db.models import Model
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from outbound.models import Delivery, DeliveryAttempt, Destination, Event
from outbound.tests.conftest import rung_ids
from outbound.tests.factories import DestinationFactory
from workspaces.tests.factories import WorkspaceFactory

if TYPE_CHECKING:
    # What the test client answers: a response with `content`, `json()` and the headers.
    from django.test.client import _MonkeyPatchedWSGIResponse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("broker")]

DESTINATIONS = reverse("admin:outbound_destination_changelist")
DESTINATION_ADD = reverse("admin:outbound_destination_add")
DELIVERIES = reverse("admin:outbound_delivery_changelist")


def make_deliveries(destination: Destination, states: list[str]) -> list[Delivery]:
    event = Event.objects.create(
        workspace_id=destination.workspace_id, type="lead.created", payload={"lead": {"n": 1}}
    )
    now = timezone.now()
    deliveries = []
    for state in states:
        finished = now if state != "pending" else None
        delivery = Delivery.objects.create(
            event=event,
            destination=destination,
            event_type=event.type,
            state=state,
            attempts=1,
            next_attempt_at=now if state == "pending" else None,
            finished_at=finished,
            last_status_code=200 if state == "succeeded" else 500,
        )
        DeliveryAttempt.objects.create(
            delivery=delivery, started_at=now, duration_ms=12, status_code=200,
            response_excerpt="thanks",
        )  # fmt: skip
        deliveries.append(delivery)
    return deliveries


def post_action(
    admin_client: Client, url: str, action: str, objects: Sequence[Model]
) -> "_MonkeyPatchedWSGIResponse":
    with TestCase.captureOnCommitCallbacks(execute=True):
        return admin_client.post(
            url, {"action": action, ACTION_CHECKBOX_NAME: [str(o.pk) for o in objects]}
        )


def test_destination_list_shows_health_without_a_query_per_row(admin_client, workspace):
    destinations = [DestinationFactory(workspace=workspace) for _ in range(3)]
    make_deliveries(destinations[0], ["succeeded", "succeeded", "succeeded", "failed"])
    old = make_deliveries(destinations[1], ["succeeded"])[0]
    Delivery.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(days=2))
    with CaptureQueriesContext(connection) as few:
        response = admin_client.get(DESTINATIONS)
    assert response.status_code == 200
    html = response.content.decode()
    assert "75 % of 4" in html
    for _ in range(10):
        DestinationFactory(workspace=workspace)
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(DESTINATIONS).status_code == 200
    assert len(many) == len(few)
    assert "whsec_" not in html


def test_destination_search_and_filters(admin_client, workspace):
    hook = DestinationFactory(workspace=workspace, description="CRM sync")
    off = DestinationFactory(workspace=workspace, description="Old thing")
    Destination.objects.filter(pk=off.pk).update(is_active=False)
    response = admin_client.get(DESTINATIONS, {"q": "CRM"})
    assert [d.pk for d in response.context["cl"].result_list] == [hook.pk]
    response = admin_client.get(DESTINATIONS, {"is_active__exact": "0"})
    assert [d.pk for d in response.context["cl"].result_list] == [off.pk]


def test_destination_add_goes_through_the_service(admin_client, workspace):
    response = admin_client.post(
        DESTINATION_ADD,
        {
            "workspace": str(workspace.pk),
            "kind": "webhook",
            "target": "https://hooks.example.com/in",
            "description": "From the admin",
            "event_types": ["lead.created"],
        },
    )
    assert response.status_code == 302, response.content.decode()
    destination = Destination.objects.get()
    assert destination.signing_secret.startswith("whsec_")
    assert destination.event_types == ["lead.created"]
    workspace.refresh_from_db()
    assert workspace.has_active_destinations is True


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("ftp://x.example.com/", "must start with https://"),
        ("https://u:p@x.example.com/", "credentials"),
        ("http://x.example.com/", "must start with https://"),
    ],
)
def test_destination_add_refuses_bad_urls(admin_client, workspace, settings, target, message):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = False
    response = admin_client.post(
        DESTINATION_ADD, {"workspace": str(workspace.pk), "kind": "webhook", "target": target}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Destination.objects.count() == 0


def test_destination_change_page_hides_the_secret(admin_client, destination):
    url = reverse("admin:outbound_destination_change", args=[destination.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert destination.signing_secret not in html
    assert "Hidden" in html
    response = admin_client.post(
        url,
        {"target": "https://new.example.com/in", "description": "moved", "event_types": []},
    )
    assert response.status_code == 302
    destination.refresh_from_db()
    assert (destination.target, destination.description) == ("https://new.example.com/in", "moved")


def test_reveal_secret_shows_it_on_request_and_records_it(admin_client, destination):
    response = post_action(admin_client, DESTINATIONS, "reveal_secret", [destination])
    assert response.status_code == 200
    assert destination.signing_secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert LogEntry.objects.filter(change_message="Revealed the signing secret.").count() == 1


def test_rotate_secret_shows_the_new_one(admin_client, destination):
    old = destination.signing_secret
    response = post_action(admin_client, DESTINATIONS, "rotate_secret", [destination])
    destination.refresh_from_db()
    assert destination.signing_secret != old
    assert destination.signing_secret in response.content.decode()
    assert old not in response.content.decode()


def test_enable_disable_and_test_event_actions(admin_client, destination, workspace):
    post_action(admin_client, DESTINATIONS, "disable", [destination])
    destination.refresh_from_db()
    assert destination.is_active is False and destination.disabled_reason.startswith("Disabled by")
    workspace.refresh_from_db()
    assert workspace.has_active_destinations is False
    post_action(admin_client, DESTINATIONS, "enable", [destination])
    destination.refresh_from_db()
    assert destination.is_active is True
    post_action(admin_client, DESTINATIONS, "send_test_event", [destination])
    delivery = Delivery.objects.get()
    assert delivery.event.type == "destination.test"
    assert rung_ids() == [str(delivery.id)]


def test_delivery_list_filters_and_a_fixed_number_of_queries(admin_client, destination):
    other = DestinationFactory(workspace=WorkspaceFactory())
    make_deliveries(destination, ["succeeded", "failed", "pending"])
    make_deliveries(other, ["failed"])
    with CaptureQueriesContext(connection) as few:
        response = admin_client.get(DELIVERIES)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 4
    make_deliveries(other, ["failed"] * 20)
    with CaptureQueriesContext(connection) as many:
        admin_client.get(DELIVERIES)
    assert len(many) == len(few)
    cases = {
        "state__exact": ("failed", 22),
        "event_type__exact": ("lead.created", 24),
        "destination__id__exact": (str(destination.pk), 3),
    }
    for name, (value, count) in cases.items():
        response = admin_client.get(DELIVERIES, {name: value})
        assert response.status_code == 200
        assert len(response.context["cl"].result_list) == count, name
    since = (timezone.now() - timedelta(days=1)).isoformat()
    response = admin_client.get(DELIVERIES, {"created_at__gte": since})
    assert len(response.context["cl"].result_list) == 24
    assert response.status_code == 200


def test_delivery_search_by_id_only(admin_client, destination):
    first, second = make_deliveries(destination, ["succeeded", "failed"])
    response = admin_client.get(DELIVERIES, {"q": str(second.pk)})
    assert [d.pk for d in response.context["cl"].result_list] == [second.pk]
    response = admin_client.get(DELIVERIES, {"q": str(first.event_id)})
    assert len(response.context["cl"].result_list) == 2
    response = admin_client.get(DELIVERIES, {"q": "jane"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


def test_delivery_page_shows_attempts_and_payload_read_only(admin_client, destination):
    (delivery,) = make_deliveries(destination, ["succeeded"])
    response = admin_client.get(reverse("admin:outbound_delivery_change", args=[delivery.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "thanks" in html  # the attempt's response excerpt
    assert str(delivery.event_id) in html
    assert "&quot;n&quot;: 1" in html or '"n": 1' in html
    assert destination.signing_secret not in html
    assert 'name="_save"' not in html


def test_redeliver_action(admin_client, destination):
    (delivery,) = make_deliveries(destination, ["failed"])
    post_action(admin_client, DELIVERIES, "redeliver", [delivery])
    new = Delivery.objects.exclude(pk=delivery.pk).get()
    assert (new.event_id, new.state) == (delivery.event_id, "pending")
    assert rung_ids() == [str(new.id)]


def test_no_add_or_delete_of_deliveries(admin_client, destination):
    assert admin_client.get(reverse("admin:outbound_delivery_add")).status_code == 403
    (delivery,) = make_deliveries(destination, ["failed"])
    url = reverse("admin:outbound_delivery_delete", args=[delivery.pk])
    assert admin_client.get(url).status_code == 403


@pytest.mark.parametrize(
    ("kind", "target"),
    [("email", "team@example.com"), ("slack", "https://hooks.slack.com/services/T0/B0/abc123")],
)
def test_email_and_slack_destinations_are_added_in_the_admin(admin_client, workspace, kind, target):
    add_page = admin_client.get(DESTINATION_ADD).content.decode()
    assert "Target (URL or email address)" in add_page
    assert "incoming-webhook URL" in add_page  # the help says what each kind takes
    response = admin_client.post(
        DESTINATION_ADD,
        {"workspace": str(workspace.pk), "kind": kind, "target": target, "description": ""},
    )
    assert response.status_code == 302, response.content.decode()
    destination = Destination.objects.get()
    assert (destination.kind, destination.target, destination.signing_secret) == (kind, target, "")
    workspace.refresh_from_db()
    assert workspace.has_active_destinations is True


@pytest.mark.parametrize(
    ("kind", "target", "message"),
    [
        ("email", "not an address", "Enter a valid email address."),
        ("email", "a@example.com, b@example.com", "Enter a valid email address."),
        ("slack", "http://hooks.slack.com/services/T0/B0/x", "must start with https://"),
        ("slack", "https://10.0.0.7/services/x", "not allowed"),
    ],
)
def test_bad_email_and_slack_targets_are_refused_in_the_admin(
    admin_client, workspace, settings, kind, target, message
):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = False
    response = admin_client.post(
        DESTINATION_ADD, {"workspace": str(workspace.pk), "kind": kind, "target": target}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Destination.objects.count() == 0


@pytest.mark.parametrize(
    ("kind", "target", "label"),
    [
        ("email", "team@example.com", "Email address"),
        ("slack", "https://hooks.slack.com/services/T0/B0/x", "Slack incoming-webhook URL"),
        ("webhook", "https://hooks.example.com/in", "Webhook URL"),
    ],
)
def test_a_destinations_page_names_its_target_for_its_kind(
    admin_client, workspace, kind, target, label
):
    destination = DestinationFactory(workspace=workspace, kind=kind, target=target)
    url = reverse("admin:outbound_destination_change", args=[destination.pk])
    html = admin_client.get(url).content.decode()
    assert f"{label}:</label>" in html
    # An email destination is edited with an email address, and checked as one.
    if kind == "email":
        response = admin_client.post(url, {"target": "sales@example.com", "event_types": []})
        assert response.status_code == 302
        response = admin_client.post(url, {"target": "https://x.example/", "event_types": []})
        assert "Enter a valid email address." in response.content.decode()
        destination.refresh_from_db()
        assert destination.target == "sales@example.com"


def test_the_actions_work_for_email_and_slack(admin_client, workspace):
    email = DestinationFactory(workspace=workspace, kind="email", target="team@example.com")
    slack = DestinationFactory(workspace=workspace, kind="slack", target="https://hooks.example/x")
    rung_ids()
    post_action(admin_client, DESTINATIONS, "send_test_event", [email, slack])
    deliveries = Delivery.objects.filter(event__type="destination.test")
    assert sorted(deliveries.values_list("destination__kind", flat=True)) == ["email", "slack"]
    assert sorted(rung_ids()) == sorted(str(d.id) for d in deliveries)
    post_action(admin_client, DESTINATIONS, "disable", [email, slack])
    assert not Destination.objects.filter(is_active=True).exists()
    post_action(admin_client, DESTINATIONS, "enable", [email, slack])
    assert Destination.objects.filter(is_active=True).count() == 2
    response = post_action(admin_client, DESTINATIONS, "reveal_secret", [email, slack])
    assert response.status_code == 302  # no secret to show: back to the list, with a warning
    listing = admin_client.get(DESTINATIONS).content.decode()
    assert "team@example.com" in listing and "https://hooks.example/x" in listing
