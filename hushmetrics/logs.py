"""Logging filters: what a flood of bad requests may cost the logs."""

import logging
import time
from collections import OrderedDict


class DisallowedHostOnce(logging.Filter):
    """`django.security.DisallowedHost` at most once per host per minute (per process), at
    WARNING, without a traceback: a request with a made-up `Host` is an everyday scan, not an
    error of ours, and must not flood the log at the sender's will."""

    WINDOW_SECONDS = 60.0
    MAX_HOSTS = 1024  # hosts remembered; the oldest is forgotten first
    MAX_HOST_CHARS = 100

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        self._last_logged: OrderedDict[str, float] = OrderedDict()

    def filter(self, record: logging.LogRecord) -> bool:
        host = self._host(record)
        now = time.monotonic()
        last = self._last_logged.get(host)
        if last is not None and now - last < self.WINDOW_SECONDS:
            return False
        self._last_logged[host] = now
        self._last_logged.move_to_end(host)
        while len(self._last_logged) > self.MAX_HOSTS:
            self._last_logged.popitem(last=False)
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.msg, record.args = "Request refused: Host %r is not in ALLOWED_HOSTS", (host,)
        record.exc_info = record.exc_text = record.stack_info = None
        return True

    def _host(self, record: logging.LogRecord) -> str:
        request = getattr(record, "request", None)
        meta = getattr(request, "META", {})
        host = meta.get("HTTP_HOST") or meta.get("SERVER_NAME")
        return str(host or "?")[: self.MAX_HOST_CHARS]
