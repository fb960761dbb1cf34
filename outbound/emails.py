"""Sending an event to an email destination (SPEC §9): one message per event through
Django's email backend (SMTP from EMAIL_HOST…, else files in EMAIL_FILE_PATH).

The message: subject `New lead: <who> (<source>)` and the like, flattened to one line;
`Reply-To` the lead when its address is valid; a text part and an HTML part rendered from
templates (HTML autoescaped). The outcome: accepted (250); refused for good when the
server answers the message's own commands (MAIL, RCPT, DATA) with a 5xx — the delivery
fails, the destination stays active —; anything else (a 4xx, no connection, a timeout, a
login or TLS failure: the server or our configuration, not this message) is retried.
"""

import contextlib
import smtplib
import socket
import ssl
import threading
import time
from email.utils import formataddr

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import connection
from django.template.loader import render_to_string

from outbound.models import Destination, Event
from outbound.summaries import Summary, one_line, summarize
from outbound.webhooks import EXCERPT_BYTES, Outcome
from workspaces.models import Workspace

TEXT_TEMPLATE = "outbound/email/message.txt"
HTML_TEMPLATE = "outbound/email/message.html"
# The server refused this message itself: a 5xx here is permanent.
MESSAGE_REFUSALS = (smtplib.SMTPSenderRefused, smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError)


def email_message(
    *, destination: Destination, event: Event, workspace_name: str = ""
) -> EmailMultiAlternatives:
    """The message for `event` to `destination`'s address (not sent)."""
    summary = summarize(event.type, event.payload)
    context = {
        "summary": summary,
        "workspace_name": workspace_name,
        "recipient": destination.target,
        "preheader": _preheader(summary),
    }
    reply_to = []
    if summary.reply_to:
        name = one_line(summary.lead.name, limit=100) if summary.lead else ""
        reply_to = [formataddr((name, summary.reply_to)) if name else summary.reply_to]
    message = EmailMultiAlternatives(
        subject=summary.subject,
        body=render_to_string(TEXT_TEMPLATE, context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[destination.target],
        reply_to=reply_to,
        headers={
            # Receivers' filters and threading: which event this is, and that no human sent it.
            "X-Hushmetrics-Event": f"{event.type} {event.id}",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(render_to_string(HTML_TEMPLATE, context), "text/html")
    return message


def _preheader(summary: Summary) -> str:
    """The line mail clients show after the subject in a list."""
    if summary.lead is None:
        return one_line(summary.intro, limit=140)
    lead = summary.lead
    parts = [lead.email, lead.phone, lead.source, one_line(lead.message, limit=80)]
    return one_line(" · ".join(part for part in parts if part), limit=140)


def email_send(*, destination: Destination, event: Event) -> Outcome:
    """Send one message for `event` to `destination`; never raises for the server's faults.

    One deadline, OUTBOUND_TIMEOUT_SECONDS, covers the whole exchange (the claim's lease is
    counted from it): a server that answers each command just before EMAIL_TIMEOUT is cut
    off when it passes, as a slow webhook receiver is."""
    message = email_message(
        destination=destination, event=event, workspace_name=_workspace_name(destination)
    )
    timeout = settings.OUTBOUND_TIMEOUT_SECONDS
    try:
        # Each SMTP operation within EMAIL_TIMEOUT, and never past the whole deadline.
        operation = min(settings.EMAIL_TIMEOUT or timeout, timeout)
        backend = get_connection(fail_silently=False, timeout=operation)
    except (ImproperlyConfigured, ValueError) as error:  # e.g. a file path that is no folder
        return Outcome(ok=False, error=one_line(f"email backend not usable: {error}", limit=500))
    expired = threading.Event()

    def cut_off() -> None:
        expired.set()
        sock = getattr(getattr(backend, "connection", None), "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(timeout, cut_off)
    timer.daemon = True
    started = time.monotonic()
    timer.start()
    try:
        backend.send_messages([message])
    except (smtplib.SMTPException, OSError) as error:
        if expired.is_set() or isinstance(error, TimeoutError | socket.timeout):
            return Outcome(ok=False, error=f"timed out after {time.monotonic() - started:.1f} s")
        if not _is_smtp(backend):  # the file backend: a disk that is full or not writable
            return Outcome(
                ok=False, error=one_line(f"could not write the message: {error}", limit=500)
            )
        return smtp_outcome(error)
    finally:
        timer.cancel()
        with contextlib.suppress(Exception):
            backend.close()
    return Outcome(ok=True, status_code=250 if _is_smtp(backend) else None)


def _workspace_name(destination: Destination) -> str:
    """The workspace's name for the message. Read before the SMTP exchange, and the pooled
    connection handed back again afterwards, as outbound.engine does before every attempt:
    no database connection waits on a mail server."""
    names = Workspace.objects.filter(pk=destination.workspace_id).values_list("name", flat=True)
    name = names.first() or ""
    if connection.settings_dict.get("OPTIONS", {}).get("pool") and not connection.in_atomic_block:
        connection.close()
    return name


def _is_smtp(backend: object) -> bool:
    return isinstance(backend, SMTPBackend)


def smtp_outcome(error: smtplib.SMTPException | OSError) -> Outcome:
    """What a failed send came to: the server's code and text when it answered; permanent
    only for a 5xx to the message's own commands."""
    code: int | None = None
    raw: bytes | str = b""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, raw = next(iter(error.recipients.values()), (None, b""))
    elif isinstance(error, smtplib.SMTPResponseException):
        code, raw = error.smtp_code, error.smtp_error
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
    if code is not None and not 100 <= code <= 599:
        code = None  # smtplib's -1: no parsable reply
    excerpt = text[:EXCERPT_BYTES]
    if code is not None:
        permanent = isinstance(error, MESSAGE_REFUSALS) and code >= 500
        what = "refused" if permanent else "failed"
        return Outcome(
            ok=False,
            status_code=code,
            excerpt=excerpt,
            error=one_line(f"SMTP {code}: {what} ({text})", limit=500),
            permanent=permanent,
        )
    if isinstance(error, ssl.SSLError):
        reason = f"TLS failed: {error}"
    elif isinstance(error, smtplib.SMTPServerDisconnected | OSError):
        reason = f"connection failed: {error}"
    else:
        reason = f"SMTP error: {error}"
    return Outcome(ok=False, error=one_line(reason, limit=500))
