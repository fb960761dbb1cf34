"""Request guards shared by both public surfaces."""

import io
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from rest_framework.exceptions import ParseError

from hushmetrics.errors import PayloadTooLarge, api_error_response, is_api_path


def _too_large(request: HttpRequest) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return api_error_response(
        request, PayloadTooLarge(f"Request body too large (limit {limit} bytes)")
    )


class ApiBodyLimitMiddleware:
    """Refuse an API body over the size limit before anything reads it (413, JSON).

    Django checks DATA_UPLOAD_MAX_MEMORY_SIZE only when `request.body` or the form parser
    reads the body; DRF's JSON parser streams it instead, so the limit is enforced here,
    once, from Content-Length. A chunked body (no Content-Length) would read as empty in
    Django and its submission would be lost, so it is read here, up to the limit, and handed
    on with its real length.
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
            if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                return _too_large(request)
        return self.get_response(request)

    @staticmethod
    def _is_chunked(request: HttpRequest) -> bool:
        return not request.META.get("CONTENT_LENGTH") and "chunked" in (
            request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        )

    @staticmethod
    def _read_chunked(request: HttpRequest) -> HttpResponse | None:
        """Buffer a chunked body (the server de-chunks it); a 413 when it passes the limit."""
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = request.META["wsgi.input"].read(limit + 1)
        if len(body) > limit:
            return _too_large(request)
        request._stream = io.BytesIO(body)  # noqa: SLF001
        request.META["CONTENT_LENGTH"] = str(len(body))
        return None
