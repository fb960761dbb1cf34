"""Request guards shared by both public surfaces."""

import io
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import RequestDataTooBig
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils.deprecation import MiddlewareMixin
from rest_framework.exceptions import ParseError

from hushmetrics.errors import PayloadTooLarge, api_error_response, is_api_path


def _too_large(request: HttpRequest, limit: int) -> HttpResponse:
    return api_error_response(
        request, PayloadTooLarge(f"Request body too large (limit {limit} bytes)")
    )


MULTIPART = "multipart/form-data"


class ApiBodyLimitMiddleware:
    """Refuse an API body over the size limit before anything reads it (413, JSON).

    Django checks DATA_UPLOAD_MAX_MEMORY_SIZE only when `request.body` or the form parser
    reads the body; DRF's JSON parser streams it instead, so the limit is enforced here,
    once, from Content-Length. A multipart/form-data body for a view that parses multipart
    (the webhook) may reach MAX_UPLOAD_BYTES: its files are read as they stream and dropped
    (leads.parsers), and Django's multipart parser holds its other fields to
    DATA_UPLOAD_MAX_MEMORY_SIZE.

    A chunked body (no Content-Length) would read as empty in Django and its submission would
    be lost, so it is read here, up to the limit, and handed on with its real length; a
    chunked multipart body is not buffered (its files may be large) but handed on as a
    stream that fails with a 413 past MAX_UPLOAD_BYTES.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api_path(request.path):
            if self._is_chunked(request):
                return self._read_chunked(request) or self.get_response(request)
            raw = request.META.get("CONTENT_LENGTH") or "0"
            try:
                length = int(raw)
            except ValueError:
                length = -1
            if length < 0:
                return api_error_response(request, ParseError("Invalid Content-Length header"))
            limit = self._limit(request)
            if length > limit:
                return _too_large(request, limit)
        return self.get_response(request)

    @staticmethod
    def _limit(request: HttpRequest) -> int:
        """MAX_UPLOAD_BYTES for a multipart body to a view that parses one, else MAX_BODY_BYTES."""
        content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if content_type == MULTIPART and _parses_multipart(request.path_info):
            return settings.MAX_UPLOAD_BYTES
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    @staticmethod
    def _is_chunked(request: HttpRequest) -> bool:
        return not request.META.get("CONTENT_LENGTH") and "chunked" in (
            request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        )

    @classmethod
    def _read_chunked(cls, request: HttpRequest) -> HttpResponse | None:
        """Buffer a chunked body (the server de-chunks it); a 413 when it passes the limit."""
        limit = cls._limit(request)
        if limit > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:  # multipart: streamed, not buffered
            capped = CappedStream(request.META["wsgi.input"], limit)
            # Its length is unknown until read: one byte past the limit lets the parser read
            # far enough to find out, and CappedStream answers 413 there.
            # The stubs type LimitedStream's stream as BytesIO; any object with read() and
            # readline() serves, as wsgi.input does.
            stream = LimitedStream(capped, limit + 1)  # type: ignore[arg-type]  # see above
            request._stream = stream  # type: ignore[assignment]  # a stream, as Django's own
            request.META["CONTENT_LENGTH"] = str(limit + 1)
            return None
        body = request.META["wsgi.input"].read(limit + 1)
        if len(body) > limit:
            return _too_large(request, limit)
        request._stream = io.BytesIO(body)  # noqa: SLF001
        request.META["CONTENT_LENGTH"] = str(len(body))
        return None


def _parses_multipart(path: str) -> bool:
    """The view at `path` has a multipart parser (DRF's `parser_classes`)."""
    try:
        view = resolve(path).func
    except Resolver404:
        return False
    parsers = getattr(getattr(view, "cls", None), "parser_classes", ())
    return any(getattr(parser, "media_type", "") == MULTIPART for parser in parsers)


class UploadTooLarge(RequestDataTooBig):
    """A streamed body passed `limit` bytes."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"Request body too large (limit {limit} bytes)")
        self.limit = limit


class CappedStream:
    """A request body read as it arrives, refused (RequestDataTooBig, a 413) once more than
    `limit` bytes have been read."""

    def __init__(self, stream: Any, limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.read_bytes = 0

    def _counted(self, data: bytes) -> bytes:
        self.read_bytes += len(data)
        if self.read_bytes > self.limit:
            raise UploadTooLarge(self.limit)
        return data

    def read(self, size: int = -1) -> bytes:
        return self._counted(self.stream.read(size))

    def readline(self, size: int = -1) -> bytes:
        return self._counted(self.stream.readline(size))


M = TypeVar("M", bound=MiddlewareMixin)


def browser_only(middleware: type[M]) -> type[M]:
    """`middleware` for the admin and pages, skipped by API requests (`/v1/…`, `/api/…`).

    Sessions, the logged-in user and messages serve a person signed in to the back office;
    an API request has none of them (DRF's views authenticate with API keys), yet every
    middleware costs each request a call, its setup and a response pass. The API surfaces
    skip them here; everything else, the admin included, keeps the whole chain. The security
    headers, CORS, the body limit and the error envelopes come from the middleware that
    stay. (For middleware with request and response hooks only: none of these has
    process_view.)
    """

    class BrowserOnly(middleware):  # type: ignore[valid-type,misc]  # a subclass made here
        def __call__(self, request: HttpRequest) -> Any:
            if not self.async_mode and is_api_path(request.path):
                return self.get_response(request)
            return super().__call__(request)

    BrowserOnly.__name__ = BrowserOnly.__qualname__ = middleware.__name__
    return BrowserOnly


BrowserSessionMiddleware = browser_only(SessionMiddleware)
BrowserAuthenticationMiddleware = browser_only(AuthenticationMiddleware)
BrowserMessageMiddleware = browser_only(MessageMiddleware)
