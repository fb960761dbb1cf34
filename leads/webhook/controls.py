"""The control fields and headers a delivery carries: honeypots, the `_next` / `_redirect`
target, and the retry key that makes a redelivery a duplicate."""

import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from leads.webhook.helpers import as_text

HONEYPOTS = ("_gotcha", "_honeypot")
REDIRECTS = ("_next", "_redirect")
# Exactly these four steer a delivery (SPEC A.2); any other field, `_` or not, is data:
# Formspree's `_replyto` is the sender's address, Contact Form 7's `_url` the page.
CONTROLS = frozenset(HONEYPOTS + REDIRECTS)
# Longer ids are stored as a hash, so that `<kind>:<id>` fits Lead.submission_id.
MAX_RAW_SUBMISSION_ID = 200


def is_control(key: str) -> bool:
    """A control field (`_next`, `_redirect`, `_gotcha`, `_honeypot`, any letter case)
    steers the delivery; it is never stored."""
    return key.lower() in CONTROLS


def honeypot_filled(controls: Mapping[str, Any]) -> bool:
    """A honeypot field, hidden from people, was filled in."""
    return any(as_text(controls.get(key)) for key in HONEYPOTS)


def header(headers: Mapping[str, str], name: str) -> str:
    """The value of the header `name` (lower case), any letter case in `headers`; else ""."""
    for key, value in headers.items():
        if key.lower() == name:
            return str(value).strip()
    return ""


def _host(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https"):
        return ""
    return (parts.netloc or "").lower()


def redirect_target(controls: Mapping[str, Any], headers: Mapping[str, str]) -> str | None:
    """`_next`/`_redirect`, when the client takes HTML and it stays on the posting page's host."""
    target = next((as_text(controls[key]) for key in REDIRECTS if controls.get(key)), "")
    if not target or "text/html" not in header(headers, "accept").lower():
        return None
    origin = header(headers, "origin")
    posting = origin if origin and origin != "null" else header(headers, "referer")
    target_host = _host(target)
    if not target_host or target_host != _host(posting):
        return None
    return target


def namespaced(kind: str, raw: Any) -> str | None:
    """A retry key as `<kind>:<id>` (a long id hashed), so two sources' ids never collide."""
    text = as_text(raw)
    if not text:
        return None
    if len(text) > MAX_RAW_SUBMISSION_ID:
        text = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return f"{kind}:{text}"


def submission_id_from(headers: Mapping[str, str], unwrapped_id: str | None) -> str | None:
    """The retry key: Idempotency-Key, else Framer's header, else the builder's own id."""
    return (
        namespaced("key", header(headers, "idempotency-key"))
        or namespaced("framer", header(headers, "framer-webhook-submission-id"))
        or unwrapped_id
    )
