"""Email destinations (SPEC §9) against a real SMTP server on a local port (aiosmtpd): the
message's headers and both parts, escaping, header injection, and the outcome of each
SMTP answer (250, 451 then 250, 550, no server, a server that hangs)."""

import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connections
from django.utils import timezone

from leads.models import Lead
from leads.services import lead_create, lead_updated_emit
from leads.webhook.vocabulary import VOCABULARY
from optin.services import optin_submit
from outbound.engine import delivery_run
from outbound.models import Delivery, DeliveryAttempt, Destination
from outbound.services import destination_send_test_event
from outbound.summaries import MESSAGE_KEYS
from outbound.tests.conftest import rung_ids, use_smtp_server
from outbound.tests.factories import DestinationFactory
from outbound.tests.smtp import SMTPServer, running_smtp_server
from workspaces.models import Workspace
from workspaces.tests.factories import ApiKeyFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("broker")]

TEAM = "team@example.com"


def workspace_with_email(*, target: str = TEAM, **fields: object) -> Workspace:
    workspace = Workspace.objects.create(name="Acme Studio")
    DestinationFactory(workspace=workspace, kind="email", target=target, **fields)
    workspace.refresh_from_db()
    return workspace


def a_lead(workspace: Workspace, **fields: object) -> Delivery:
    """A lead with every kind of field, and its delivery to the email destination."""
    values: dict[str, object] = {
        "name": "Jane Doe",
        "email": "jane@example.com",
        "phone": "+44 20 7946 0958",
        "source": "website",
        "status": "qualified",
        "value": Decimal("1499.50"),
        "utm": {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "spring-sale"},
        "extra_data": {
            "company": "Acme Ltd",
            "team_size": 40,
            "your-message": "Hello!\nWe would like a quote for 40 seats.",
            "newsletter": True,
        },
        "page_url": "https://acme.example/contact",
        **fields,
    }
    lead_create(workspace=workspace, **values)  # type: ignore[arg-type]
    rung_ids()
    return Delivery.objects.select_related("event", "destination").get(destination__kind="email")


def attempted(delivery: Delivery) -> DeliveryAttempt:
    attempt = delivery_run(delivery_id=delivery.id)
    assert attempt is not None
    return attempt


def make_due(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_a_new_lead_arrives_with_its_headers_and_both_parts(smtp_server: SMTPServer):
    delivery = a_lead(workspace_with_email())
    attempt = attempted(delivery)

    (received,) = smtp_server.received()
    assert received.rcpt_tos == [TEAM]
    assert received.mail_from == "leads@hushmetrics.test"
    message = received.message
    assert message["From"] == "Hushmetrics <leads@hushmetrics.test>"
    assert message["To"] == TEAM
    assert message["Subject"] == "New lead: Jane Doe (website)"
    assert message["Reply-To"] == "Jane Doe <jane@example.com>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Hushmetrics-Event"] == f"lead.created {delivery.event_id}"
    assert message.get_content_type() == "multipart/alternative"

    lead_id = delivery.event.payload["lead"]["id"]
    admin_link = f"https://hm.example.com/admin/leads/lead/{lead_id}/change/"
    text = received.part("text/plain")
    for line in [
        "New lead: Jane Doe",
        "Name: Jane Doe",
        "Email: jane@example.com",
        "Phone: +44 20 7946 0958",
        "Status: qualified",
        "Source: website",
        "Value: 1,499.50",
        "Page: https://acme.example/contact",
        f"Lead id: {lead_id}",
        "utm_source: google",
        "utm_medium: cpc",
        "utm_campaign: spring-sale",
        "Company: Acme Ltd",
        "Team size: 40",
        "Newsletter: yes",
        f"Open the lead: {admin_link}",
        'an email destination of the workspace "Acme Studio"',
    ]:
        assert line in text, line
    # The extra fields are labelled lines, the message first (its line breaks kept).
    fields = text.split("FORM FIELDS\n", 1)[1]
    assert fields.startswith("Your message\nHello!\nWe would like a quote for 40 seats.\n")
    assert fields.index("Company: Acme Ltd") < fields.index("Team size: 40")

    html = received.part("text/html")
    assert f'href="{admin_link}"' in html
    assert 'href="mailto:jane@example.com"' in html
    assert 'href="https://acme.example/contact"' in html
    shown = ["Jane Doe", "+44 20 7946 0958", "qualified", "1,499.50", "spring-sale", "Acme Ltd",
             "Team size", "Hello!<br>We would like a quote for 40 seats."]  # fmt: skip
    for value in shown:
        assert value in html, value
    assert html.index("Your message") < html.index("Acme Ltd")

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 250)
    assert attempt.status_code == 250 and attempt.error == ""


def test_an_opt_in_is_one_message_with_its_questions_and_answers(smtp_server: SMTPServer):
    workspace = workspace_with_email()
    DestinationFactory(workspace=workspace)  # a webhook gets every event
    api_key = ApiKeyFactory(workspace=workspace)
    optin_submit(
        api_key=api_key,
        email="sam@example.com",
        first_name="Sam",
        last_name="Lee",
        source="TYPEFORM",
        phone_e164="+14155550100",
        provider_form_name="Demo request",
        questions_answers=[
            {"question": "What do you need?", "answer": "A CRM sync\nand alerts", "position": 1},
            {"question": "Team size?", "answer": "12", "position": 0},
        ],
        traffic={"utm_source": "newsletter", "landing_page": "https://acme.example/demo"},
    )
    rung_ids()
    # Email hears of the submission once (optin.created); the webhook hears of both events.
    by_kind = sorted(Delivery.objects.values_list("destination__kind", "event_type"))
    assert by_kind == [("email", "optin.created"), ("webhook", "lead.created"),
                       ("webhook", "optin.created")]  # fmt: skip
    attempted(Delivery.objects.get(destination__kind="email"))

    (received,) = smtp_server.received()
    assert received.message["Subject"] == "New opt-in: Sam Lee (TYPEFORM)"
    assert received.message["Reply-To"] == "Sam Lee <sam@example.com>"
    text = received.part("text/plain")
    qa = text.split("QUESTIONS AND ANSWERS\n", 1)[1]
    assert qa.startswith("Team size?\n12\n\nWhat do you need?\nA CRM sync\nand alerts\n")
    for line in ["Form: Demo request", "Phone: +14155550100", "Lead: new lead",
                 "utm_source: newsletter", "landing_page: https://acme.example/demo"]:  # fmt: skip
        assert line in text, line
    html = received.part("text/html")
    assert "Team size?" in html and "A CRM sync<br>and alerts" in html
    assert html.index("Team size?") < html.index("What do you need?")


def test_markup_and_formulas_arrive_as_text_and_no_field_makes_a_header(
    smtp_server: SMTPServer,
):
    name = "<script>alert(1)</script>\r\nBcc: spy@evil.example\r\nX-Injected: yes"
    formula = '=HYPERLINK("https://evil.example","Click")'
    delivery = a_lead(
        workspace_with_email(),
        name=name,
        email="jane@example.com\r\nBcc: spy@evil.example",
        extra_data={"message": "<b>bold?</b> & more", "note\r\nX-Key: 1": formula},
        utm={"utm_source": "<img src=x onerror=alert(1)>"},
        page_url="javascript:alert(1)",
    )
    attempted(delivery)

    (received,) = smtp_server.received()
    assert received.rcpt_tos == [TEAM]  # no Bcc smuggled into the envelope
    message = received.message
    assert message["Bcc"] is None and message["X-Injected"] is None and message["X-Key"] is None
    assert message["Subject"] == (
        "New lead: <script>alert(1)</script> Bcc: spy@evil.example X-Injected: yes (website)"
    )
    assert message["Reply-To"] is None  # that email is not a valid address
    html = received.part("text/html")
    assert "<script>" not in html and "<img" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold?&lt;/b&gt; &amp; more" in html
    assert "=HYPERLINK(&quot;https://evil.example&quot;,&quot;Click&quot;)" in html
    assert 'href="javascript' not in html and "javascript:alert(1)" in html  # text, no link
    text = received.part("text/plain")
    assert f"Note X-Key: 1: {formula}" in text  # a label flattened to one line
    assert "Name: <script>alert(1)</script> Bcc: spy@evil.example X-Injected: yes" in text
    assert "\nBcc:" not in text  # no line of the body that could pass for a header
    delivery.refresh_from_db()
    assert delivery.state == "succeeded"


def test_no_reply_to_without_a_valid_email_and_the_phone_names_the_lead(
    smtp_server: SMTPServer,
):
    delivery = a_lead(workspace_with_email(), name="", email="not an address", source="ad")
    attempted(delivery)
    (received,) = smtp_server.received()
    assert received.message["Reply-To"] is None
    assert received.message["Subject"] == "New lead: not an address (ad)"
    Delivery.objects.all().delete()
    delivery = a_lead(Workspace.objects.get(), name="", email="", phone="+1 415 555 0100")
    attempted(delivery)
    assert smtp_server.received()[1].message["Subject"] == "New lead: +1 415 555 0100 (website)"


def test_an_edit_and_a_test_event_have_their_own_subjects(smtp_server: SMTPServer):
    delivery = a_lead(workspace_with_email())
    attempted(delivery)
    workspace = Workspace.objects.get()
    lead = Lead.objects.get()
    lead_updated_emit(workspace=workspace, lead=lead, changed_fields=["value", "status"])
    rung_ids()
    attempted(Delivery.objects.get(event_type="lead.updated"))
    destination = Destination.objects.get()
    test = destination_send_test_event(destination=destination)
    attempted(test)
    _, updated, tested = smtp_server.received()
    assert updated.message["Subject"] == "Lead updated: Jane Doe (status, value)"
    assert "Changed: status, value." in updated.part("text/plain")
    assert tested.message["Subject"] == "Test message from Hushmetrics"
    assert tested.message["Reply-To"] is None
    text = tested.part("text/plain")
    assert "this destination is connected" in text
    assert f"https://hm.example.com/admin/outbound/destination/{destination.id}/change/" in text


def test_451_is_retried_on_the_schedule_then_delivered(smtp_server: SMTPServer, settings):
    settings.OUTBOUND_RETRY_SCHEDULE = [10, 20]
    smtp_server.script("DATA", "451 4.3.0 Mailbox busy, try again later")
    delivery = a_lead(workspace_with_email())
    before = timezone.now()
    first = attempted(delivery)
    assert (first.status_code, first.error) == (
        451,
        "SMTP 451: failed (4.3.0 Mailbox busy, try again later)",
    )
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("pending", 1, 451)
    assert delivery.next_attempt_at is not None
    assert 9 - 0.1 <= (delivery.next_attempt_at - before).total_seconds() <= 11 + 1
    assert smtp_server.received() == []
    make_due(delivery)
    second = attempted(delivery)
    assert second.status_code == 250
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("succeeded", 2, 250)
    assert list(delivery.attempt_log.values_list("status_code", flat=True)) == [451, 250]
    assert smtp_server.commands == ["RCPT 250", "DATA 451", "RCPT 250", "DATA 250"]
    assert len(smtp_server.received()) == 1
    assert Destination.objects.get().failing_since is None


@pytest.mark.parametrize(
    ("command", "reply"),
    [("RCPT", "550 5.1.1 No such user here"), ("DATA", "554 5.7.1 Message rejected as spam")],
)
def test_a_5xx_fails_the_delivery_for_good_and_the_destination_stays_active(
    smtp_server: SMTPServer, command: str, reply: str
):
    smtp_server.script(command, reply)
    delivery = a_lead(workspace_with_email())
    attempt = attempted(delivery)
    code, text = reply.split(" ", 1)
    assert attempt.status_code == int(code)
    assert attempt.error == f"SMTP {code}: refused ({text})"
    assert attempt.response_excerpt == text
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("failed", 1)
    assert delivery.next_attempt_at is None and delivery.finished_at is not None
    destination = Destination.objects.get()
    assert (destination.is_active, destination.disabled_reason) == (True, "")
    assert destination.failing_since is not None  # it counts as a failure all the same
    make_due_failed = Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert make_due_failed == 1 and delivery_run(delivery_id=delivery.id) is None
    assert smtp_server.received() == []


def test_no_server_is_a_failed_attempt_retried(settings):
    with running_smtp_server() as server:
        pass  # its port, now closed
    use_smtp_server(settings, server)
    delivery = a_lead(workspace_with_email())
    attempt = attempted(delivery)
    assert attempt.status_code is None
    assert attempt.error.startswith("connection failed:"), attempt.error
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("pending", 1)


def test_a_server_that_stops_answering_times_out(smtp_server: SMTPServer, settings):
    settings.OUTBOUND_TIMEOUT_SECONDS = 1
    settings.EMAIL_TIMEOUT = 30  # per operation, but never past the attempt's deadline
    smtp_server.script("DATA", "sleep 5")
    delivery = a_lead(workspace_with_email())
    started = time.monotonic()
    attempt = attempted(delivery)
    assert attempt.error.startswith("timed out after"), attempt.error
    assert 0.9 <= time.monotonic() - started < 3
    delivery.refresh_from_db()
    assert delivery.state == "pending"


def test_a_server_slow_on_every_command_is_cut_off_at_the_deadline(
    smtp_server: SMTPServer, settings
):
    settings.OUTBOUND_TIMEOUT_SECONDS = 1  # each answer comes within it, the whole does not
    smtp_server.script("RCPT", "sleep 0.7")
    smtp_server.script("DATA", "sleep 0.7")
    delivery = a_lead(workspace_with_email())
    started = time.monotonic()
    attempt = attempted(delivery)
    elapsed = time.monotonic() - started
    assert attempt.error.startswith("timed out after"), attempt.error
    assert 0.9 <= elapsed < 1.4  # cut at the deadline, before the DATA answer at ~1.4 s
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("pending", 1)


def test_a_login_the_server_refuses_is_retried_not_failed(settings):
    with running_smtp_server(password="right") as server:  # noqa: S106
        use_smtp_server(settings, server)
        settings.EMAIL_HOST_USER = "hushmetrics"
        settings.EMAIL_HOST_PASSWORD = "wrong"  # noqa: S105
        delivery = a_lead(workspace_with_email())
        attempt = attempted(delivery)
        assert attempt.status_code == 535
        assert attempt.error.startswith("SMTP 535: failed")
        delivery.refresh_from_db()
        assert delivery.state == "pending"  # our configuration, not this message
        settings.EMAIL_HOST_PASSWORD = "right"  # noqa: S105
        make_due(delivery)
        assert attempted(delivery).status_code == 250
        assert len(server.received()) == 1


def test_without_email_host_the_message_is_a_file(settings, tmp_path: Path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    delivery = a_lead(workspace_with_email())
    attempt = attempted(delivery)
    assert (attempt.status_code, attempt.error) == (None, "")
    (written,) = (tmp_path / "mail").iterdir()
    content = written.read_text()
    assert "Subject: New lead: Jane Doe (website)" in content
    assert "To: team@example.com" in content
    delivery.refresh_from_db()
    assert delivery.state == "succeeded"


def test_a_folder_that_cannot_be_written_is_retried(settings, tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(blocker / "mail")
    delivery = a_lead(workspace_with_email())
    attempt = attempted(delivery)
    assert attempt.error.startswith("email backend not usable: Could not create"), attempt.error
    delivery.refresh_from_db()
    assert delivery.state == "pending"


@pytest.mark.postgres
def test_no_pooled_connection_is_held_while_the_mail_server_answers(
    smtp_server: SMTPServer, monkeypatch
):
    held = []
    database = connections["default"]  # this thread's, the one the attempt runs on
    answer = smtp_server._next

    def watching(command: str) -> str | None:  # runs in the SMTP server's thread
        if command == "RCPT":
            held.append(database.connection is not None)
        return answer(command)

    monkeypatch.setattr(smtp_server, "_next", watching)
    delivery = a_lead(workspace_with_email())
    assert attempted(delivery).status_code == 250
    assert held == [False]


def test_the_message_field_names_are_the_webhooks_own():
    # outbound may not import leads, so it keeps its own copy of the message spellings.
    assert frozenset(VOCABULARY["message"]) == MESSAGE_KEYS


def test_an_event_of_another_workspace_is_never_mixed_in(smtp_server: SMTPServer):
    first = a_lead(workspace_with_email(target="first@example.com"))
    other = Workspace.objects.create(name="Other")
    DestinationFactory(workspace=other, kind="email", target="second@example.com")
    other.refresh_from_db()
    lead_create(workspace=other, name="Someone Else", email=f"{uuid.uuid4().hex}@example.com")
    rung_ids()
    second = Delivery.objects.exclude(pk=first.pk).get()
    attempted(first)
    attempted(second)
    one, two = smtp_server.received()
    assert (one.rcpt_tos, two.rcpt_tos) == (["first@example.com"], ["second@example.com"])
    assert "Someone Else" not in one.part("text/plain")
    assert 'workspace "Other"' in two.part("text/plain")


def test_a_long_name_is_cut_and_the_source_still_ends_the_subject(smtp_server: SMTPServer):
    delivery = a_lead(workspace_with_email(), name="Jane " + "x" * 290, source="cold_call")
    attempted(delivery)
    subject = smtp_server.received()[0].message["Subject"].strip()
    assert subject == "New lead: Jane " + "x" * 94 + "… (cold_call)"
    assert "Name: Jane " + "x" * 290 in smtp_server.received()[0].part("text/plain")
