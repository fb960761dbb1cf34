"""A workspace's redirect settings: `thank_you_url` and `allowed_redirect_hosts` (SPEC §8).

Pure functions shared by the model's validators, the services and the webhook's `_next`
check, so that the hosts an owner saves and the hosts a target is matched against are read
the same way: lower case, IDNA (punycode) for a non-ASCII name, `*.` for a domain and every
subdomain of it.
"""

import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

WILDCARD = "*."
# A DNS label (underscores allowed, as some real hosts have them); IPv4 addresses pass too.
LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
MAX_HOSTNAME = 253
HOSTS_HELP = (
    "Host names only, comma-separated, e.g. example.com, *.example.com "
    "(*.example.com matches example.com and every subdomain)."
)
THANK_YOU_URL_HELP = (
    "Where a visitor lands after a form posted from a browser when the form gives no valid "
    "_next; empty for the service's own thank-you page. http(s) only."
)
_url_validator = URLValidator(schemes=["http", "https"])


def hostname_key(host: str) -> str | None:
    """`host` as it is compared: lower case, IDNA (punycode) when not ASCII; None when it is
    not a valid host name (no scheme, port, path, trailing dot or empty label)."""
    host = host.strip().lower()
    if not host or len(host) > MAX_HOSTNAME:
        return None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    labels = host.split(".")
    if not all(LABEL.match(label) for label in labels):
        return None
    return host


def normalise_host_pattern(entry: str) -> str:
    """One `allowed_redirect_hosts` entry as it is stored (`example.com` or `*.example.com`);
    a ValidationError naming the entry when it is not a host name."""
    text = entry.strip()
    wildcard = text.startswith(WILDCARD)
    host = hostname_key(text[len(WILDCARD) :] if wildcard else text)
    if host is None or (wildcard and "." not in host):
        raise ValidationError(
            f"{entry.strip()!r} is not a host name. {HOSTS_HELP}", code="invalid_host"
        )
    return f"{WILDCARD}{host}" if wildcard else host


def split_hosts(value: str | Iterable[str]) -> list[str]:
    """The entries of a comma/space/newline-separated string (or of a list), blanks dropped."""
    items = re.split(r"[,\s]+", value) if isinstance(value, str) else list(value)
    return [item.strip() for item in items if item and item.strip()]


def normalise_redirect_hosts(value: str | Iterable[str]) -> str:
    """`allowed_redirect_hosts` as stored: the normalised entries, deduplicated in their
    order, joined by commas ("" for none). A ValidationError lists every bad entry."""
    hosts: list[str] = []
    errors: list[str] = []
    for entry in split_hosts(value):
        try:
            host = normalise_host_pattern(entry)
        except ValidationError as error:
            errors.extend(error.messages)
            continue
        if host not in hosts:
            hosts.append(host)
    if errors:
        raise ValidationError(errors, code="invalid_host")
    return ",".join(hosts)


def validate_redirect_hosts(value: str) -> None:
    """Model-field validator: every entry of `value` is a host name or `*.` one."""
    normalise_redirect_hosts(value)


def host_allowed(host: str, patterns: Iterable[str]) -> bool:
    """Whether `host` (a URL's host name) is one of `patterns` (stored entries): `*.a.com`
    matches `a.com` and every subdomain of it; nothing else matches across a dot."""
    key = hostname_key(host)
    if key is None:
        return False
    for pattern in patterns:
        if pattern.startswith(WILDCARD):
            domain = pattern[len(WILDCARD) :]
            if key == domain or key.endswith("." + domain):
                return True
        elif key == pattern:
            return True
    return False


def normalise_thank_you_url(url: str) -> str:
    """`thank_you_url` as stored: "" or an absolute http(s) URL with its scheme in lower case;
    a ValidationError otherwise (also for credentials in it)."""
    url = url.strip()
    if not url:
        return ""
    validate_thank_you_url(url)
    scheme, rest = url.split(":", 1)
    return f"{scheme.lower()}:{rest}"


def validate_thank_you_url(url: str) -> None:
    """Model-field validator: an absolute http(s) URL without credentials (or empty)."""
    if not url:
        return
    message = "Enter an absolute http:// or https:// URL, like https://example.com/thanks."
    try:
        _url_validator(url)
    except ValidationError:
        raise ValidationError(message, code="invalid_url") from None
    authority = url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if "@" in authority:
        raise ValidationError(
            "A thank-you URL must not carry a user name or password.", code="invalid_url"
        )
