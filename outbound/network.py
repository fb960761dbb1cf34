"""Outbound HTTP that cannot be pointed at our own network (SPEC §9, "No SSRF").

The target's host is resolved when the request is made, every address it resolves to is
vetted, and the connection goes to the vetted address itself (the hostname is used only
for the Host header and for TLS: SNI and the certificate check), so a second, different
DNS answer cannot redirect it. Redirects are never followed, the response is read to at
most `max_body` bytes, and the whole exchange has one deadline.
"""

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

ADDRESS_NOT_ALLOWED = "destination address not allowed"
MAX_URL_LENGTH = 2048

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the addresses it resolves to, as strings. Injectable for tests.
Resolver = Callable[[str, int], list[str]]

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class AddressNotAllowed(Exception):
    """The target resolves to an address outbound requests may not reach."""


class BadTarget(ValueError):
    """The target URL is not one a destination may have (the message says why)."""


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_ip_literal(host: str) -> IPAddress | None:
    """`host` as an address when it is one in any spelling a resolver accepts: dotted,
    decimal (`2130706433`), octal (`0177.0.0.1`), hex (`0x7f.1`), short (`127.1`), IPv6."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        # inet_aton is the permissive parser resolvers use for the legacy IPv4 forms.
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def address_allowed(address: IPAddress) -> bool:
    """Only public unicast addresses: no loopback, private (RFC 1918, RFC 4193), link-local,
    multicast, unspecified, reserved or shared ones, and none embedded in IPv6 forms."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is not None and not address_allowed(embedded):
            return False
    return not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or not address.is_global
    )


def vet_target(url: str, *, allow_private: bool) -> SplitResult:
    """Check a destination URL when it is created or changed; raise BadTarget if not fit."""
    if len(url) > MAX_URL_LENGTH:
        raise BadTarget(f"The URL is too long ({MAX_URL_LENGTH} characters at most).")
    if any(ord(char) < 33 or ord(char) == 127 for char in url):
        raise BadTarget("The URL must not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise BadTarget(f"The URL is not valid ({error}).") from None
    if parts.scheme not in ("http", "https"):
        raise BadTarget("The URL must start with https:// (or http://).")
    if not parts.hostname:
        raise BadTarget("The URL has no host.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise BadTarget("The URL must not contain credentials (user:password@).")
    if port == 0:
        raise BadTarget("The URL's port must be between 1 and 65535.")
    if allow_private:
        return parts
    if parts.scheme != "https":
        raise BadTarget("The URL must start with https://.")
    literal = parse_ip_literal(parts.hostname)
    if literal is not None and not address_allowed(literal):
        raise BadTarget(f"The URL's address is not allowed ({ADDRESS_NOT_ALLOWED}).")
    return parts


def resolve_vetted(
    host: str, port: int, *, allow_private: bool, resolver: Resolver = system_resolver
) -> str:
    """The address to connect to for `host`: every address it resolves to must be allowed
    (a name that also resolves privately is refused), and the first one is used."""
    literal = parse_ip_literal(host)
    addresses: list[IPAddress | None]
    if literal is not None:
        addresses = [literal]
    else:
        try:
            resolved = resolver(host, port)
        except (OSError, UnicodeError) as error:
            raise OSError(f"could not resolve {host}: {error}") from None
        addresses = [parse_ip_literal(address.split("%", 1)[0]) for address in resolved]
        if not addresses or any(address is None for address in addresses):
            raise OSError(f"could not resolve {host}")
    if not allow_private and not all(
        address is not None and address_allowed(address) for address in addresses
    ):
        raise AddressNotAllowed(ADDRESS_NOT_ALLOWED)
    return str(addresses[0])


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes  # at most max_body bytes


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to a vetted address; `host` stays the hostname (the Host header)."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a vetted address, with SNI and the certificate checked for the hostname."""

    def __init__(
        self, host: str, port: int, *, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls_context = context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = self._tls_context.wrap_socket(sock, server_hostname=self.host)


def post(
    url: str,
    *,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,
    allow_private: bool,
    max_body: int = 2048,
    resolver: Resolver = system_resolver,
    tls_context: ssl.SSLContext | None = None,
) -> Response:
    """POST `body` to `url` once. Raises AddressNotAllowed, TimeoutError or OSError.

    The deadline covers everything (resolving aside): a receiver that trickles its headers
    a byte at a time is cut off when it passes, by shutting the socket from a timer.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = resolve_vetted(host, port, allow_private=allow_private, resolver=resolver)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        context = tls_context or ssl.create_default_context()
        connection = _PinnedHTTPSConnection(
            host, port, address=address, timeout=timeout, context=context
        )
    else:
        connection = _PinnedHTTPConnection(host, port, address=address, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    expired = threading.Event()

    def cut_off() -> None:
        expired.set()
        sock = connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(timeout, cut_off)
    timer.daemon = True
    timer.start()
    started = time.monotonic()
    try:
        connection.request("POST", path, body=body, headers=dict(headers))
        response = connection.getresponse()
        # Never more than max_body from the socket, however much the receiver sends.
        excerpt = response.read(max_body) if max_body else b""
        return Response(
            status=response.status,
            headers={key.lower(): value for key, value in response.getheaders()},
            body=excerpt,
        )
    except (OSError, http.client.HTTPException) as error:
        if expired.is_set() or isinstance(error, TimeoutError | socket.timeout):
            elapsed = time.monotonic() - started
            raise TimeoutError(f"timed out after {elapsed:.1f} s") from None
        if isinstance(error, http.client.HTTPException):
            raise OSError(f"bad HTTP response: {error!r}") from None
        raise
    finally:
        timer.cancel()
        connection.close()
