"""Sending an event to a webhook destination, as the Standard Webhooks specification says.

One attempt: the event JSON serialised once, signed (`v1,` HMAC-SHA256 over
"{webhook-id}.{webhook-timestamp}.{body}" with the standardwebhooks package), POSTed to the
vetted address with no redirects and one deadline, and read back to at most 2 KB.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from outbound import network
from outbound.models import Destination, Event

EXCERPT_BYTES = 2048
USER_AGENT = "Hushmetrics-Webhooks/1.0"


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to. `gone`: disable the destination; `retry_after`: seconds;
    `permanent`: the receiver refused this event for good (no retry; the destination stays
    active), as an SMTP 5xx does."""

    ok: bool
    status_code: int | None = None
    excerpt: str = ""
    error: str = ""
    retry_after: float | None = None
    gone: bool = False
    permanent: bool = False


def event_body(event: Event) -> bytes:
    """The bytes sent (and signed): `{"type", "timestamp", "data"}`, the same every attempt."""
    document = {
        "type": event.type,
        "timestamp": event.created_at.astimezone(UTC).isoformat(),
        "data": event.payload,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def signature_header(destination: Destination, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<sig>`, and a second one with the previous secret while it is fresh."""
    at = datetime.fromtimestamp(timestamp, tz=UTC)
    text = body.decode()
    signatures = [Webhook(destination.signing_secret).sign(msg_id, at, text)]
    previous = destination.previous_signing_secret
    expires = destination.previous_secret_expires_at
    if previous and expires is not None and expires > timezone.now():
        signatures.append(Webhook(previous).sign(msg_id, at, text))
    return " ".join(signatures)


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date; None when absent or garbled."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def webhook_send(
    *, destination: Destination, event: Event, resolver: network.Resolver | None = None
) -> Outcome:
    """One POST of `event` to `destination`; never raises for the receiver's faults."""
    body = event_body(event)
    msg_id = str(event.id)
    timestamp = int(timezone.now().timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            destination, msg_id=msg_id, timestamp=timestamp, body=body
        ),
    }
    return post_outcome(destination.target, body=body, headers=headers, resolver=resolver)


def post_outcome(
    url: str, *, body: bytes, headers: dict[str, str], resolver: network.Resolver | None = None
) -> Outcome:
    """POST `body` to a destination's URL under §9's rules (https and vetted addresses unless
    OUTBOUND_ALLOW_PRIVATE_NETWORKS, one deadline, no redirects) and read the answer as an
    Outcome: 2xx ok, 410 gone, Retry-After on 429/503. Shared by webhooks and Slack."""
    allow_private = settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS
    if not allow_private and urlsplit(url).scheme != "https":
        return Outcome(ok=False, error="the URL must be https://")
    try:
        response = network.post(
            url,
            body=body,
            headers=headers,
            timeout=settings.OUTBOUND_TIMEOUT_SECONDS,
            allow_private=allow_private,
            max_body=EXCERPT_BYTES,
            resolver=resolver or network.system_resolver,
        )
    except network.AddressNotAllowed:
        return Outcome(ok=False, error=network.ADDRESS_NOT_ALLOWED)
    except TimeoutError as error:
        return Outcome(ok=False, error=str(error) or "timed out")
    except OSError as error:
        return Outcome(ok=False, error=f"connection failed: {error}"[:500])
    status = response.status
    excerpt = response.body.decode("utf-8", errors="replace")
    if 200 <= status < 300:
        return Outcome(ok=True, status_code=status, excerpt=excerpt)
    if status == 410:
        return Outcome(ok=False, status_code=status, excerpt=excerpt, error="410 Gone", gone=True)
    reason = f"redirect not followed ({status})" if 300 <= status < 400 else f"HTTP {status}"
    retry_after = None
    if status in (429, 503):
        retry_after = parse_retry_after(response.headers.get("retry-after"), now=timezone.now())
    return Outcome(
        ok=False, status_code=status, excerpt=excerpt, error=reason, retry_after=retry_after
    )
