"""Slack destinations (SPEC §9): `{"text", "blocks"}` POSTed to an incoming-webhook URL (a
local receiver here), escaped for mrkdwn, with the webhooks' retries and address rules."""

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from leads.services import lead_create
from optin.services import optin_submit
from outbound.engine import delivery_run
from outbound.models import Delivery, DeliveryAttempt, Destination
from outbound.services import destination_send_test_event
from outbound.slack import FIELD_MAX, HEADER_MAX, SECTION_MAX, escape, slack_send
from outbound.tests.conftest import rung_ids
from outbound.tests.factories import DestinationFactory
from outbound.tests.receiver import Receiver
from workspaces.models import Workspace
from workspaces.tests.factories import ApiKeyFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("broker")]


@pytest.fixture(autouse=True)
def _public_url(settings) -> None:
    settings.PUBLIC_BASE_URL = "https://hm.example.com"


def workspace_with_slack(receiver: Receiver, path: str = "/ok") -> Workspace:
    workspace = Workspace.objects.create(name="Acme")
    DestinationFactory(workspace=workspace, kind="slack", target=receiver.url(path))
    workspace.refresh_from_db()
    return workspace


def a_lead(workspace: Workspace, **fields: Any) -> Delivery:
    values: dict[str, Any] = {
        "name": "Jane Doe",
        "email": "jane@example.com",
        "phone": "+44 20 7946 0958",
        "source": "website",
        "value": Decimal("500"),
        "utm": {"utm_source": "google", "utm_campaign": "spring"},
        "extra_data": {"company": "Acme Ltd", "message": "Hello!\nA quote, please."},
        **fields,
    }
    lead_create(workspace=workspace, **values)
    rung_ids()
    return Delivery.objects.select_related("event", "destination").get()


def attempted(delivery: Delivery) -> DeliveryAttempt:
    attempt = delivery_run(delivery_id=delivery.id)
    assert attempt is not None
    return attempt


def posted(receiver: Receiver, path: str = "/ok") -> dict[str, Any]:
    (request,) = receiver.received(path)
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "webhook-signature" not in request.headers  # Slack's URL is the credential
    return json.loads(request.body)


def blocks_of(document: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [block for block in document["blocks"] if block["type"] == kind]


def test_a_new_lead_is_text_and_blocks_with_the_fields_and_a_link(receiver):
    delivery = a_lead(workspace_with_slack(receiver))
    attempt = attempted(delivery)
    assert attempt.status_code == 200
    document = posted(receiver)
    assert document["text"] == "New lead: Jane Doe (website)"
    (header,) = blocks_of(document, "header")
    assert header["text"] == {"type": "plain_text", "text": "New lead: Jane Doe"}
    fields, message, others = blocks_of(document, "section")
    assert [field["text"] for field in fields["fields"]] == [
        "*Name*\nJane Doe",
        "*Email*\njane@example.com",
        "*Phone*\n+44 20 7946 0958",
        "*Source*\nwebsite",
        "*Value*\n500.00",
        "*Status*\ncontact",
    ]
    assert message["text"] == {"type": "mrkdwn", "text": "*Message*\n>Hello!\n>A quote, please."}
    assert others["text"]["text"] == "*Form fields*\n*Company:* Acme Ltd"
    contexts = [block["elements"][0]["text"] for block in blocks_of(document, "context")]
    assert contexts == [
        "A new lead came in (source: website).",
        "utm_source: google · utm_campaign: spring",
    ]
    (actions,) = blocks_of(document, "actions")
    lead_id = delivery.event.payload["lead"]["id"]
    assert actions["elements"] == [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": "Open the lead"},
            "url": f"https://hm.example.com/admin/leads/lead/{lead_id}/change/",
        }
    ]
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("succeeded", 1)


def test_slack_control_characters_in_lead_values_are_escaped(receiver):
    delivery = a_lead(
        workspace_with_slack(receiver),
        name="<!channel> Tom & Jerry",
        email="<mailto:x@evil.example|boss@acme.example>",
        extra_data={"message": "<https://evil.example|Click here> & <@U123>"},
    )
    attempted(delivery)
    document = posted(receiver)
    assert document["text"] == "New lead: &lt;!channel&gt; Tom &amp; Jerry (website)"
    fields, message = blocks_of(document, "section")
    assert fields["fields"][0]["text"] == "*Name*\n&lt;!channel&gt; Tom &amp; Jerry"
    assert fields["fields"][1]["text"] == "*Email*\n&lt;mailto:x@evil.example|boss@acme.example&gt;"
    assert message["text"]["text"] == (
        "*Message*\n>&lt;https://evil.example|Click here&gt; &amp; &lt;@U123&gt;"
    )
    mrkdwn = json.dumps([document["text"], *blocks_of(document, "section")])
    assert "<!channel>" not in mrkdwn and "<https://evil" not in mrkdwn and "<@U123>" not in mrkdwn
    # plain_text (the header) is not parsed (no mentions, no links): shown as it is.
    assert blocks_of(document, "header")[0]["text"]["text"] == "New lead: <!channel> Tom & Jerry"


def test_an_opt_in_is_one_message_with_its_questions_and_answers(receiver):
    workspace = workspace_with_slack(receiver)
    optin_submit(
        api_key=ApiKeyFactory(workspace=workspace),
        email="sam@example.com",
        first_name="Sam",
        last_name="Lee",
        source="CALENDLY",
        questions_answers=[{"question": "Why us?", "answer": "Speed\n& price", "position": 0}],
    )
    rung_ids()
    (delivery,) = Delivery.objects.all()  # optin.created only: one message per submission
    assert delivery.event_type == "optin.created"
    attempted(delivery)
    document = posted(receiver)
    assert document["text"] == "New opt-in: Sam Lee (CALENDLY)"
    sections = blocks_of(document, "section")
    assert sections[0]["fields"][0]["text"] == "*Name*\nSam Lee"
    assert sections[1]["text"]["text"] == (
        "*Questions and answers*\n*Why us?*\n>Speed\n>&amp; price"
    )


def test_a_test_event_posts_its_own_message(receiver):
    workspace = workspace_with_slack(receiver)
    destination = Destination.objects.get(workspace=workspace)
    attempted(destination_send_test_event(destination=destination))
    document = posted(receiver)
    assert document["text"] == "Test message from Hushmetrics"
    section = blocks_of(document, "section")[0]["text"]["text"]
    assert section == f"*Destination*\n*Kind:* slack\n*Id:* {destination.id}"
    assert blocks_of(document, "actions")[0]["elements"][0]["url"] == (
        f"https://hm.example.com/admin/outbound/destination/{destination.id}/change/"
    )


def test_410_disables_and_a_retry_after_is_honoured_as_for_webhooks(receiver):
    gone = a_lead(workspace_with_slack(receiver, "/gone"))
    attempted(gone)
    gone.refresh_from_db()
    assert gone.state == "failed"
    destination = Destination.objects.get()
    assert destination.is_active is False and "410 Gone" in destination.disabled_reason

    Delivery.objects.all().delete()
    Destination.objects.all().delete()
    busy = a_lead(workspace_with_slack(receiver, "/slow-down?retry_after=120"))
    attempt = attempted(busy)
    busy.refresh_from_db()
    assert busy.state == "pending" and busy.next_attempt_at is not None
    end = attempt.started_at + timedelta(milliseconds=attempt.duration_ms)
    assert 108 - 0.05 <= (busy.next_attempt_at - end).total_seconds() <= 132 + 0.05


def test_a_redirect_is_not_followed(receiver):
    attempt = attempted(a_lead(workspace_with_slack(receiver, "/redirect")))
    assert attempt.error == "redirect not followed (302)"
    assert receiver.received("/ok") == []


def test_the_address_rules_are_the_webhooks_own(receiver, settings):
    delivery = a_lead(workspace_with_slack(receiver))
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = False
    assert attempted(delivery).error == "the URL must be https://"
    Destination.objects.update(target="https://hooks.slack.example/services/T0/B0/x")
    destination = Destination.objects.get()
    outcome = slack_send(
        destination=destination, event=delivery.event, resolver=lambda host, port: ["10.0.0.7"]
    )
    assert (outcome.ok, outcome.error) == (False, "destination address not allowed")
    assert receiver.received() == []


def test_long_values_are_cut_to_slacks_limits(receiver):
    delivery = a_lead(
        workspace_with_slack(receiver),
        name="N" * 300,  # the column's limit; twice the header's
        extra_data={"message": "&" * 5000, **{f"field_{n}": "v" * 300 for n in range(30)}},
    )
    attempted(delivery)
    document = posted(receiver)
    header = blocks_of(document, "header")[0]["text"]["text"]
    assert header == "New lead: " + "N" * 99 + "…"  # the name cut, within HEADER_MAX
    assert len(header) <= HEADER_MAX
    for section in blocks_of(document, "section"):
        for text in [section.get("text", {}).get("text", "")] + [
            field["text"] for field in section.get("fields", [])
        ]:
            assert len(text) <= (SECTION_MAX if "text" in section else FIELD_MAX)
    message = blocks_of(document, "section")[1]["text"]["text"]
    assert message.startswith("*Message*\n>&amp;&amp;")
    assert message.endswith("&amp;…")  # never cut inside an entity
    assert 2990 <= len(message) <= SECTION_MAX


@pytest.mark.parametrize(
    ("value", "limit", "expected"),
    [
        ("a<b>&c", 100, "a&lt;b&gt;&amp;c"),
        ("&&&", 12, "&amp;&amp;…"),
        ("abc", 3, "ab…"),
        ("a&b", 4, "a…"),
    ],
)
def test_escape(value, limit, expected):
    assert escape(value, limit=limit) == expected
