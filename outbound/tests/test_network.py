"""SSRF rules (SPEC §9): what a destination may be, and where a delivery may connect."""

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from outbound import network
from outbound.network import AddressNotAllowed, BadTarget, resolve_vetted, vet_target
from outbound.tests.receiver import Receiver, running_receiver


class RecordingResolver:
    """A `network.Resolver` over a fixed table that records the hosts it was asked for."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host not in self.table:
            raise OSError("Name or service not known")
        return self.table[host]


def resolver_of(table: dict[str, list[str]]) -> RecordingResolver:
    return RecordingResolver(table)


REFUSED = [
    "127.0.0.1",
    "127.8.9.10",
    "::1",
    "10.0.0.1",
    "10.255.255.255",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.1",
    "fd00::1",  # RFC 4193 unique local
    "fc00::1",
    "169.254.169.254",  # cloud metadata (link-local)
    "fe80::1",
    "0.0.0.0",  # noqa: S104 - an address to refuse, not one to bind
    "::",
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "ff02::1",
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "100.64.0.1",  # shared address space (carrier NAT)
    "::ffff:127.0.0.1",  # IPv4-mapped IPv6
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo (2001::/32, IETF-reserved)
    "4000::1",  # IPv6 space not yet assigned (reserved), which Python calls global
]
# Spellings of 127.0.0.1 and 10.0.0.1 a resolver accepts: decimal, octal, hex, short.
REFUSED_SPELLINGS = ["2130706433", "0177.0.0.1", "0x7f.0.0.1", "0x7f000001", "127.1", "012.0.0.1"]
ALLOWED = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "2a00:1450:4001:81b::200e"]


@pytest.mark.parametrize("address", REFUSED + REFUSED_SPELLINGS)
def test_a_private_or_special_address_is_refused(address):
    resolver = resolver_of({})
    with pytest.raises(AddressNotAllowed, match="destination address not allowed"):
        resolve_vetted(address, 443, allow_private=False, resolver=resolver)
    bracketed = f"[{address}]" if ":" in address else address
    with pytest.raises(BadTarget, match="not allowed"):
        vet_target(f"https://{bracketed}/hook", allow_private=False)


@pytest.mark.parametrize("address", REFUSED)
def test_a_hostname_resolving_to_a_private_address_is_refused(address):
    resolver = resolver_of({"hooks.example.com": [address]})
    with pytest.raises(AddressNotAllowed):
        resolve_vetted("hooks.example.com", 443, allow_private=False, resolver=resolver)


def test_a_hostname_with_any_private_address_is_refused():
    resolver = resolver_of({"mixed.example.com": ["93.184.216.34", "10.0.0.7"]})
    with pytest.raises(AddressNotAllowed):
        resolve_vetted("mixed.example.com", 443, allow_private=False, resolver=resolver)


@pytest.mark.parametrize("address", ALLOWED)
def test_a_public_address_is_allowed(address):
    resolver = resolver_of({"hooks.example.com": [address]})
    assert resolve_vetted("hooks.example.com", 443, allow_private=False, resolver=resolver) == (
        address
    )
    assert resolve_vetted(address, 443, allow_private=False, resolver=resolver) == address
    bracketed = f"[{address}]" if ":" in address else address
    vet_target(f"https://{bracketed}/hook", allow_private=False)


def test_the_switch_allows_private_addresses():
    resolver = resolver_of({"db.internal": ["10.0.0.5"]})
    assert resolve_vetted("db.internal", 80, allow_private=True, resolver=resolver) == "10.0.0.5"
    vet_target("http://127.0.0.1:8000/hook", allow_private=True)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://hooks.example.com/in", "must start with https://"),
        ("javascript:alert(1)", "must start with https://"),
        ("hooks.example.com/in", "must start with https://"),
        ("https://user:secret@hooks.example.com/in", "credentials"),
        ("https://token@hooks.example.com/in", "credentials"),
        ("https://hooks.example.com/" + "a" * 2100, "too long"),
        ("http://hooks.example.com/in", "must start with https://"),
        ("https:///in", "no host"),
        ("https://hooks.example.com:99999/in", "not valid"),
        ("https://hooks.example.com/a b", "spaces"),
    ],
)
def test_bad_targets_are_refused_with_a_clear_message(url, message):
    with pytest.raises(BadTarget, match=message):
        vet_target(url, allow_private=False)


def test_credentials_are_refused_even_with_the_switch():
    with pytest.raises(BadTarget, match="credentials"):
        vet_target("http://u:p@127.0.0.1/", allow_private=True)


# --- the connection goes to the vetted address --------------------------------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def test_the_request_goes_to_the_vetted_address_with_the_hostname_as_host(receiver):
    # No DNS knows `hooks.test`: the request can only arrive through the address vetted.
    resolver = resolver_of({"hooks.test": ["127.0.0.1"]})
    response = network.post(
        f"http://hooks.test:{receiver.port}/ok",
        body=b"{}",
        headers={"Content-Type": "application/json"},
        timeout=2,
        allow_private=True,
        resolver=resolver,
    )
    assert response.status == 200
    (request,) = receiver.received("/ok")
    assert request.headers["Host"] == f"hooks.test:{receiver.port}"
    assert resolver.calls == ["hooks.test"]


def test_a_refused_address_is_never_connected_to(receiver):
    resolver = resolver_of({"hooks.test": ["127.0.0.1"]})
    with pytest.raises(AddressNotAllowed):
        network.post(
            f"http://hooks.test:{receiver.port}/ok",
            body=b"{}",
            headers={},
            timeout=2,
            allow_private=False,
            resolver=resolver,
        )
    assert receiver.received() == []


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(  # noqa: S603
        [  # noqa: S607
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=hooks.test", "-addext", "subjectAltName=DNS:hooks.test",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def test_tls_checks_the_certificate_against_the_hostname_not_the_address(certificate):
    import http.server
    import threading

    cert, key = certificate
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _tls_handler())
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    server_names: list[str | None] = []
    server_context.sni_callback = lambda _socket, name, _context: server_names.append(name)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    trust = ssl.create_default_context(cafile=str(cert))
    try:
        resolver = resolver_of({"hooks.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
        response = network.post(
            f"https://hooks.test:{port}/",
            body=b"{}",
            headers={},
            timeout=2,
            allow_private=True,
            resolver=resolver,
            tls_context=trust,
        )
        assert response.status == 200
        assert server_names == ["hooks.test"]  # SNI: the hostname, not the address
        with pytest.raises(ssl.SSLCertVerificationError):
            network.post(
                f"https://other.test:{port}/",
                body=b"{}",
                headers={},
                timeout=2,
                allow_private=True,
                resolver=resolver,
                tls_context=trust,
            )
    finally:
        server.shutdown()
        server.server_close()


def _tls_handler() -> type:
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


# --- the edges the mutation run found untested (TESTING.md) ---------------------------------


def test_a_url_of_exactly_the_limit_is_accepted_and_one_more_character_is_not():
    head = "https://hooks.example.com/"
    vet_target(head + "a" * (network.MAX_URL_LENGTH - len(head)), allow_private=False)
    with pytest.raises(BadTarget, match=r"too long \(2048 characters at most\)"):
        vet_target(head + "a" * (network.MAX_URL_LENGTH - len(head) + 1), allow_private=False)


@pytest.mark.parametrize("char", ["\x00", "\x1f", " ", "\x7f"])
def test_control_characters_and_spaces_are_refused(char):
    with pytest.raises(BadTarget, match="must not contain spaces or control characters"):
        vet_target(f"https://hooks.example.com/in{char}x", allow_private=False)


def test_printable_punctuation_and_non_ascii_paths_are_accepted():
    parts = vet_target("https://hooks.example.com/in!~%20é\x80", allow_private=False)
    assert parts.path == "/in!~%20é\x80"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://hooks.example.com:0/in", "The URL's port must be between 1 and 65535."),
        ("https://hooks.example.com:99999/in", "The URL is not valid (Port out of range 0-65535)."),
        ("ftp://hooks.example.com/in", "The URL must start with https:// (or http://)."),
        ("https:///in", "The URL has no host."),
        (
            "https://hooks.example.com/in x",
            "The URL must not contain spaces or control characters.",
        ),
        (
            "https://u:p@hooks.example.com/",
            "The URL must not contain credentials (user:password@).",
        ),
        ("https://:p@hooks.example.com/", "The URL must not contain credentials (user:password@)."),
        ("https://@hooks.example.com/", "The URL must not contain credentials (user:password@)."),
        ("http://hooks.example.com/in", "The URL must start with https://."),
        (
            "https://10.0.0.1/in",
            "The URL's address is not allowed (destination address not allowed).",
        ),
    ],
)
def test_each_refusal_says_exactly_why(url, message):
    with pytest.raises(BadTarget) as refused:
        vet_target(url, allow_private=False)
    assert str(refused.value) == message


@pytest.mark.parametrize("port", [1, 65535])
def test_the_ports_at_the_ends_of_the_range_are_accepted(port):
    assert vet_target(f"https://hooks.example.com:{port}/in", allow_private=False).port == port


def test_the_switch_still_refuses_other_schemes_and_hostless_urls():
    with pytest.raises(BadTarget, match="https:// \\(or http://\\)"):
        vet_target("ftp://127.0.0.1/in", allow_private=True)
    with pytest.raises(BadTarget, match="no host"):
        vet_target("http:///in", allow_private=True)
    assert vet_target("http://10.0.0.1:8080/in", allow_private=True).hostname == "10.0.0.1"


def test_a_public_hostname_goes_to_its_first_address():
    resolver = resolver_of({"hooks.example.com": ["93.184.216.34", "8.8.8.8"]})
    assert resolve_vetted("hooks.example.com", 443, allow_private=False, resolver=resolver) == (
        "93.184.216.34"
    )


def test_a_scoped_ipv6_answer_is_vetted_without_its_zone():
    resolver = resolver_of(
        {"hooks.example.com": ["fe80::1%eth0"], "v6.example.com": ["2606:4700::1%2"]}
    )
    with pytest.raises(AddressNotAllowed):
        resolve_vetted("hooks.example.com", 443, allow_private=False, resolver=resolver)
    assert resolve_vetted("hooks.example.com", 443, allow_private=True, resolver=resolver) == (
        "fe80::1"
    )
    assert resolve_vetted("v6.example.com", 443, allow_private=False, resolver=resolver) == (
        "2606:4700::1"
    )


@pytest.mark.parametrize("answer", [[], ["not-an-address"], ["93.184.216.34", "nonsense"]])
def test_an_empty_or_garbled_resolver_answer_cannot_be_connected_to(answer):
    resolver = resolver_of({"hooks.example.com": answer})
    with pytest.raises(OSError, match="^could not resolve hooks.example.com$"):
        resolve_vetted("hooks.example.com", 443, allow_private=True, resolver=resolver)


@pytest.mark.parametrize(
    "error", [OSError("Name or service not known"), UnicodeError("label too long")]
)
def test_a_resolver_failure_says_which_host(error):
    def failing(host: str, port: int) -> list[str]:
        raise error

    with pytest.raises(OSError, match=f"^could not resolve hooks.example.com: {error}$"):
        resolve_vetted("hooks.example.com", 443, allow_private=False, resolver=failing)


def test_an_address_literal_is_not_sent_to_the_resolver():
    resolver = resolver_of({})
    assert resolve_vetted("[2606:4700::1]", 443, allow_private=False, resolver=resolver) == (
        "2606:4700::1"
    )
    assert resolve_vetted("0x5db8d822", 443, allow_private=False, resolver=resolver) == (
        "93.184.216.34"
    )
    assert resolver.calls == []


@pytest.mark.parametrize("host", ["hooks.example.com", "1.2.3.4.5", "", "256.1.1.1x"])
def test_a_name_is_not_taken_for_an_address(host):
    assert network.parse_ip_literal(host) is None
