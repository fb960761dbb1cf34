"""Guards found by mutation testing (issue 19) for the email and Slack senders: what each
SMTP answer and each local failure comes to, as stored on the delivery (state, status code,
error), and the header Slack's POST carries."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from leads.services import lead_create
from outbound.engine import delivery_run
from outbound.models import Delivery
from outbound.tests.conftest import rung_ids, use_smtp_server
from outbound.tests.factories import DestinationFactory
from outbound.tests.receiver import Receiver
from outbound.tests.smtp import SMTPServer
from outbound.tests.test_email import a_lead, attempted, workspace_with_email
from workspaces.models import Workspace

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("broker")]


@pytest.mark.parametrize(
    ("reply", "status_code", "state", "error"),
    [
        ("100 odd", 100, "pending", "SMTP 100: failed (odd)"),
        ("500 5.5.2 Syntax error", 500, "failed", "SMTP 500: refused (5.5.2 Syntax error)"),
        ("599 5.0.0 Last code", 599, "failed", "SMTP 599: refused (5.0.0 Last code)"),
    ],
)
def test_the_edges_of_the_smtp_codes_are_codes(
    smtp_server: SMTPServer, reply: str, status_code: int, state: str, error: str
):
    smtp_server.script("RCPT", reply)
    delivery = a_lead(workspace_with_email())
    attempt = attempted(delivery)
    assert (attempt.status_code, attempt.error) == (status_code, error)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.last_status_code, delivery.last_error) == (
        state,
        status_code,
        error,
    )


@pytest.mark.parametrize("reply", ["600 beyond", "abc no code"])
def test_a_reply_without_an_smtp_code_is_an_smtp_error_retried(smtp_server: SMTPServer, reply):
    smtp_server.script("RCPT", reply + " " + "x" * 600)
    delivery = a_lead(workspace_with_email())
    attempted(delivery)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.last_status_code) == ("pending", None)
    # smtplib's SMTPException is an OSError: a refusal without a usable code is worded so.
    code = reply.split()[0] if reply[0].isdigit() else "-1"
    expected = f"connection failed: {{'team@example.com': ({code}, b'"
    assert delivery.last_error.startswith(expected), delivery.last_error
    assert len(delivery.last_error) == 500 and delivery.last_error.endswith("…")


def test_a_long_refusal_is_stored_cut_at_500_characters(smtp_server: SMTPServer):
    smtp_server.script("RCPT", "550 " + "y" * 700)
    delivery = a_lead(workspace_with_email())
    attempted(delivery)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.last_status_code) == ("failed", 550)
    assert delivery.last_error.startswith("SMTP 550: refused (yyy")
    assert len(delivery.last_error) == 500 and delivery.last_error.endswith("…")


def test_each_operation_is_cut_at_email_timeout_within_the_deadline(
    smtp_server: SMTPServer, settings
):
    settings.OUTBOUND_TIMEOUT_SECONDS = 4
    settings.EMAIL_TIMEOUT = 0.5  # a server silent on RCPT is given up after 0.5 s, not 4
    smtp_server.script("RCPT", "sleep 3")
    delivery = a_lead(workspace_with_email())
    started = time.monotonic()
    attempted(delivery)
    assert time.monotonic() - started < 2
    delivery.refresh_from_db()
    assert delivery.state == "pending"
    assert delivery.last_error == "connection failed: Connection unexpectedly closed: timed out"


def test_the_deadline_stored_is_the_time_the_attempt_took(smtp_server: SMTPServer, settings):
    settings.OUTBOUND_TIMEOUT_SECONDS = 1
    settings.EMAIL_TIMEOUT = 30
    smtp_server.script("DATA", "sleep 3")
    delivery = a_lead(workspace_with_email())
    attempted(delivery)
    delivery.refresh_from_db()
    assert delivery.state == "pending"
    prefix, seconds, unit = delivery.last_error.rsplit(" ", 2)
    assert (prefix, unit) == ("timed out after", "s"), delivery.last_error
    assert 0.9 <= float(seconds) < 2, delivery.last_error


def test_tls_that_fails_is_said_so_and_retried(smtp_server: SMTPServer, settings):
    settings.EMAIL_USE_SSL = True  # the test server speaks plain SMTP
    delivery = a_lead(workspace_with_email())
    attempted(delivery)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.last_status_code) == ("pending", None)
    assert delivery.last_error.startswith("TLS failed: "), delivery.last_error
    assert smtp_server.received() == []


def test_a_backend_that_is_not_usable_is_stored_cut_at_500_characters(settings, tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(blocker / ("d" * 250) / ("e" * 250) / "mail")
    delivery = a_lead(workspace_with_email())
    attempted(delivery)
    delivery.refresh_from_db()
    assert delivery.state == "pending"
    assert delivery.last_error.startswith("email backend not usable: Could not create")
    assert len(delivery.last_error) == 500 and delivery.last_error.endswith("…")


def test_a_message_file_that_cannot_be_written_is_retried(settings, tmp_path: Path):
    # A folder that exists and is writable, with a path so long that no file name fits in it
    # (ENAMETOOLONG, whoever runs the tests).
    folder = tmp_path
    while len(str(folder)) < 4085:
        folder = folder / ("f" * min(250, 4085 - len(str(folder))))
    folder.mkdir(parents=True)
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(folder)
    delivery = a_lead(workspace_with_email())
    attempt = attempted(delivery)
    assert attempt.status_code is None
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    assert delivery.last_error.startswith("could not write the message: [Errno 36]")
    assert len(delivery.last_error) == 500 and delivery.last_error.endswith("…")
    assert list(folder.iterdir()) == []


def test_a_message_file_written_past_the_deadline_is_delivered_without_a_crash(
    settings, tmp_path: Path, monkeypatch
):
    # The file backend has no SMTP connection for the deadline's timer to cut: when a slow
    # disk takes the write past the deadline, the timer finds nothing and says nothing.
    crashed: list[str] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: crashed.append(repr(args.exc_value)))
    settings.EMAIL_BACKEND = "outbound.tests.mail_backends.SlowFileBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    settings.OUTBOUND_TIMEOUT_SECONDS = 0.2  # SlowFileBackend takes 1 s
    delivery = a_lead(workspace_with_email())
    attempt = attempted(delivery)
    assert (attempt.status_code, attempt.error) == (None, "")
    delivery.refresh_from_db()
    assert delivery.state == "succeeded"
    (written,) = tmp_path.iterdir()
    assert "To: team@example.com" in written.read_text()
    assert crashed == []


@contextmanager
def raw_smtp_server(rcpt_reply: bytes) -> Iterator[int]:
    """A bare SMTP server that answers RCPT with these bytes (not necessarily UTF-8)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        with listener, listener.accept()[0] as conn, conn.makefile("rb") as lines:
            conn.sendall(b"220 raw\r\n")
            for line in lines:
                verb = line[:4].upper()
                if verb == b"RCPT":
                    conn.sendall(rcpt_reply + b"\r\n")
                elif verb == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                else:
                    conn.sendall(b"250 ok\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield port
    thread.join(timeout=5)


def test_a_refusal_that_is_not_utf8_is_stored_with_replacement_characters(settings):
    with raw_smtp_server(b"550 5.1.1 caf\xe9 inconnu") as port:
        use_smtp_server(settings, SMTPServer(port=port))
        delivery = a_lead(workspace_with_email())
        attempted(delivery)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.last_status_code) == ("failed", 550)
    assert delivery.last_error == "SMTP 550: refused (5.1.1 caf\ufffd inconnu)"


def test_slack_is_posted_with_its_own_user_agent(receiver: Receiver, settings):
    settings.PUBLIC_BASE_URL = "https://hm.example.com"
    workspace = Workspace.objects.create(name="Acme")
    DestinationFactory(workspace=workspace, kind="slack", target=receiver.url("/ok"))
    lead_create(workspace=workspace, name="Jane Doe", email="jane@example.com")
    rung_ids()
    delivery = Delivery.objects.get()
    assert delivery_run(delivery_id=delivery.id) is not None
    (request,) = receiver.received("/ok")
    agents = [value for name, value in request.headers.items() if name.lower() == "user-agent"]
    assert agents == ["Hushmetrics-Slack/1.0"]  # header names are case-insensitive
    delivery.refresh_from_db()
    assert delivery.state == "succeeded"


@contextmanager
def silent_smtp_server(hold_seconds: float) -> Iterator[int]:
    """A server that takes the connection and never greets, then hangs up after a while."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        with listener, listener.accept()[0]:
            stop.wait(hold_seconds)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)


def test_a_server_that_never_greets_is_given_up_at_the_deadline(settings, monkeypatch):
    # Without EMAIL_TIMEOUT each operation still gets the attempt's deadline: the greeting is
    # awaited before smtplib hands back a connection, so the deadline's timer cannot cut it
    # (and finds no connection yet, which is no error in the worker's log).
    crashed: list[str] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: crashed.append(repr(args.exc_value)))
    settings.OUTBOUND_TIMEOUT_SECONDS = 1
    with silent_smtp_server(hold_seconds=6) as port:
        use_smtp_server(settings, SMTPServer(port=port))
        settings.EMAIL_TIMEOUT = None
        delivery = a_lead(workspace_with_email())
        started = time.monotonic()
        attempted(delivery)
        elapsed = time.monotonic() - started
    assert elapsed < 3
    delivery.refresh_from_db()
    assert (delivery.state, delivery.last_status_code) == ("pending", None)
    assert "timed out" in delivery.last_error, delivery.last_error
    assert crashed == []


def test_a_reply_line_too_long_for_smtplib_is_a_500_retried(smtp_server: SMTPServer):
    smtp_server.script("RCPT", "550 " + "z" * 9000)  # past smtplib's 8192 characters a line
    delivery = a_lead(workspace_with_email())
    attempted(delivery)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.last_status_code) == ("pending", 500)
    assert delivery.last_error == "SMTP 500: failed (Line too long.)"
