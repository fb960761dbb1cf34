"""The control fields and headers a delivery carries: honeypots, the `_next` / `_redirect`
target, and the retry key that makes a redelivery a duplicate."""

import hashlib
import json
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

from django.utils.encoding import iri_to_uri

from hushmetrics.pages import accepts_html
from leads.webhook.helpers import as_text
from workspaces.hosts import host_allowed, hostname_key

HONEYPOTS = ("_gotcha", "_honeypot")
REDIRECTS = ("_next", "_redirect")
# Exactly these four steer a delivery (SPEC A.2); any other field, `_` or not, is data:
# Formspree's `_replyto` is the sender's address, Contact Form 7's `_url` the page.
CONTROLS = frozenset(HONEYPOTS + REDIRECTS)
# Longer ids are stored as a hash, so that `<kind>:<id>` fits Lead.submission_id.
MAX_RAW_SUBMISSION_ID = 200
# A longer `_next` is ignored: a huge Location header breaks proxies in front of us.
MAX_REDIRECT_LENGTH = 2000
DEFAULT_PORTS = {"http": 80, "https": 443}


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
    """`url` parsed, if it is an absolute http(s) URL with a valid host name and no
    credentials (a host with `%`, a trailing dot or an empty label is not one)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (a malformed port raises here)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    if hostname_key(parts.hostname) is None:
        return None
    return parts


def _origin(parts: SplitResult) -> tuple[str, int | None]:
    """Host name as compared (lower case, punycode) and port; a scheme's default port is
    no port, so `https://a.example:443` is `https://a.example`."""
    port = parts.port
    if port == DEFAULT_PORTS.get(parts.scheme.lower()):
        port = None
    return (hostname_key(parts.hostname or "") or "", port)


def _refused_characters(target: str) -> bool:
    """Control, format (zero-width, bidi) and space characters anywhere, and backslashes
    (which browsers read as `/`, so `/\\evil` is `//evil`): refused, never cleaned."""
    return any(char == "\\" or unicodedata.category(char)[0] in ("C", "Z") for char in target)


def _posting_page(headers: Mapping[str, str]) -> tuple[SplitResult | None, SplitResult | None]:
    """(the posting page's origin as Origin, else Referer, gives it; the page's own URL to
    resolve a relative target against: the Referer when it is on that origin, without its
    query and fragment, else the origin's root)."""
    origin = header(headers, "origin")
    referer = _http_url(header(headers, "referer"))
    posting = _http_url(origin) if origin and origin != "null" else referer
    if posting is None:
        return None, None
    if referer is not None and _origin(referer) == _origin(posting):
        return posting, referer._replace(query="", fragment="")
    return posting, posting._replace(path="/", query="", fragment="")


def _location(parts: SplitResult) -> str:
    """The checked URL as a `Location`: rebuilt from its parts, a non-ASCII host in punycode
    and any other non-ASCII text percent-encoded (a header is ASCII)."""
    netloc = parts.netloc
    if not netloc.isascii():
        host = hostname_key(parts.hostname or "") or ""
        netloc = host if parts.port is None else f"{host}:{parts.port}"
    return iri_to_uri(urlunsplit(parts._replace(netloc=netloc)))


def redirect_target(
    controls: Mapping[str, Any],
    headers: Mapping[str, str],
    *,
    allowed_hosts: Iterable[str] = (),
) -> str | None:
    """`_next` (else `_redirect`) as a checked `Location`, or None to ignore it (SPEC §8).

    Only for a client that takes HTML. Valid: an absolute http(s) URL on the posting page's
    host and port (`Origin`, else `Referer`) or on one of `allowed_hosts` (a workspace's
    `allowed_redirect_hosts`: `a.com`, `*.b.com`), or a relative URL (`/thanks`,
    `thanks.html`), resolved against the posting page's URL. A target with a control
    character, a space or a backslash is refused outright (no cleaning), as are `//host`,
    credentials, other schemes and hosts that are not plain host names; an https page never
    sends its visitor to http. The `Location` is rebuilt from the parsed URL that was
    checked, never the raw value.
    """
    target = next((as_text(controls[key]) for key in REDIRECTS if controls.get(key)), "")
    if not target or not accepts_html(header(headers, "accept")):
        return None
    if len(target) > MAX_REDIRECT_LENGTH or _refused_characters(target):
        return None
    posting, page_url = _posting_page(headers)
    try:
        relative = urlsplit(target)
        if relative.scheme or relative.netloc or target.startswith("//"):
            wanted = _http_url(target)
            if wanted is None:
                return None
            same_host = posting is not None and _origin(wanted) == _origin(posting)
            if not same_host and not host_allowed(wanted.hostname or "", allowed_hosts):
                return None
        else:
            if page_url is None or posting is None:
                return None  # nothing to resolve it against
            wanted = _http_url(urljoin(urlunsplit(page_url), target))
            if wanted is None or _origin(wanted) != _origin(posting):
                return None
    except ValueError:  # e.g. an unclosed `[` of an IPv6 host
        return None
    if posting is not None and posting.scheme.lower() == "https" and wanted.scheme == "http":
        return None
    return _location(wanted)


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
