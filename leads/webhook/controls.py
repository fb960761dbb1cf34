"""The control fields and headers a delivery carries: honeypots, the `_next` / `_redirect`
target, and the retry key that makes a redelivery a duplicate."""

import hashlib
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

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


def _http_url(url: str) -> SplitResult | None:
    """`url` parsed, if it is an absolute http(s) URL with a host and no credentials."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (a malformed port raises here)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    return parts


def _origin(parts: SplitResult) -> tuple[str, int | None]:
    return (parts.hostname or "", parts.port)


def redirect_target(controls: Mapping[str, Any], headers: Mapping[str, str]) -> str | None:
    """`_next`/`_redirect`, when the client takes HTML and it stays on the posting page's host.

    The `Location` is rebuilt from the parsed URL that was checked, never the raw value; a
    target with a control character or a space is refused outright (no cleaning), and an
    https page never sends its visitor to http.
    """
    target = next((as_text(controls[key]) for key in REDIRECTS if controls.get(key)), "")
    if not target or "text/html" not in header(headers, "accept").lower():
        return None
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in target):
        return None
    origin = header(headers, "origin")
    posting = _http_url(origin if origin and origin != "null" else header(headers, "referer"))
    wanted = _http_url(target)
    if posting is None or wanted is None or _origin(wanted) != _origin(posting):
        return None
    if posting.scheme.lower() == "https" and wanted.scheme.lower() != "https":
        return None
    return urlunsplit(wanted)


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


def body_fingerprint(fields: Mapping[str, Any], files: Mapping[str, Any] | None = None) -> str:
    """A SHA-256 of the delivery's fields and files' descriptions as received (key order
    aside): a retry of the same body has the same one, so a seen submission id with another
    body is told apart."""
    body = [fields, files or {}]
    canonical_json = json.dumps(
        body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical_json.encode("utf-8", "surrogatepass")).hexdigest()
