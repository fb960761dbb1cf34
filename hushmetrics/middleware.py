"""Request guards shared by both public surfaces."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from hushmetrics.errors import error_response, is_api_path


class ApiBodyLimitMiddleware:
    """Refuse an API body over the size limit before anything reads it (413, JSON).

    Django checks DATA_UPLOAD_MAX_MEMORY_SIZE only when `request.body` or the form parser
    reads the body; DRF's JSON parser streams it instead, so the limit is enforced here,
    once, from Content-Length.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api_path(request.path):
            raw = request.META.get("CONTENT_LENGTH") or "0"
            try:
                length = int(raw)
            except ValueError:
                return error_response(request, 400, "Invalid Content-Length header")
            if length < 0:
                return error_response(request, 400, "Invalid Content-Length header")
            if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                return error_response(
                    request,
                    413,
                    f"Request body too large (limit {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes)",
                )
        return self.get_response(request)
