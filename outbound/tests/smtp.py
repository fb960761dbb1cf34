"""A real SMTP server for the tests: aiosmtpd on a free local port, in its own thread.

It accepts every message (recording its envelope and bytes) unless told otherwise: `script`
queues the replies to the next RCPT or DATA commands in order (`"451 4.3.0 Try again
later"`, `"550 5.1.1 No such user"`), and `"sleep N"` makes it wait N seconds before it
answers. With `password`, it offers AUTH and takes only that password.
"""

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)

    def part(self, content_type: str) -> str:
        """The decoded body of the part of this type (text/plain, text/html)."""
        body = self.message.get_body(preferencelist=(content_type.split("/")[1],))
        assert body is not None and body.get_content_type() == content_type
        return cast(str, body.get_content()).replace("\r\n", "\n")


@dataclass
class SMTPServer:
    port: int
    password: str | None = None
    messages: list[Received] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)  # "RCPT 550", "DATA 250" …
    replies: dict[str, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, command: str, *replies: str) -> None:
        with self.lock:
            self.replies.setdefault(command, []).extend(replies)

    def _next(self, command: str) -> str | None:
        with self.lock:
            queued = self.replies.get(command)
            return queued.pop(0) if queued else None

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.commands.clear()
            self.replies.clear()

    def received(self) -> list[Received]:
        with self.lock:
            return list(self.messages)

    def wait_for(self, count: int, timeout: float = 20) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.received()
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"{len(self.received())} messages received, wanted {count}")


class _Handler:
    def __init__(self, server: SMTPServer) -> None:
        self.server = server

    async def _scripted(self, command: str, default: str) -> str:
        reply = self.server._next(command) or default
        if reply.startswith("sleep "):
            await asyncio.sleep(float(reply.split()[1]))
            reply = default
        with self.server.lock:
            self.server.commands.append(f"{command} {reply[:3]}")
        return reply

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        reply = await self._scripted("RCPT", "250 OK")
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await self._scripted("DATA", "250 Message accepted for delivery")
        if reply.startswith("250"):
            with self.server.lock:
                self.server.messages.append(
                    Received(
                        mail_from=envelope.mail_from,
                        rcpt_tos=list(envelope.rcpt_tos),
                        data=envelope.original_content or envelope.content,
                    )
                )
        return reply


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_smtp_server(*, password: str | None = None) -> Iterator[SMTPServer]:
    server = SMTPServer(port=_free_port(), password=password)
    options: dict[str, Any] = {}
    if password is not None:

        def authenticator(
            smtp: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> AuthResult:
            ok = isinstance(data, LoginPassword) and data.password == password.encode()
            return AuthResult(success=ok, handled=False)

        options = {"authenticator": authenticator, "auth_require_tls": False}
    controller = Controller(_Handler(server), hostname="127.0.0.1", port=server.port, **options)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
